"""<os>: what the guest boots (firmware, kernel, boot devices) and <sysinfo>, the SMBIOS tables
that <os><smbios mode='sysinfo'/> hands to the firmware."""

from __future__ import annotations

from qvirt.conf.xmlobject import Attr, Child, Choice, Int, UInt, XMLObject, YesNo
from qvirt.errors import ConfigUnsupported, XMLDetail, XMLError

BOOT_DEVICES = Choice("fd", "hd", "cdrom", "network")


class Loader(XMLObject):
    TAG = "loader"
    ORDER = ("readonly", "secure", "type", "stateless", "format", "path")
    readonly = Attr("@readonly", YesNo)
    secure = Attr("@secure", YesNo)
    type = Attr("@type", Choice("rom", "pflash"))
    stateless = Attr("@stateless", YesNo)
    format = Attr("@format", Choice("raw", "qcow2"))
    path = Attr(".")

    def post_parse(self) -> None:
        # An empty <loader/> (attributes only) carries no path.
        if not self.path:
            self.path = None


class NVRAM(XMLObject):
    TAG = "nvram"
    ORDER = ("template", "format", "path")
    template = Attr("@template")
    format = Attr("@format", Choice("raw", "qcow2"))
    path = Attr(".")

    def post_parse(self) -> None:
        if not self.path:
            self.path = None


class FirmwareFeature(XMLObject):
    TAG = "feature"
    ORDER = ("enabled", "name")
    enabled = Attr("@enabled", YesNo, required=True)
    name = Attr("@name", Choice("enrolled-keys", "secure-boot"), required=True)


class ACPITable(XMLObject):
    TAG = "table"
    ORDER = ("type", "path")
    type = Attr("@type", Choice("slic"), required=True)
    path = Attr(".")


class OS(XMLObject):
    TAG = "os"
    ORDER = ("firmware", "type", "arch", "machine", "firmware_features", "init", "initargs",
             "loader", "nvram", "kernel", "initrd", "cmdline", "dtb", "root", "acpi_tables", "boot",
             "bootmenu", "bootmenu_timeout", "bios_useserial", "bios_reboot_timeout",
             "smbios")
    firmware = Attr("@firmware", Choice("bios", "efi"))
    type = Attr("type")
    arch = Attr("type/@arch")
    machine = Attr("type/@machine")
    firmware_features = Child(FirmwareFeature, single=False, path="firmware")
    init = Attr("init")
    initargs = Attr("initarg", multi=True)
    loader = Child(Loader)
    nvram = Child(NVRAM)
    kernel = Attr("kernel")
    initrd = Attr("initrd")
    cmdline = Attr("cmdline")
    dtb = Attr("dtb")
    root = Attr("root")
    acpi_tables = Child(ACPITable, single=False, path="acpi")
    boot = Attr("boot/@dev", BOOT_DEVICES, multi=True)
    bootmenu = Attr("bootmenu/@enable", YesNo)
    bootmenu_timeout = Attr("bootmenu/@timeout", UInt)
    bios_useserial = Attr("bios/@useserial", YesNo)
    bios_reboot_timeout = Attr("bios/@rebootTimeout", Int)
    smbios = Attr("smbios/@mode", Choice("emulate", "host", "sysinfo"))

    def post_parse(self) -> None:
        if not self.type:
            raise XMLError("an os <type> must be specified")
        if self.bios_reboot_timeout is not None and not -1 <= self.bios_reboot_timeout <= 65535:
            raise ConfigUnsupported("invalid value for rebootTimeout, must be in range [-1,65535]")
        if self.loader is not None and self.loader.path is None and self.firmware is None:
            raise XMLDetail("no loader path specified and firmware auto selection disabled")
        if self.bootmenu is not True:
            # The timeout belongs to an enabled menu; libvirt reads it only then.
            self.bootmenu_timeout = None
        if self.bootmenu_timeout is not None and self.bootmenu_timeout > 65535:
            raise ConfigUnsupported(
                "invalid value for boot menu timeout, must be in range [0,65535]")


class SysinfoEntry(XMLObject):
    TAG = "entry"
    ORDER = ("name", "value")
    name = Attr("@name")
    value = Attr(".")


class SysinfoBlock(XMLObject):
    """One SMBIOS block. libvirt keeps a fixed set of named fields per block: it drops
    unknown names and writes the known ones in its own order, the first of each name."""

    NAMES: tuple[str, ...] = ()
    ORDER = ("entries",)
    entries = Child(SysinfoEntry, single=False)

    def post_parse(self) -> None:
        if not self.NAMES:
            return
        first: dict[str, SysinfoEntry] = {}
        for entry in self.entries:
            first.setdefault(entry.name, entry)
        self.entries = [first[n] for n in self.NAMES if n in first]

    def get(self, name: str) -> str | None:
        return next((e.value for e in self.entries if e.name == name), None)


class SysinfoBIOS(SysinfoBlock):
    TAG = "bios"
    NAMES = ("vendor", "version", "date", "release")


class SysinfoSystem(SysinfoBlock):
    TAG = "system"
    NAMES = ("manufacturer", "product", "version", "serial", "uuid", "sku", "family")


class SysinfoBaseBoard(SysinfoBlock):
    TAG = "baseBoard"
    NAMES = ("manufacturer", "product", "version", "serial", "asset", "location")


class SysinfoChassis(SysinfoBlock):
    TAG = "chassis"
    NAMES = ("manufacturer", "version", "serial", "asset", "sku")


class SysinfoOEMStrings(SysinfoBlock):
    TAG = "oemStrings"


class FWCfgEntry(XMLObject):
    TAG = "entry"
    ORDER = ("name", "file", "value")
    name = Attr("@name")
    file = Attr("@file")
    value = Attr(".")

    def post_parse(self) -> None:
        if not self.value:
            self.value = None


class Sysinfo(XMLObject):
    TAG = "sysinfo"
    ORDER = ("type", "bios", "system", "base_boards", "chassis", "oem_strings", "entries")
    type = Attr("@type", Choice("smbios", "fwcfg"), required=True)
    bios = Child(SysinfoBIOS)
    system = Child(SysinfoSystem)
    base_boards = Child(SysinfoBaseBoard, single=False)
    chassis = Child(SysinfoChassis)
    oem_strings = Child(SysinfoOEMStrings)
    entries = Child(FWCfgEntry, single=False)
