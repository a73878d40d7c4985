"""<graphics> and <video> devices.

One Graphics class serves every framebuffer type: libvirt writes each type's attributes in an
order that is consistent across the types, so one ORDER holds them all and post_parse() forgets
what the given type does not take, as libvirt's per-type parsers do.

Ports follow libvirt's inactive form: ``port='-1'`` means "allocate" (autoport), and an
allocated port is never written back; a listen of type socket or none has no ports at all.
"""

from __future__ import annotations

from typing import Any

from qvirt.conf.devices.base import DeviceDef
from qvirt.conf.devices.iommu import VIRTIO_DRIVER_ORDER, VirtioDriver
from qvirt.conf.domain_units import Strict
from qvirt.conf.xmlobject import Attr, Child, Choice, Conv, Int, UInt, XMLObject, YesNo
from qvirt.conf.xmltree import Node
from qvirt.errors import ConfigUnsupported, InternalError, XMLError

GRAPHICS_TYPES = Choice("sdl", "vnc", "rdp", "desktop", "spice", "egl-headless", "dbus")
VIDEO_TYPES = Strict(Choice("default", "vga", "cirrus", "vmvga", "xen", "vbox", "qxl",
                            "parallels", "virtio", "gop", "none", "bochs", "ramfb"),
                     lambda v: ConfigUnsupported(f"unknown video model '{v}'"))


class _LooseYesNo(Conv[bool]):
    """VNC's autoport: anything but yes or no counts as not written."""

    def parse(self, text: str) -> bool:
        return {"yes": True, "no": False}.get(text)  # type: ignore[return-value]

    def format(self, value: bool) -> str:
        return "yes" if value else "no"


class SecretAttr(Attr):
    """A credential: parsed and kept, but never written, as libvirt's dumpxml leaves it out
    unless asked for security information."""

    def format(self, value: Any, node: Node) -> None:
        return


class Listen(XMLObject):
    TAG = "listen"
    ORDER = ("type", "address", "network", "socket")
    type = Attr("@type", Choice("address", "network", "socket", "none"), required=True)
    address = Attr("@address")
    network = Attr("@network")
    socket = Attr("@socket")

    def post_parse(self) -> None:
        if self.type == "network" and self.network is None:
            raise XMLError("'network' attribute is required for listen type 'network'")
        keep = {"address": "address", "network": "network", "socket": "socket"}.get(self.type)
        for name in ("address", "network", "socket"):
            if name != keep:
                setattr(self, name, None)


class SpiceChannel(XMLObject):
    TAG = "channel"
    ORDER = ("name", "mode")
    name = Attr("@name", Choice("main", "display", "inputs", "cursor", "playback", "record",
                                "smartcard", "usbredir"), required=True)
    mode = Attr("@mode", Choice("secure", "insecure", "any"), required=True)


# Attributes and children each graphics type takes (beyond type, listens and gl).
_GRAPHICS_FIELDS: dict[str, frozenset[str]] = {
    "vnc": frozenset({"socket", "port", "autoport", "websocket", "listen", "keymap",
                      "share_policy", "power_control", "passwd", "passwd_valid_to",
                      "connected", "listens", "audio_id"}),
    "spice": frozenset({"port", "tls_port", "autoport", "listen", "keymap", "default_mode",
                        "passwd", "passwd_valid_to", "connected", "listens", "channels",
                        "image_compression", "jpeg_compression", "zlib_compression",
                        "playback_compression", "streaming_mode", "mouse_mode",
                        "clipboard_copypaste", "filetransfer_enable", "gl_enable",
                        "gl_rendernode"}),
    "sdl": frozenset({"display", "xauth", "fullscreen", "gl_enable"}),
    "rdp": frozenset({"port", "autoport", "replace_user", "multi_user", "listen", "listens"}),
    "desktop": frozenset({"display", "fullscreen"}),
    "egl-headless": frozenset({"gl_rendernode"}),
    "dbus": frozenset({"dbus_address", "p2p", "gl_enable", "gl_rendernode"}),
}


