"""The <domainCapabilities> document (domain_capabilities.c): what one emulator, machine type
and virtualization type can do. Most of it is <X supported='yes|no'> with <enum>s of allowed
values, so those elements share one base class."""

from __future__ import annotations

from typing import ClassVar, Self

from qvirt.conf.xmlobject import Attr, Child, Choice, UInt, XMLObject, YesNo
from qvirt.errors import ErrorDomain


class Enum(XMLObject):
    """<enum name='...'> with the allowed <value>s (empty when none are)."""

    TAG = "enum"
    ORDER = ("name", "values")
    name = Attr("@name")
    values = Attr("value", multi=True)


class Supported(XMLObject):
    """An element saying whether a feature is there and, if so, which values it takes."""

    ORDER: ClassVar[tuple[str, ...]] = ("supported", "enums")
    supported = Attr("@supported", YesNo)
    enums = Child(Enum, single=False)

    def enum(self, name: str) -> list[str]:
        """The values allowed for ``name`` (empty if the enum is absent)."""
        found = next((e for e in self.enums if e.name == name), None)
        return list(found.values) if found is not None else []


class Loader(Supported):
    TAG = "loader"
    ORDER = ("supported", "values", "enums")
    values = Attr("value", multi=True)


class OS(Supported):
    TAG = "os"
    ORDER = ("supported", "enums", "loader")
    loader = Child(Loader)


class CPUModel(XMLObject):
    """A CPU model: the host-model's (with its fallback) or one of the custom mode's (with
    whether it is usable here and who makes it)."""

    TAG = "model"
    ORDER = ("fallback", "usable", "deprecated", "vendor", "name")
    fallback = Attr("@fallback", Choice("allow", "forbid"))
    usable = Attr("@usable", Choice("yes", "no", "unknown"))
    deprecated = Attr("@deprecated", YesNo)
    vendor = Attr("@vendor")
    name = Attr(".")


class CPUFeature(XMLObject):
    TAG = "feature"
    ORDER = ("policy", "name")
    policy = Attr("@policy")
    name = Attr("@name")


class CPUMode(XMLObject):
    TAG = "mode"
    ORDER = ("name", "supported", "enums", "models", "vendor", "features")
    name = Attr("@name", Choice("host-passthrough", "maximum", "host-model", "custom"))
    supported = Attr("@supported", YesNo)
    enums = Child(Enum, single=False)
    models = Child(CPUModel, single=False)
    vendor = Attr("vendor")
    features = Child(CPUFeature, single=False)


class CPU(XMLObject):
    TAG = "cpu"
    ORDER = ("modes",)
    modes = Child(CPUMode, single=False)


class MemoryBacking(Supported):
    TAG = "memoryBacking"


class DiskCaps(Supported):
    TAG = "disk"


class GraphicsCaps(Supported):
    TAG = "graphics"


class VideoCaps(Supported):
    TAG = "video"


class HostdevCaps(Supported):
    TAG = "hostdev"


class RNGCaps(Supported):
    TAG = "rng"


class FilesystemCaps(Supported):
    TAG = "filesystem"


class TPMCaps(Supported):
    TAG = "tpm"


class RedirdevCaps(Supported):
    TAG = "redirdev"


class ChannelCaps(Supported):
    TAG = "channel"


class Devices(XMLObject):
    TAG = "devices"
    ORDER = ("disk", "graphics", "video", "hostdev", "rng", "filesystem", "tpm", "redirdev",
             "channel")
    disk = Child(DiskCaps)
    graphics = Child(GraphicsCaps)
    video = Child(VideoCaps)
    hostdev = Child(HostdevCaps)
    rng = Child(RNGCaps)
    filesystem = Child(FilesystemCaps)
    tpm = Child(TPMCaps)
    redirdev = Child(RedirdevCaps)
    channel = Child(ChannelCaps)


class GIC(Supported):
    TAG = "gic"


class Flagged(XMLObject):
    """A feature that is only supported or not (<genid supported='yes'/>)."""

    ORDER = ("supported",)
    supported = Attr("@supported", YesNo)


class VMCoreInfo(Flagged):
    TAG = "vmcoreinfo"


class GenID(Flagged):
    TAG = "genid"


class BackingStoreInput(Flagged):
    TAG = "backingStoreInput"


class Backup(Flagged):
    TAG = "backup"


class S390PV(Flagged):
    TAG = "s390-pv"


class SEV(XMLObject):
    TAG = "sev"
    ORDER = ("supported", "cbitpos", "reduced_phys_bits", "max_guests", "max_es_guests")
    supported = Attr("@supported", YesNo)
    cbitpos = Attr("cbitpos", UInt)
    reduced_phys_bits = Attr("reducedPhysBits", UInt)
    max_guests = Attr("maxGuests", UInt)
    max_es_guests = Attr("maxESGuests", UInt)


class SGXSection(XMLObject):
    TAG = "section"
    ORDER = ("node", "size", "unit")
    node = Attr("@node", UInt)
    size = Attr("@size", UInt)
    unit = Attr("@unit")


class SGX(XMLObject):
    TAG = "sgx"
    ORDER = ("supported", "flc", "sgx1", "sgx2", "section_size_unit", "section_size",
             "sections")
    supported = Attr("@supported", YesNo)
    flc = Attr("flc", YesNo)
    sgx1 = Attr("sgx1", YesNo)
    sgx2 = Attr("sgx2", YesNo)
    section_size_unit = Attr("section_size/@unit")
    section_size = Attr("section_size", UInt)
    sections = Child(SGXSection, single=False, path="sections")


class HyperV(Supported):
    TAG = "hyperv"


class Features(XMLObject):
    TAG = "features"
    ORDER = ("gic", "vmcoreinfo", "genid", "backing_store_input", "backup", "s390_pv",
             "sev", "sgx", "hyperv")
    gic = Child(GIC)
    vmcoreinfo = Child(VMCoreInfo)
    genid = Child(GenID)
    backing_store_input = Child(BackingStoreInput)
    backup = Child(Backup)
    s390_pv = Child(S390PV)
    sev = Child(SEV)
    sgx = Child(SGX)
    hyperv = Child(HyperV)


class DomainCapabilities(XMLObject):
    ERROR_DOMAIN = ErrorDomain.CAPABILITIES
    TAG = "domainCapabilities"
    ORDER = ("path", "domain", "machine", "arch", "vcpu_max", "iothreads", "os", "cpu",
             "memory_backing", "devices", "features")
    path = Attr("path")
    domain = Attr("domain")
    machine = Attr("machine")
    arch = Attr("arch")
    vcpu_max = Attr("vcpu/@max", UInt)
    iothreads = Attr("iothreads/@supported", YesNo)
    os = Child(OS)
    cpu = Child(CPU)
    memory_backing = Child(MemoryBacking)
    devices = Child(Devices)
    features = Child(Features)

    @classmethod
    def from_xml(cls, text: str | bytes, *, validate: bool = False,
                 context: str | None = None) -> Self:
        return super().from_xml(text, validate=validate,
                                context=context or "(domain_capabilities)")
