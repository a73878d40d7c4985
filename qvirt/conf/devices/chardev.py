"""<serial>, <parallel>, <console>, <channel>: character devices (virDomainChrDef).

The element names the guest side (configured by <target>), ``type`` the host side (configured
by <source>). libvirt's parser reads only the source attributes that the host-side type uses
and forgets the rest, so post_parse() does the same through ``_SOURCE_FIELDS``.

A console that libvirt treats as an alias of the first serial port (the HVM back-compat rule of
virDomainDefAddConsoleCompat) is written as a copy of that serial port: ``Console.serial``
links the two, and formatting reads the serial port at output time, so that the addresses the
address stage assigns to the serial port appear on the console too, as in libvirt.
"""

from __future__ import annotations

from typing import Any

from qvirt.conf.devices.base import DeviceDef
from qvirt.conf.domain_units import Strict
from qvirt.conf.xmlobject import Attr, Child, Choice, Conv, OnOff, UInt, XMLObject, YesNo
from qvirt.conf.xmltree import Node
from qvirt.errors import ConfigUnsupported, InternalError, XMLError

CHR_TYPES = Strict(
    Choice("null", "vc", "pty", "dev", "file", "pipe", "stdio", "udp", "tcp", "unix",
           "spicevmc", "spiceport", "nmdm", "qemu-vdagent", "dbus"),
    lambda v: ConfigUnsupported(f"unknown type presented to host for character device: {v}"))
PORT = Strict(UInt, lambda v: XMLError(f"Invalid port number: {v}"))


def target_types(*values: str) -> Conv[str]:
    return Strict(Choice(*values), lambda v: ConfigUnsupported(
        f"unknown target type '{v}' specified for character device"))


class Reconnect(XMLObject):
    TAG = "reconnect"
    ORDER = ("enabled", "timeout")
    enabled = Attr("@enabled", YesNo)
    timeout = Attr("@timeout", UInt)


class SourceSeclabel(XMLObject):
    """A per-socket security label override (only relabel and label make sense here)."""

    TAG = "seclabel"
    ORDER = ("model", "relabel", "label")
    model = Attr("@model")
    relabel = Attr("@relabel", YesNo)
    label = Attr("label")


class ChrSource(XMLObject):
    """One <source>. UDP has two of them, one per mode."""

    TAG = "source"
    ORDER = ("mode", "host", "service", "path", "append", "tls", "channel", "master", "slave",
             "seclabels", "reconnect", "clipboard_copypaste", "mouse_mode")
    mode = Attr("@mode", Choice("bind", "connect"))
    host = Attr("@host")
    service = Attr("@service")
    path = Attr("@path")
    append = Attr("@append", OnOff)
    tls = Attr("@tls", YesNo)
    channel = Attr("@channel")
    master = Attr("@master")
    slave = Attr("@slave")
    seclabels = Child(SourceSeclabel, single=False)
    reconnect = Child(Reconnect)
    clipboard_copypaste = Attr("clipboard/@copypaste", YesNo)
    mouse_mode = Attr("mouse/@mode", Choice("client", "server"))


# What libvirt's parser keeps of <source> for each host-side type.
_SOURCE_FIELDS: dict[str, frozenset[str]] = {
    "pty": frozenset(),  # the allocated path is runtime state
    "dev": frozenset({"path", "seclabels"}),
    "pipe": frozenset({"path", "seclabels"}),
    "file": frozenset({"path", "append", "seclabels"}),
    "unix": frozenset({"mode", "path", "seclabels", "reconnect"}),
    "tcp": frozenset({"mode", "host", "service", "tls", "reconnect"}),
    "udp": frozenset({"mode", "host", "service"}),
    "spiceport": frozenset({"channel"}),
    "dbus": frozenset({"channel"}),
    "nmdm": frozenset({"master", "slave"}),
    "qemu-vdagent": frozenset({"clipboard_copypaste", "mouse_mode"}),
}


