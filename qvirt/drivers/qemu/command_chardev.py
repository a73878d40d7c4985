"""Character devices: the -chardev backend every serial port, console, channel, parallel port
and chardev-fed device (rng egd, ivshmem, smartcard passthrough) uses, and the guest-side
-device of serials, parallels, consoles and channels. libvirt 9.0 still writes -chardev in
key=value form (it has no JSON -chardev for QEMU 7.2)."""

from __future__ import annotations

from qvirt.conf.devices.chardev import (
    Channel,
    CharDevice,
    ChrSource,
    Console,
    Parallel,
    Serial,
)
from qvirt.conf.domain import Domain
from qvirt.drivers.qemu.command_props import Props, address_props, drop_none, keyval, to_json
from qvirt.errors import ConfigUnsupported, InternalError


def chardev_backend(chr_id: str, kind: str, sources: list[ChrSource], *,
                    protocol: str | None = None, log_file: str | None = None,
                    log_append: bool | None = None, role: str = "serial",
                    spice_name: str = "vdagent") -> str:
    """The -chardev value for one host side; ``role`` tells a serial from a parallel 'dev'."""
    src = sources[0] if sources else ChrSource()
    logs = (("logfile", log_file), ("logappend", log_append if log_file else None))
    if kind in ("null", "vc", "pty", "stdio"):
        return keyval(kind, ("id", chr_id), *logs)
    if kind == "dev":
        head = "parallel" if role == "parallel" else "serial"
        return keyval(head, ("id", chr_id), ("path", src.path), *logs)
    if kind in ("file", "pipe"):
        return keyval(kind, ("id", chr_id), ("path", src.path),
                      ("append", src.append if kind == "file" else None), *logs)
    if kind == "unix":
        if not src.path:
            # The runtime names the sockets it creates (agent channels) before building.
            raise InternalError(f"character device '{chr_id}' has no socket path")
        server = src.mode == "bind"
        return keyval("socket", ("id", chr_id), ("path", src.path), *_socket_tail(src, server),
                      *logs)
    if kind == "tcp":
        server = src.mode == "bind"
        return keyval("socket", ("id", chr_id), ("host", src.host), ("port", src.service),
                      ("telnet", True if protocol == "telnet" else None),
                      *_socket_tail(src, server),
                      ("tls-creds", tls_creds_id(chr_id) if src.tls else None), *logs)
    if kind == "udp":
        connect = next((s for s in sources if s.mode == "connect"), ChrSource())
        bind = next((s for s in sources if s.mode == "bind"), ChrSource())
        return keyval("udp", ("id", chr_id), ("host", connect.host or ""),
                      ("port", connect.service or "0"), ("localaddr", bind.host or ""),
                      ("localport", bind.service or "0"), *logs)
    if kind == "spicevmc":
        return keyval("spicevmc", ("id", chr_id), ("name", spice_name), *logs)
    if kind in ("spiceport", "dbus"):
        return keyval(kind, ("id", chr_id), ("name", src.channel), *logs)
    if kind == "qemu-vdagent":
        mouse = None if src.mouse_mode is None else src.mouse_mode == "client"
        return keyval("qemu-vdagent", ("id", chr_id), ("name", "vdagent"),
                      ("clipboard", src.clipboard_copypaste), ("mouse", mouse), *logs)
    raise ConfigUnsupported(f"unsupported chardev '{kind}'")


def _socket_tail(src: ChrSource, server: bool) -> list[tuple[str, object | None]]:
    tail: list[tuple[str, object | None]] = []
    if server:
        tail += [("server", True), ("wait", False)]
    if src.reconnect is not None and not server:
        tail.append(("reconnect", src.reconnect.timeout if src.reconnect.enabled else 0))
    return tail


TLS_DIR = "/etc/pki/qemu"


def tls_creds_id(owner: str) -> str:
    return f"obj{owner}_tls0"


def tls_object(owner: str, endpoint: str) -> list[str]:
    """The x509 credentials a TLS socket uses, from qemu.conf's default directory."""
    return ["-object", to_json({"qom-type": "tls-creds-x509", "id": tls_creds_id(owner),
                                "dir": TLS_DIR, "endpoint": endpoint, "verify-peer": True})]


def chardev_args(dev: CharDevice, role: str = "serial") -> list[str]:
    src = dev.sources[0] if dev.sources else None
    tls: list[str] = []
    if dev.type == "tcp" and src is not None and src.tls:
        tls = tls_object(f"char{dev.alias}", "server" if src.mode == "bind" else "client")
    return [*tls, "-chardev", chardev_backend(f"char{dev.alias}", str(dev.type), dev.sources,
                                        protocol=dev.protocol, log_file=dev.log_file,
                                        log_append=dev.log_append, role=role)]


_SERIAL_DRIVERS = {"isa-serial": "isa-serial", "usb-serial": "usb-serial",
                   "pci-serial": "pci-serial", "isa-debug": "isa-debugcon"}


def serial_args(dom: Domain, dev: Serial) -> list[str]:
    driver = _SERIAL_DRIVERS.get(str(dev.target_model or dev.target_type or "isa-serial"),
                                 str(dev.target_model))
    props: Props = {"driver": driver, "chardev": f"char{dev.alias}", "id": dev.alias}
    if driver == "isa-serial":
        props["index"] = dev.target_port or 0
    props.update(address_props(dom, dev))
    return [*chardev_args(dev), "-device", to_json(props)]


def parallel_args(dom: Domain, dev: Parallel) -> list[str]:
    props: Props = {"driver": "isa-parallel", "chardev": f"char{dev.alias}", "id": dev.alias}
    props.update(address_props(dom, dev))
    return [*chardev_args(dev, "parallel"), "-device", to_json(props)]


def channel_args(dom: Domain, dev: Channel) -> list[str]:
    if dev.target_type == "guestfwd":
        netdev = {"type": "user", "guestfwd": [{"str": f"tcp:{dev.target_address}:"
                                                       f"{dev.target_port}-chardev:"
                                                       f"char{dev.alias}"}],
                  "id": dev.alias}
        return [*chardev_args(dev), "-netdev", to_json(netdev)]
    return [*chardev_args(dev), "-device", to_json(_virtio_port(dom, dev, "virtserialport"))]


def console_args(dom: Domain, dev: Console) -> list[str]:
    """Only virtio consoles are devices of their own; a serial console is its serial port."""
    if dev.serial is not None or dev.target_type != "virtio":
        return []
    return [*chardev_args(dev), "-device", to_json(_virtio_port(dom, dev, "virtconsole"))]


def _virtio_port(dom: Domain, dev: Channel | Console, driver: str) -> Props:
    props: Props = {"driver": driver}
    props.update(address_props(dom, dev))
    props.update({"chardev": f"char{dev.alias}", "id": dev.alias})
    name = dev.target_name if isinstance(dev, Channel) else None
    if dev.type == "spicevmc" and name is None:
        name = "com.redhat.spice.0"
    if name is not None:
        props["name"] = name
    return drop_none(props)
