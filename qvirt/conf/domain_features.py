"""<features>: machine and hypervisor features, in libvirt's VIR_DOMAIN_FEATURE order.

libvirt writes the on/off features with an explicit ``state`` even when the input said only
``<hap/>``, while the older presence-only ones (``<acpi/>``, ``<pae/>``) stay bare; each class
below follows the spelling libvirt writes back.
"""

from __future__ import annotations

from typing import ClassVar

from qvirt.conf import xmltree
from qvirt.conf.domain_units import Scaled
from qvirt.conf.xmlobject import (
    Attr,
    Child,
    Choice,
    Field,
    Flag,
    OnOff,
    ParseContext,
    UInt,
    XMLObject,
)
from qvirt.conf.xmltree import Element, Node, RawXML
from qvirt.errors import ConfigUnsupported

# Every name in libvirt 9.0's VIR_DOMAIN_FEATURE table: any other child of <features> is an
# error, not dropped.
KNOWN = frozenset((
    "acpi", "apic", "pae", "hap", "viridian", "privnet", "hyperv", "kvm", "pvspinlock",
    "capabilities", "pmu", "vmport", "gic", "smm", "ioapic", "hpt", "vmcoreinfo", "htm",
    "nested-hv", "msrs", "ccf-assist", "xen", "cfpc", "sbbc", "ibs", "tcg"))
# Features of ARM and POWER machines, which x86 machines refuse.
NOT_X86 = ("gic", "hpt", "htm", "nested-hv", "ccf-assist", "cfpc", "sbbc", "ibs")


class _Names(Field):
    """The tag names of an element's children, read for checks and never written."""

    def default(self) -> list[str]:
        return []

    def parse(self, node: Element, ctx: ParseContext) -> list[str]:
        return [xmltree.local_name(c) for c in node if isinstance(c.tag, str)]

    def format(self, value: object, node: Node) -> None:
        return


class Switch(XMLObject):
    """A feature toggled by ``state``: absent means on, and libvirt then writes state='on'."""

    KEEP_EMPTY = True
    ORDER: ClassVar[tuple[str, ...]] = ("state",)
    state = Attr("@state", OnOff)

    def post_parse(self) -> None:
        if self.state is None:
            self.state = True


def _switch(tag: str) -> type[Switch]:
    return type(f"Switch_{tag}", (Switch,), {"TAG": tag, "__module__": __name__})


class Spinlocks(Switch):
    TAG = "spinlocks"
    ORDER = ("state", "retries")
    retries = Attr("@retries", UInt)


class VendorID(Switch):
    TAG = "vendor_id"
    ORDER = ("state", "value")
    value = Attr("@value")


class STimer(Switch):
    TAG = "stimer"
    ORDER = ("state", "direct")
    direct = Attr("direct/@state", OnOff)


class TLBFlush(Switch):
    TAG = "tlbflush"
    ORDER = ("state", "direct", "extended")
    direct = Attr("direct/@state", OnOff)
    extended = Attr("extended/@state", OnOff)


class OpenClose(XMLObject):
    """A group libvirt always opens and closes on two lines, even with nothing inside."""

    KEEP_EMPTY = True

    def to_node(self) -> Node:
        node = super().to_node()
        if not node.children:
            node.children.append(RawXML(""))
        return node


class HyperV(OpenClose):
    TAG = "hyperv"
    ORDER = ("mode", "relaxed", "vapic", "spinlocks", "vpindex", "runtime", "synic", "stimer",
             "reset", "vendor_id", "frequencies", "reenlightenment", "tlbflush", "ipi",
             "evmcs", "avic", "emsr_bitmap", "xmm_input")
    mode = Attr("@mode", Choice("custom", "passthrough"))
    relaxed = Child(_switch("relaxed"))
    vapic = Child(_switch("vapic"))
    spinlocks = Child(Spinlocks)
    vpindex = Child(_switch("vpindex"))
    runtime = Child(_switch("runtime"))
    synic = Child(_switch("synic"))
    stimer = Child(STimer)
    reset = Child(_switch("reset"))
    vendor_id = Child(VendorID)
    frequencies = Child(_switch("frequencies"))
    reenlightenment = Child(_switch("reenlightenment"))
    tlbflush = Child(TLBFlush)
    ipi = Child(_switch("ipi"))
    evmcs = Child(_switch("evmcs"))
    avic = Child(_switch("avic"))
    emsr_bitmap = Child(_switch("emsr_bitmap"))
    xmm_input = Child(_switch("xmm_input"))

    def post_parse(self) -> None:
        if self.mode is None:
            self.mode = "custom"


class DirtyRing(Switch):
    TAG = "dirty-ring"
    ORDER = ("state", "size")
    size = Attr("@size", UInt)


class KVM(OpenClose):
    TAG = "kvm"
    ORDER = ("hidden", "hint_dedicated", "poll_control", "pv_ipi", "dirty_ring")
    hidden = Child(_switch("hidden"))
    hint_dedicated = Child(_switch("hint-dedicated"))
    poll_control = Child(_switch("poll-control"))
    pv_ipi = Child(_switch("pv-ipi"))
    dirty_ring = Child(DirtyRing)


class SMM(Switch):
    TAG = "smm"
    ORDER = ("state", "tseg")
    tseg = Scaled("tseg", unit="MiB", default=1024 * 1024)


class TCG(XMLObject):
    TAG = "tcg"
    ORDER = ("tb_cache",)
    tb_cache = Scaled("tb-cache")


class Features(XMLObject):
    TAG = "features"
    ORDER = ("names", "acpi", "apic", "apic_eoi", "pae", "hap", "viridian", "privnet",
             "hyperv", "kvm", "pvspinlock", "pmu", "vmport", "smm", "ioapic", "vmcoreinfo",
             "msrs", "tcg")
    names = _Names()
    acpi = Flag("acpi")
    apic = Flag("apic")
    apic_eoi = Attr("apic/@eoi", OnOff)
    pae = Flag("pae")
    hap = Child(_switch("hap"))
    viridian = Flag("viridian")
    privnet = Flag("privnet")
    hyperv = Child(HyperV)
    kvm = Child(KVM)
    pvspinlock = Child(_switch("pvspinlock"))
    pmu = Child(_switch("pmu"))
    vmport = Child(_switch("vmport"))
    smm = Child(SMM)
    ioapic = Attr("ioapic/@driver", Choice("qemu", "kvm"))
    vmcoreinfo = Child(_switch("vmcoreinfo"))
    msrs = Attr("msrs/@unknown", Choice("ignore", "fail"))
    tcg = Child(TCG)

    def post_parse(self) -> None:
        unknown = next((n for n in self.names if n not in KNOWN), None)
        if unknown is not None:
            raise ConfigUnsupported(f"unexpected feature '{unknown}'")

    def refuse_foreign(self, arch: str, machine: str) -> None:
        """The QEMU driver's check that a feature belongs to the guest's architecture."""
        foreign = next((n for n in NOT_X86 if n in self.names), None)
        if foreign is not None and arch in ("x86_64", "i686"):
            raise ConfigUnsupported(f"The '{foreign}' feature is not supported for "
                                    f"architecture '{arch}' or machine type '{machine}'")