class CharDevice(DeviceDef):
    """What every character device shares: the host side."""

    type = Attr("@type", CHR_TYPES)
    sources = Child(ChrSource, single=False)
    protocol = Attr("protocol/@type", Choice("raw", "telnet", "telnets", "tls"))
    log_file = Attr("log/@file")
    log_append = Attr("log/@append", OnOff)

    def post_parse(self) -> None:
        if self.type is None:
            self.type = "pty"
        if len(self.sources) > 1 and self.type != "udp":
            raise XMLError("only one source element is allowed for character device")
        keep = _SOURCE_FIELDS.get(self.type, frozenset())
        for src in self.sources:
            for name, _ in src.fields():
                if name not in keep:
                    setattr(src, name, [] if name == "seclabels" else None)
            if self.type in ("tcp", "unix", "udp") and src.mode is None:
                src.mode = "connect"
        if self.type == "udp":
            # One bind and one connect address, the first of each, written bind first.
            by_mode: dict[str, ChrSource] = {}
            for src in self.sources:
                by_mode.setdefault(src.mode, src)
            self.sources = [by_mode[m] for m in ("bind", "connect") if m in by_mode]
        self.sources = [s for s in self.sources if self._source_written(s)]
        self.protocol = (self.protocol or "raw") if self.type == "tcp" else None
        self._check_source()

    def _source_written(self, src: ChrSource) -> bool:
        """Whether libvirt prints this source: a unix socket without a path has none."""
        if self.type == "unix":
            return src.path is not None
        return any(getattr(src, n) not in (None, []) for n, _ in src.fields() if n != "mode")

    def _check_source(self) -> None:
        src = self.sources[0] if self.sources else ChrSource()
        if self.type == "tcp":
            if src.host is None:
                raise InternalError("Missing source host attribute for char device")
            if src.service is None:
                raise InternalError("Missing source service attribute for char device")
        if self.type in ("dev", "file", "pipe") and src.path is None:
            raise InternalError("Missing source path attribute for char device")
        if self.type == "udp" and not any(s.service for s in self.sources):
            raise InternalError("Missing source service attribute for char device")


# The serial target type each target model belongs to (virDomainChrSerialTargetModel).
_MODEL_TARGETS = {"isa-serial": "isa-serial", "usb-serial": "usb-serial",
                  "pci-serial": "pci-serial", "spapr-vty": "spapr-vio-serial",
                  "pl011": "system-serial", "16550a": "system-serial",
                  "sclpconsole": "sclp-serial", "sclplmconsole": "sclp-serial",
                  "isa-debugcon": "isa-debug"}


class Serial(CharDevice):
    TAG = "serial"
    ORDER = ("type", "sources", "protocol", "log_file", "log_append", "target_type",
             "target_port", "target_model", "alias", "address")
    target_type = Attr("target/@type", target_types(
        "isa-serial", "usb-serial", "pci-serial", "spapr-vio-serial", "system-serial",
        "sclp-serial", "isa-debug"))
    target_port = Attr("target/@port", PORT)
    target_model = Attr("target/model/@name", Choice(*_MODEL_TARGETS))

    def post_parse(self) -> None:
        super().post_parse()
        needed = _MODEL_TARGETS.get(self.target_model or "")
        if needed is not None and (self.target_type or "isa-serial") != needed:
            raise ConfigUnsupported(f"Target model '{self.target_model}' requires target "
                                    f"type '{needed}'")


class Parallel(CharDevice):
    TAG = "parallel"
    ORDER = ("type", "sources", "protocol", "log_file", "log_append", "target_port", "alias",
             "address")
    target_port = Attr("target/@port", PORT)


class Console(CharDevice):
    TAG = "console"
    ORDER = ("type", "tty", "sources", "protocol", "log_file", "log_append", "target_type",
             "target_port", "alias", "address")
    # A running pty console's path again, as the legacy attribute libvirt still prints.
    tty = Attr("@tty")
    target_type = Attr("target/@type", target_types(
        "serial", "xen", "uml", "virtio", "lxc", "openvz", "sclp", "sclplm"))
    target_port = Attr("target/@port", PORT)

    def __init__(self, **values: Any) -> None:
        super().__init__(**values)
        self.serial: Serial | None = None

    def to_node(self) -> Node:
        if self.serial is None:
            return super().to_node()
        node = self.serial.to_node()
        node.tag = self.TAG
        if self.tty is not None:
            node.attrs = {"type": node.attrs["type"], "tty": self.tty,
                          **{k: v for k, v in node.attrs.items() if k != "type"}}
        target = Node("target", {"type": "serial"})
        if self.serial.target_port is not None:
            target.attrs["port"] = str(self.serial.target_port)
        node.children = [target if isinstance(c, Node) and c.tag == "target" else c
                         for c in node.children]
        return node


class Channel(CharDevice):
    TAG = "channel"
    ORDER = ("type", "sources", "protocol", "log_file", "log_append", "target_type",
             "target_address", "target_port", "target_name", "target_state", "alias", "address")
    target_type = Attr("target/@type", target_types("guestfwd", "virtio", "xen"))
    target_address = Attr("target/@address")
    target_port = Attr("target/@port", PORT)
    target_name = Attr("target/@name")
    # Runtime state: read (any value) and forgotten at define.
    target_state = Attr("target/@state")

    def post_parse(self) -> None:
        super().post_parse()
        if self.target_type == "guestfwd":
            if self.target_address is None:
                raise XMLError("guestfwd channel does not define a target address")
            if self.target_port is None:
                raise XMLError("Missing required attribute 'port' in element 'target'")
