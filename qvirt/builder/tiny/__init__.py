"""The ``tiny`` template: a Debian cloud kernel and a busybox initramfs, booting in seconds.

It exists for tests and demos: it prints markers on the serial console, runs qemu-ga, powers off
on the ACPI button, takes a DHCP lease on every NIC and keeps a data disk. What it does at boot
is in ``files/etc/rc.sysinit``; what it is made of is the tables below.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from qvirt.builder import debs
from qvirt.builder.assemble import add_program, module_order, resolve_in
from qvirt.builder.cpio import Archive

KERNEL_META = "linux-image-cloud-amd64"
BUSYBOX = "busybox-static"

# Loaded at boot, with their dependencies ahead of them (see assemble.module_order).
MODULES = (
    "virtio_pci", "virtio_blk", "virtio_net", "virtio_console", "virtio_balloon",
    "virtio_rng", "button", "evdev", "pvpanic_mmio", "pvpanic_pci",
)

# (package, path of a program in it): each goes in with the libraries it links against.
PROGRAMS = (
    ("qemu-guest-agent", "usr/sbin/qemu-ga"),
    ("e2fsprogs", "sbin/mke2fs"),
)

# (package, path of a data file in it) that a program above reads.
DATA_FILES = (("e2fsprogs", "etc/mke2fs.conf"),)

FILES = Path(__file__).with_name("files")
DISK_SIZE = "256M"
MEMORY_MIB = 256


def source_packages(cache: Path) -> dict[str, str]:
    """Package name -> candidate version of everything the image is made from.

    The kernel metapackage names the versioned kernel package through its Depends line.
    """
    top = [KERNEL_META, BUSYBOX, *sorted({p for p, _ in PROGRAMS})]
    stanzas = debs.candidates(top, cache)
    kernel = next(
        (d.split()[0] for d in stanzas[KERNEL_META].get("Depends", "").split(",")
         if d.strip().startswith("linux-image-")),
        None,
    )
    if kernel is None:
        raise debs.PackageError(f"{KERNEL_META} names no kernel package in its Depends")
    versions = {name: s["Version"] for name, s in stanzas.items()}
    versions[kernel] = stanzas[KERNEL_META]["Version"]
    return versions


def kernel_package(versions: dict[str, str]) -> str:
    return next(n for n in versions if n.startswith("linux-image-") and n != KERNEL_META)


def make_images(versions: dict[str, str], debs_dir: Path, dest: Path) -> None:
    """Write dest/vmlinuz and dest/initrd.img from the packages named in ``versions``."""
    with tempfile.TemporaryDirectory(prefix="stage-", dir=dest.parent) as stage_name:
        stage = Path(stage_name)
        kernel_root, userland = stage / "kernel", stage / "userland"
        (kernel_deb,) = debs.download([kernel_package(versions)], debs_dir)
        debs.unpack(kernel_deb, kernel_root)
        program_packages = sorted({p for p, _ in PROGRAMS})
        for deb in debs.download(
            [BUSYBOX, *debs.depends_closure(program_packages)], debs_dir
        ):
            debs.unpack(deb, userland)

        archive = Archive()
        for d in ("proc", "sys", "dev", "run", "tmp", "data", "root", "var"):
            archive.add_dir(d)
        archive.add_symlink("var/run", "../run")
        # The kernel opens /dev/console for init before anything can mount devtmpfs.
        archive.add_chardev("dev/console", 5, 1)

        order = module_order(kernel_root, MODULES)
        for name, path in order:
            archive.add_file(f"lib/modules/{name}.ko", path.read_bytes())
        archive.add_file("etc/modules.order", "".join(f"{n}\n" for n, _ in order).encode())

        for _package, program in PROGRAMS:
            add_program(archive, userland, program)
        for _package, data_file in DATA_FILES:
            archive.add_file(data_file, resolve_in(userland, data_file).read_bytes())
        _add_busybox(archive, userland)
        for f in sorted(FILES.rglob("*")):
            if f.is_file():
                perm = 0o755 if f.stat().st_mode & 0o111 else 0o644
                archive.add_file(str(f.relative_to(FILES)), f.read_bytes(), perm)

        (vmlinuz,) = (kernel_root / "boot").glob("vmlinuz-*")
        shutil.copyfile(vmlinuz, dest / "vmlinuz")
        (dest / "initrd.img").write_bytes(archive.pack())


def _add_busybox(archive: Archive, userland: Path) -> None:
    """busybox as /bin/busybox, a link per applet, and /init (busybox init reads /etc/inittab).

    Applets never shadow a real program already placed (mke2fs from e2fsprogs makes ext4).
    """
    busybox = resolve_in(userland, "bin/busybox")
    archive.add_file("bin/busybox", busybox.read_bytes(), 0o755)
    listing = subprocess.run(
        [str(busybox), "--list-full"], capture_output=True, text=True, check=True
    ).stdout
    for applet in listing.split():
        if applet not in archive:
            depth = applet.count("/")
            archive.add_symlink(applet, "../" * depth + "bin/busybox")
    archive.add_symlink("init", "bin/busybox")


def domain_xml(directory: Path, kvm: bool) -> str:
    """A libvirt domain that boots the image in ``directory``."""
    d = directory.resolve()
    return f"""<domain type='{"kvm" if kvm else "qemu"}'>
  <name>tiny</name>
  <memory unit='MiB'>{MEMORY_MIB}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{d}/vmlinuz</kernel>
    <initrd>{d}/initrd.img</initrd>
    <cmdline>console=ttyS0 quiet</cmdline>
  </os>
  <features>
    <acpi/>
  </features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='{d}/disk.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='user'>
      <model type='virtio'/>
    </interface>
    <serial type='pty'>
      <target port='0'/>
    </serial>
    <console type='pty'>
      <target type='serial' port='0'/>
    </console>
    <channel type='unix'>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>
    <panic model='isa'/>
  </devices>
</domain>
"""
