"""libvirt's x86 CPU map (cpu_map/, vendored from libvirt 9.0) and what libvirt computes with it:
the models QEMU may be offered with their vendors, a running guest's CPU as QEMU made it
(virCPUx86UpdateLive) and the host CPU decoded from CPUID (virCPUx86GetHost).

CPU data is a set of register bits keyed by where they are read: a CPUID leaf and subleaf
("cpuid", eax_in, ecx_in) with its (eax, ebx, ecx, edx), or a model-specific register
("msr", index, 0) with its (eax, edx, 0, 0). A feature is the bits the map gives it; a model
is the union of its features.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from lxml import etree

from qvirt.errors import ErrorDomain, OperationFailed

Key = tuple[str, int, int]
Regs = tuple[int, int, int, int]
CpuidCall = Callable[[int, int], Regs]
REGISTERS = ("eax", "ebx", "ecx", "edx")

# CPUID leaf 1's eax without the stepping and processor type (libvirt's SIGNATURE_MASK).
SIGNATURE_MASK = 0x0FFF3FF0
# Families and models whose TSX libvirt drops from host data as broken (x86DataFilterTSX).
BROKEN_TSX_MODELS = frozenset({60, 69, 70})
BROKEN_TSX_HASWELL = 63  # ... and this one before stepping 4


@dataclass
class CpuData:
    """Register bits by location; a location whose bits are all clear is absent."""

    regs: dict[Key, Regs] = field(default_factory=dict)

    def add(self, key: Key, regs: Regs) -> None:
        old = self.regs.get(key, (0, 0, 0, 0))
        self.regs[key] = _regs(a | b for a, b in zip(old, regs, strict=True))

    def union(self, other: CpuData) -> CpuData:
        out = CpuData(dict(self.regs))
        for key, regs in other.regs.items():
            out.add(key, regs)
        return out

    def minus(self, other: CpuData) -> CpuData:
        out = CpuData()
        for key, regs in self.regs.items():
            drop = other.regs.get(key, (0, 0, 0, 0))
            left = _regs(a & ~b for a, b in zip(regs, drop, strict=True))
            if any(left):
                out.regs[key] = left
        return out

    def contains(self, other: CpuData) -> bool:
        """Every bit of ``other`` set here (x86DataIsSubset with ``other`` as the subset)."""
        return not other.minus(self).regs

    def get(self, key: Key) -> Regs:
        return self.regs.get(key, (0, 0, 0, 0))


@dataclass(frozen=True)
class Signature:
    family: int
    model: int
    steppings: frozenset[int] | None  # None: any stepping

    def matches(self, family: int, model: int, stepping: int) -> bool:
        return (self.family, self.model) == (family, model) and (
            self.steppings is None or stepping in self.steppings)


@dataclass
class Model:
    name: str
    vendor: str  # "" when the map names none
    features: list[str]
    data: CpuData
    decode_host: bool
    signatures: list[Signature]


@dataclass
class CpuMap:
    vendors: dict[str, Regs]  # name -> CPUID leaf 0's (0, ebx, ecx, edx)
    features: dict[str, CpuData]  # in the map's order, which libvirt lists features in
    models: dict[str, Model]  # in the map's order


def _attr(node: etree._Element, name: str) -> str:
    """An attribute the map always gives (lxml's own type says it could be bytes)."""
    return str(node.attrib[name])


def _int(text: str | None) -> int:
    return int(text, 0) if text else 0


def _vendor_regs(string: str) -> Regs:
    raw = string.encode()
    ebx, edx, ecx = (int.from_bytes(raw[i:i + 4], "little") for i in (0, 4, 8))
    return (0, ebx, ecx, edx)


def _feature_data(node: etree._Element) -> CpuData:
    data = CpuData()
    for item in node:
        if item.tag == "cpuid":
            data.add(("cpuid", _int(item.get("eax_in")), _int(item.get("ecx_in"))),
                     _regs(_int(item.get(r)) for r in REGISTERS))
        elif item.tag == "msr":
            data.add(("msr", _int(item.get("index")), 0),
                     (_int(item.get("eax")), _int(item.get("edx")), 0, 0))
    return data


def _steppings(text: str | None) -> frozenset[int] | None:
    if text is None:
        return None
    first, _, last = text.partition("-")
    return frozenset(range(int(first), int(last or first) + 1))


@functools.cache
def cpu_map() -> CpuMap:
    """The map, read once: index.xml's includes in order, as libvirt loads them."""
    folder = resources.files("qvirt.drivers.qemu") / "cpu_map"
    index = etree.fromstring((folder / "index.xml").read_bytes())
    out = CpuMap({}, {}, {})
    for include in index.iter("include"):
        for node in etree.fromstring((folder / _attr(include, "filename")).read_bytes()):
            if node.tag == "vendor":
                out.vendors[_attr(node, "name")] = _vendor_regs(_attr(node, "string"))
            elif node.tag == "feature":
                out.features[_attr(node, "name")] = _feature_data(node)
            elif node.tag == "model":
                out.models[_attr(node, "name")] = _model(node, out.features)
    return out


def _model(node: etree._Element, features: Mapping[str, CpuData]) -> Model:
    names = [_attr(f, "name") for f in node.iter("feature")]
    data = CpuData()
    for name in names:
        data = data.union(features[name])
    vendor = node.find("vendor")
    decode = node.find("decode")
    return Model(name=_attr(node, "name"),
                 vendor=_attr(vendor, "name") if vendor is not None else "",
                 features=names, data=data,
                 decode_host=decode is None or decode.get("host") != "off",
                 signatures=[Signature(int(_attr(s, "family")), int(_attr(s, "model")),
                                       _steppings(s.get("stepping")))
                             for s in node.iter("signature")])


@functools.cache
def model_vendors() -> dict[str, str]:
    """Each model libvirt's map knows, with its vendor ("" when none)."""
    return {name: model.vendor for name, model in cpu_map().models.items()}


def features_in(data: CpuData, names: Iterable[str] | None = None) -> list[str]:
    """The map's features all of whose bits ``data`` has, in the map's order; each feature
    found takes its bits away, so a later one needing them is not named too
    (x86DataToCPUFeatures)."""
    features = cpu_map().features
    left = data
    found = []
    for name in names if names is not None else features:
        if features[name].regs and left.contains(features[name]):
            left = left.minus(features[name])
            found.append(name)
    return found


# Live guest CPU -------------------------------------------------------------------------


@dataclass
class GuestFeature:
    name: str
    policy: str


def update_live(model_name: str, check: str | None, features: list[GuestFeature],
                enabled: CpuData, disabled: CpuData) -> list[GuestFeature] | None:
    """The guest CPU's feature list once QEMU runs it (virCPUx86UpdateLive): each feature the
    definition lacks but QEMU enabled becomes required; each it has but QEMU left out or
    filtered becomes disabled. Under check='full' any such difference fails the start
    instead. None when the model is not in the map (libvirt then leaves the CPU as it was)."""
    cmap = cpu_map()
    if model_name not in cmap.models:
        return None
    model = cmap.models[model_name].data
    for feature in features:
        data = cmap.features.get(feature.name, CpuData())
        if feature.policy in ("require", "force"):
            model = model.union(data)
        elif feature.policy in ("disable", "forbid"):
            model = model.minus(data)
    out = list(features)
    added: list[str] = []
    removed: list[str] = []

    def update(name: str, policy: str) -> None:
        if check == "full":
            (added if policy == "require" else removed).append(name)
            return
        for feature in out:
            if feature.name == name:
                feature.policy = policy
                return
        out.append(GuestFeature(name, policy))

    for name, data in cmap.features.items():
        if not data.regs:
            continue
        in_model = model.contains(data)
        if not in_model and enabled.contains(data):
            update(name, "require")
        if disabled.contains(data) or (in_model and not enabled.contains(data)):
            update(name, "disable")
    _check_full(added, removed, check == "full" and bool(disabled.regs))
    return out


def _check_full(added: list[str], removed: list[str], filtered: bool) -> None:
    """libvirt's refusal of a check='full' CPU QEMU did not run as defined."""
    parts = []
    if added:
        parts.append("extra features: " + ",".join(added))
    if removed:
        parts.append("missing features: " + ",".join(removed))
    if parts or filtered:
        text = "guest CPU doesn't match specification"
        raise OperationFailed(f"{text}: {', '.join(parts)}" if parts else text,
                              domain=ErrorDomain.CPU)


def qemu_feature_words(words: Iterable[Mapping[str, object]]) -> CpuData:
    """CPU data from QEMU's "feature-words" or "filtered-features" of an x86 CPU object."""
    data = CpuData()
    for word in words:
        leaf, subleaf = word.get("cpuid-input-eax", 0), word.get("cpuid-input-ecx", 0)
        register = REGISTERS.index(str(word["cpuid-register"]).lower())
        regs = [0, 0, 0, 0]
        regs[register] = int(str(word["features"]))
        data.add(("cpuid", int(str(leaf)), int(str(subleaf))), _regs(regs))
    return data


# Host CPU ----------------------------------------------------------------------------------


@dataclass
class HostModel:
    """What libvirt decodes from the host's CPUID: the best model and the features the host
    has beyond it."""

    name: str
    vendor: str
    features: list[str]


def decode_host(data: CpuData) -> HostModel | None:
    """x86Decode for a host CPU: among the models of the host's vendor (or of none) that the
    host has every feature of, one whose signature matches the host's if any does, and of
    those the one that leaves the fewest features to list; the newest wins a tie."""
    cmap = cpu_map()
    leaf0 = data.get(("cpuid", 0, 0))
    vendor = next((name for name, regs in cmap.vendors.items()
                   if regs[1:] == leaf0[1:]), "")
    vendor_bits = CpuData({("cpuid", 0, 0): cmap.vendors[vendor]} if vendor else {})
    eax1 = data.get(("cpuid", 1, 0))[0]
    family = ((eax1 >> 20) & 0xFF) + ((eax1 >> 8) & 0xF)
    model_no = ((eax1 >> 12) & 0xF0) + ((eax1 >> 4) & 0xF)
    stepping = eax1 & 0xF
    data = _without_broken_tsx(data, vendor, family, model_no, stepping)
    best: tuple[Model, list[str]] | None = None
    for model in reversed(cmap.models.values()):
        if vendor and model.vendor and model.vendor != vendor:
            continue
        if not model.decode_host or not data.contains(model.data):
            continue
        extra = features_in(data.minus(vendor_bits).minus(model.data))
        if best is None or _better(best, (model, extra), family, model_no, stepping):
            best = (model, extra)
    if best is None:
        return None
    return HostModel(best[0].name, vendor, best[1])


def _better(current: tuple[Model, list[str]], candidate: tuple[Model, list[str]],
            family: int, model_no: int, stepping: int) -> bool:
    def matches(model: Model) -> bool:
        return any(s.matches(family, model_no, stepping) for s in model.signatures)

    if matches(current[0]) != matches(candidate[0]):
        return matches(candidate[0])
    return len(candidate[1]) < len(current[1])


def _without_broken_tsx(data: CpuData, vendor: str, family: int, model: int,
                        stepping: int) -> CpuData:
    if vendor != "Intel" or family != 6 or not (
            model in BROKEN_TSX_MODELS or (model == BROKEN_TSX_HASWELL and stepping < 4)):
        return data
    features = cpu_map().features
    return data.minus(features["hle"]).minus(features["rtm"])


def _regs(values: Iterable[int]) -> Regs:
    eax, ebx, ecx, edx = values
    return (eax, ebx, ecx, edx)


def read_host_cpuid(device: Path = Path("/dev/cpu/0/cpuid")) -> CpuData | None:
    """The host's CPUID leaves as libvirt's cpuidSet reads them (basic and extended ranges,
    with the subleaves of leaves 4, 7, 0xb, 0xd, 0xf, 0x10, 0x12, 0x14, 0x17), through the
    kernel's cpuid device; None without it."""
    try:
        fd = os.open(device, os.O_RDONLY)
    except OSError:
        return None
    try:
        def call(leaf: int, sub: int = 0) -> Regs:
            raw = os.pread(fd, 16, leaf | (sub << 32))
            return _regs(int.from_bytes(raw[i:i + 4], "little") for i in range(0, 16, 4))

        data = CpuData()
        for base in (0, 0x80000000):
            for leaf in range(base, call(base)[0] + 1):
                for sub, regs in _subleaves(call, leaf, data):
                    if any(regs):
                        data.regs[("cpuid", leaf, sub)] = regs
        return data
    finally:
        os.close(fd)


def _subleaves(call: CpuidCall, leaf: int, data: CpuData) -> list[tuple[int, Regs]]:
    """cpuidSet's rules for which subleaves of ``leaf`` exist."""
    first = call(leaf, 0)
    out = [(0, first)]
    if leaf == 4:
        regs, sub = first, 0
        while regs[0] & 0x1F:
            sub += 1
            regs = call(leaf, sub)
            out.append((sub, regs))
    elif leaf in (7, 0x14):
        out += [(sub, call(leaf, sub)) for sub in range(1, first[0] + 1)]
    elif leaf == 0xB:
        out, regs, sub = [], first, 0
        while regs[2] & 0xFF00:
            out.append((sub, regs))
            sub += 1
            regs = call(leaf, sub)
    elif leaf == 0xD:
        second = call(leaf, 1)
        out.append((1, second))
        for sub in range(2, 64):
            bits = (first[0] | second[2]) if sub < 32 else (first[3] | second[3])
            if bits >> (sub % 32) & 1:
                out.append((sub, call(leaf, sub)))
    elif leaf in (0xF, 0x10):
        res = first[3] if leaf == 0xF else first[1]
        out += [(sub, call(leaf, sub)) for sub in range(1, 32) if res >> sub & 1]
    elif leaf == 0x12:
        if not data.get(("cpuid", 7, 0))[1] & (1 << 2):
            return []
        out.append((1, call(leaf, 1)))
        sub = 2
        while (regs := call(leaf, sub))[0] & 0xF:
            out.append((sub, regs))
            sub += 1
    elif leaf == 0x17:
        if first[0] < 3:
            return []
        out += [(sub, call(leaf, sub)) for sub in range(1, first[0] + 1)]
    return out
