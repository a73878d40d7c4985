"""QemuDriver's definitions, look-ups and errors, and hostile input: each answered with
libvirt's error, nothing left running or half written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qvirt.drivers.qemu.driver import QemuDriver
from qvirt.drivers.qemu.state import CreateFlags, Defined, Event, Undefined
from qvirt.errors import ErrorDomain, ErrorNumber, QvirtError
from tests.drivers.qemu.conftest import (
    Drivers,
    Events,
    qemu_pids_under,
    tiny_xml,
    wait_state,
)

UUID = "a05dfe75-4eb0-42e2-ae93-ed489e7d6208"
BARE = ("<domain type='qemu'><name>{name}</name><uuid>{uuid}</uuid><memory>65536</memory>"
        "<os><type arch='x86_64'>hvm</type></os></domain>")


def bare(name: str, uuid: str = UUID) -> str:
    return BARE.format(name=name, uuid=uuid)


def error_of(call: object, *args: object) -> QvirtError:
    assert callable(call)
    with pytest.raises(QvirtError) as caught:
        call(*args)
    return caught.value


def test_lookups_fail_as_libvirt_does(driver: QemuDriver) -> None:
    err = error_of(driver.domain_lookup_by_name, "nosuch")
    assert (err.code, err.domain) == (ErrorNumber.NO_DOMAIN, ErrorDomain.QEMU)
    assert err.message == "Domain not found: no domain with matching name 'nosuch'"
    assert error_of(driver.domain_lookup_by_id, 9999).message == \
        "Domain not found: no domain with matching id 9999"
    assert error_of(driver.domain_lookup_by_uuid, UUID).message == \
        f"Domain not found: no domain with matching uuid '{UUID}'"


def test_define_rejects_clashing_names_and_uuids(driver: QemuDriver, events: Events,
                                                 root: Path) -> None:
    ref = driver.domain_define_xml_flags(bare("qddup"))
    err = error_of(driver.domain_define_xml_flags, bare("qddup2"))
    assert (err.code, err.domain) == (ErrorNumber.OPERATION_FAILED, ErrorDomain.DOMAIN)
    assert err.message == f"operation failed: domain 'qddup' is already defined with uuid {UUID}"
    other = "b05dfe75-4eb0-42e2-ae93-ed489e7d6208"
    assert error_of(driver.domain_define_xml_flags, bare("qddup", other)).message == \
        f"operation failed: domain 'qddup' already exists with uuid {UUID}"
    assert error_of(driver.domain_create_xml, bare("qddup", other)).message == \
        f"operation failed: domain 'qddup' already exists with uuid {UUID}"
    # The same name and uuid again updates the definition.
    assert driver.domain_define_xml_flags(bare("qddup")) == ref
    assert (root / "etc" / "qemu" / "qddup.xml").exists()
    driver.domain_undefine_flags(ref)
    assert not (root / "etc" / "qemu" / "qddup.xml").exists()
    assert error_of(driver.domain_lookup_by_name, "qddup").code == ErrorNumber.NO_DOMAIN
    events.wait_for(("qddup", Event.UNDEFINED, Undefined.REMOVED))
    assert events.seen == [("qddup", Event.DEFINED, Defined.ADDED),
                           ("qddup", Event.DEFINED, Defined.UPDATED),
                           ("qddup", Event.UNDEFINED, Undefined.REMOVED)]


def test_definitions_persist_across_drivers(drivers: Drivers) -> None:
    first = drivers.open()
    first.domain_define_xml_flags(bare("qdkeep"))
    first.domain_set_autostart(first.domain_lookup_by_name("qdkeep"), False)
    first.connect_close()
    second = drivers.open()
    ref = second.domain_lookup_by_name("qdkeep")
    assert ref.uuid == UUID and not second.domain_get_autostart(ref)
    assert "<uuid>a05dfe75-4eb0-42e2-ae93-ed489e7d6208</uuid>" in second.domain_get_xml_desc(ref)


def test_info_of_an_inactive_domain(driver: QemuDriver) -> None:
    ref = driver.domain_define_xml_flags(bare("qdinfo"))
    info = driver.domain_get_info(ref)
    assert (info.state, info.max_mem, info.memory, info.nr_virt_cpu, info.cpu_time) == \
        (5, 65536, 65536, 1, 0)
    assert driver.domain_get_max_memory(ref) == 65536
    assert driver.domain_get_os_type(ref) == "hvm"
    assert driver.connect_get_type() == "QEMU"
    assert driver.connect_get_version() == 7_002_000 + driver.connect_get_version() % 1000


def test_unknown_flags_are_refused(driver: QemuDriver) -> None:
    ref = driver.domain_define_xml_flags(bare("qdflags"))
    err = error_of(driver.domain_undefine_flags, ref, 0x1000)
    assert err.code == ErrorNumber.INVALID_ARG
    assert err.message == ("invalid argument: unsupported flags (0x1000) in function "
                           "domain_undefine_flags")


def test_too_long_a_name_leaves_nothing(driver: QemuDriver, root: Path) -> None:
    slash = error_of(driver.domain_define_xml_flags, bare("qd/../a"))
    assert slash.message == "XML error: name qd/../a cannot contain '/'"
    name = "qd" + "x" * 253
    err = error_of(driver.domain_define_xml_flags, bare(name))
    assert err.code == ErrorNumber.SYSTEM_ERROR
    assert err.message == (f"Failed to create file '{root}/etc/qemu/{name}.xml.new': "
                           "File name too long")
    assert driver.connect_list_all_domains() == []
    assert list((root / "etc" / "qemu").glob("*.xml*")) == []
    err = error_of(driver.domain_create_xml, bare(name))
    assert err.message == (f"failed to create logfile {root}/log/qemu/{name}.log: "
                           "File name too long")
    assert driver.connect_list_all_domains() == []
    assert qemu_pids_under(root.parent) == []
    assert sorted(p.name for p in (root / "run" / "qemu").iterdir()) == ["driver.pid",
                                                                         "last-id"]


def test_missing_files_refused_before_qemu_runs(driver: QemuDriver, root: Path) -> None:
    disk = ("<devices><disk type='file' device='disk'><source file='/nonexistent/d.qcow2'/>"
            "<target dev='vda' bus='virtio'/></disk></devices>")
    ref = driver.domain_define_xml_flags(bare("qdnofile").replace("</domain>",
                                                                  disk + "</domain>"))
    err = error_of(driver.domain_create_with_flags, ref)
    assert (err.code, err.domain) == (ErrorNumber.SYSTEM_ERROR, ErrorDomain.STORAGE)
    assert err.message == "Cannot access storage file '/nonexistent/d.qcow2': " \
                          "No such file or directory"
    kernel = bare("qdnokernel", "c05dfe75-4eb0-42e2-ae93-ed489e7d6208").replace(
        "</type>", "</type><kernel>/nonexistent/vmlinuz</kernel>")
    err = error_of(driver.domain_create_xml, kernel)
    assert (err.code, err.domain) == (ErrorNumber.SYSTEM_ERROR, ErrorDomain.SECURITY)
    assert err.message == "unable to stat: /nonexistent/vmlinuz: No such file or directory"
    assert [r.name for r in driver.connect_list_all_domains()] == ["qdnofile"]
    assert driver.domain_get_state(ref) == (5, 0)
    assert list((root / "run" / "qemu").glob("*.xml")) == []


@pytest.mark.integration
def test_qemu_that_refuses_to_start(driver: QemuDriver, root: Path) -> None:
    xml = bare("qdfail").replace(
        "<domain type='qemu'>",
        "<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>").replace(
        "</domain>", "<qemu:commandline><qemu:arg value='-bogus'/></qemu:commandline></domain>")
    ref = driver.domain_define_xml_flags(xml)
    err = error_of(driver.domain_create_with_flags, ref)
    assert (err.code, err.domain) == (ErrorNumber.INTERNAL_ERROR, ErrorDomain.QEMU)
    assert re.fullmatch(r"internal error: qemu unexpectedly closed the monitor: "
                        r"(\S+ )?qemu-system-x86_64: -bogus: invalid option", err.message)
    assert driver.domain_get_state(ref) == (5, 6)
    log = (root / "log" / "qemu" / "qdfail.log").read_text()
    assert "-bogus: invalid option" in log and "shutting down, reason=failed" in log
    assert qemu_pids_under(root.parent) == []
    assert sorted(p.name for p in (root / "run" / "qemu").iterdir()) == ["driver.pid",
                                                                         "last-id"]


@pytest.mark.integration
def test_hostile_names_run_and_stop(driver: QemuDriver, tiny_image: Path, tmp_path: Path,
                                    root: Path) -> None:
    names = ["it's a \"$(touch pwned)\" `id` name", ".."]
    refs = []
    for n, name in enumerate(names):
        xml, _console = tiny_xml(tiny_image, tmp_path / f"g{n}", name=name)
        refs.append(driver.domain_create_with_flags(driver.domain_define_xml_flags(xml)))
        assert driver.domain_get_state(refs[-1]) == (1, 1)
        assert driver.domain_lookup_by_name(name) == refs[-1]
    for name, ref in zip(names, refs, strict=True):
        assert (root / "etc" / "qemu" / f"{name}.xml").is_file()
        assert (root / "run" / "qemu" / f"{name}.xml").is_file()
        driver.domain_destroy_flags(ref)
        assert driver.domain_get_state(ref) == (5, 2)
    assert not any(p.name == "pwned" for p in tmp_path.rglob("*"))
    assert not Path("pwned").exists()
    assert qemu_pids_under(root.parent) == []


@pytest.mark.integration
def test_autostart_at_driver_start(drivers: Drivers, tiny_image: Path, tmp_path: Path,
                                   root: Path) -> None:
    xml, console = tiny_xml(tiny_image, tmp_path / "g")
    first = drivers.open()
    ref = first.domain_define_xml_flags(xml)
    first.domain_set_autostart(ref, True)
    assert (root / "etc" / "qemu" / "autostart" / "tiny.xml").is_symlink()
    first.connect_close()
    second = drivers.open()
    ref = second.domain_lookup_by_name("tiny")
    wait_state(second, ref, (1, 1))
    console.wait_for("TINY-GUEST-READY")
    # Undefining a running domain leaves it running, transient.
    second.domain_undefine_flags(ref)
    assert second.domain_is_active(ref) and not second.domain_is_persistent(ref)
    assert not (root / "etc" / "qemu" / "autostart" / "tiny.xml").exists()
    second.domain_destroy_flags(ref)
    assert second.connect_list_all_domains() == []


@pytest.mark.integration
def test_autodestroy_guest_dies_with_the_connection(drivers: Drivers, tiny_image: Path,
                                                    tmp_path: Path, root: Path) -> None:
    drv = drivers.open()
    keep_xml, _ = tiny_xml(tiny_image, tmp_path / "keep", name="keep")
    gone_xml, _ = tiny_xml(tiny_image, tmp_path / "gone", name="gone")
    keep = drv.domain_create_xml(keep_xml)
    gone = drv.domain_create_xml(gone_xml, CreateFlags.START_AUTODESTROY)
    kept_pid, gone_pid = drv.qemu_pid(keep), drv.qemu_pid(gone)
    drv.connect_close()
    assert kept_pid in qemu_pids_under(root.parent)
    assert gone_pid not in qemu_pids_under(root.parent)
    again = drivers.open()
    assert [r.name for r in again.connect_list_all_domains()] == ["keep"]