class Graphics(DeviceDef):
    TAG = "graphics"
    ORDER = ("type", "display", "xauth", "fullscreen", "socket", "port", "tls_port", "autoport",
             "websocket", "replace_user", "multi_user", "listen", "keymap", "default_mode",
             "share_policy", "power_control", "passwd", "passwd_valid_to", "connected",
             "dbus_address", "p2p", "listens", "audio_id", "channels", "image_compression",
             "jpeg_compression", "zlib_compression", "playback_compression", "streaming_mode",
             "mouse_mode", "clipboard_copypaste", "filetransfer_enable", "gl_enable",
             "gl_rendernode", "alias", "address")
    type = Attr("@type", GRAPHICS_TYPES, required=True)
    display = Attr("@display")
    xauth = Attr("@xauth")
    fullscreen = Attr("@fullscreen", YesNo)
    socket = Attr("@socket")
    port = Attr("@port", Strict(Int, lambda v: InternalError(f"cannot parse vnc port {v}")))
    tls_port = Attr("@tlsPort", Int)
    autoport = Attr("@autoport", _LooseYesNo())
    websocket = Attr("@websocket", Int)
    replace_user = Attr("@replaceUser", YesNo)
    multi_user = Attr("@multiUser", YesNo)
    listen = Attr("@listen")
    keymap = Attr("@keymap")
    default_mode = Attr("@defaultMode", Choice("any", "secure", "insecure"))
    share_policy = Attr("@sharePolicy", Choice("allow-exclusive", "force-shared", "ignore"))
    power_control = Attr("@powerControl", YesNo)
    passwd = SecretAttr("@passwd")
    passwd_valid_to = Attr("@passwdValidTo")
    connected = Attr("@connected", Choice("keep", "disconnect", "fail"))
    dbus_address = Attr("@address")
    p2p = Attr("@p2p", YesNo)
    listens = Child(Listen, single=False)
    audio_id = Attr("audio/@id", UInt)
    channels = Child(SpiceChannel, single=False)
    image_compression = Attr("image/@compression", Choice(
        "auto_glz", "auto_lz", "quic", "glz", "lz", "off"))
    jpeg_compression = Attr("jpeg/@compression", Choice("auto", "never", "always"))
    zlib_compression = Attr("zlib/@compression", Choice("auto", "never", "always"))
    playback_compression = Attr("playback/@compression", Choice("on", "off"))
    streaming_mode = Attr("streaming/@mode", Choice("filter", "all", "off"))
    mouse_mode = Attr("mouse/@mode", Choice("server", "client"))
    clipboard_copypaste = Attr("clipboard/@copypaste", YesNo)
    filetransfer_enable = Attr("filetransfer/@enable", YesNo)
    gl_enable = Attr("gl/@enable", YesNo)
    gl_rendernode = Attr("gl/@rendernode")

    def post_parse(self) -> None:
        keep = _GRAPHICS_FIELDS[self.type]
        for name in self.ORDER[1:-2]:
            if name not in keep:
                setattr(self, name, [] if name in ("listens", "channels") else None)
        # Mode "any" is the default for the whole display and for each channel: not written.
        if self.default_mode == "any":
            self.default_mode = None
        self.channels = [c for c in self.channels if c.mode != "any"]
        self._merge_listen_attrs()
        self._normalize_ports()

    def _merge_listen_attrs(self) -> None:
        """The legacy listen= and socket= attributes are the first <listen>, written both
        ways."""
        if "listens" not in _GRAPHICS_FIELDS[self.type]:
            return
        if self.socket is not None:
            # VNC's socket= wins over any <listen> written beside it.
            self.listens = [Listen(type="socket", socket=self.socket)]
        first = self.listens[0] if self.listens else None
        if self.listen is not None:
            if first is None:
                first = Listen(type="address", address=self.listen)
                self.listens = [first]
            elif first.type == "address" and first.address is None:
                first.address = self.listen
            elif first.type == "address" and first.address != self.listen:
                raise ConfigUnsupported(
                    f"graphics 'listen' attribute '{self.listen}' must match 'address' "
                    f"attribute of first listen element (found '{first.address}')")
        self.listen = first.address if first is not None and first.type == "address" else None
        if self.type == "vnc":
            self.socket = first.socket if first is not None and first.type == "socket" else None

    def _normalize_ports(self) -> None:
        if self.type not in ("vnc", "spice", "rdp"):
            return
        if self.listens and self.listens[0].type in ("socket", "none"):
            self.port = self.tls_port = self.autoport = self.websocket = None
            return
        if self.type == "spice":
            # SPICE keeps port='-1' as written; only autoport= asks for allocation.
            self.port = self.port or None
            self.tls_port = self.tls_port or None
            if self.autoport:
                self.port = self.tls_port = None
            self.autoport = bool(self.autoport)
            return
        if self.port == -1:
            self.autoport = True
        elif self.autoport is None:
            # No port at all means "allocate"; an explicit port='0' does not.
            self.autoport = self.port is None
        self.port = -1 if self.autoport else (self.port or None)


class VideoResolution(XMLObject):
    TAG = "resolution"
    ORDER = ("x", "y")
    x = Attr("@x", UInt, required=True)
    y = Attr("@y", UInt, required=True)


class Video(DeviceDef, VirtioDriver):
    TAG = "video"
    KEEP_EMPTY = True
    ORDER = (*VIRTIO_DRIVER_ORDER, "driver_name", "driver_vgaconf", "model", "ram", "vram",
             "vram64", "vgamem", "heads", "primary", "accel3d", "accel2d", "rendernode",
             "resolution", "alias", "address")
    driver_name = Attr("driver/@name", Choice("qemu", "vhostuser"))
    driver_vgaconf = Attr("driver/@vgaconf", Choice("io", "on", "off"))
    model = Attr("model/@type", VIDEO_TYPES)
    ram = Attr("model/@ram", UInt)
    vram = Attr("model/@vram", UInt)
    vram64 = Attr("model/@vram64", UInt)
    vgamem = Attr("model/@vgamem", UInt)
    heads = Attr("model/@heads", UInt)
    primary = Attr("model/@primary", YesNo)
    accel3d = Attr("model/acceleration/@accel3d", YesNo)
    accel2d = Attr("model/acceleration/@accel2d", YesNo)
    rendernode = Attr("model/acceleration/@rendernode")
    resolution = Child(VideoResolution, path="model")
