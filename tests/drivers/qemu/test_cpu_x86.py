"""libvirt's x86 CPU rules on data made here: the live guest CPU's feature list from what QEMU
enabled and filtered (virCPUx86UpdateLive), and the host model decoded from CPUID data
(x86Decode); and the host decoded from this machine's CPUID as libvirtd decodes it."""

from __future__ import annotations

import re
import subprocess

import pytest

from qvirt.drivers.qemu import cpu_x86
from qvirt.drivers.qemu.cpu_x86 import CpuData, GuestFeature
from qvirt.errors import ErrorDomain, ErrorNumber, OperationFailed
from tests.support.oracle import URI, ensure_libvirtd


def data_of(*names: str) -> CpuData:
    features = cpu_x86.cpu_map().features
    out = CpuData()
    for name in names:
        out = out.union(features[name])
    return out


def model_data(name: str, *extra: str) -> CpuData:
    return cpu_x86.cpu_map().models[name].data.union(data_of(*extra))


def policies(features: list[GuestFeature] | None) -> list[tuple[str, str]]:
    assert features is not None
    return [(f.policy, f.name) for f in features]


def test_features_qemu_adds_to_a_model_are_required() -> None:
    enabled = model_data("qemu64", "hypervisor", "lahf_lm")
    assert policies(cpu_x86.update_live("qemu64", "none", [], enabled, CpuData())) == [
        ("require", "hypervisor"), ("require", "lahf_lm")]


def test_features_qemu_leaves_out_or_filters_are_disabled() -> None:
    enabled = model_data("qemu64").minus(data_of("svm", "nx"))
    filtered = data_of("nx")
    assert policies(cpu_x86.update_live("qemu64", "none", [], enabled, filtered)) == [
        ("disable", "nx"), ("disable", "svm")]


def test_a_listed_feature_takes_the_policy_qemu_gave_it() -> None:
    asked = [GuestFeature("popcnt", "require"), GuestFeature("svm", "disable")]
    enabled = model_data("qemu64", "svm")
    assert policies(cpu_x86.update_live("qemu64", "none", asked, enabled, CpuData())) == [
        ("disable", "popcnt"), ("require", "svm")]


def test_check_full_refuses_what_qemu_changed() -> None:
    enabled = model_data("qemu64", "hypervisor", "lahf_lm").minus(data_of("svm"))
    with pytest.raises(OperationFailed) as err:
        cpu_x86.update_live("qemu64", "full", [], enabled, CpuData())
    assert (err.value.code, err.value.domain) == (ErrorNumber.OPERATION_FAILED, ErrorDomain.CPU)
    assert str(err.value) == ("operation failed: guest CPU doesn't match specification: "
                              "extra features: hypervisor,lahf_lm, missing features: svm")
    unnamed = CpuData({("cpuid", 1, 0): (0, 0, 1 << 16, 0)})  # a reserved bit QEMU filtered
    assert cpu_x86.features_in(unnamed) == []
    with pytest.raises(OperationFailed, match=r"specification$"):
        cpu_x86.update_live("qemu64", "full", [], model_data("qemu64"), unnamed)
    assert cpu_x86.update_live("qemu64", "full", [], model_data("qemu64"),
                               CpuData()) == []


def test_a_model_outside_the_map_is_left_alone() -> None:
    assert cpu_x86.update_live("max", "none", [], CpuData(), CpuData()) is None


def test_qemu_feature_words() -> None:
    words = [{"cpuid-register": "ECX", "cpuid-input-eax": 1, "features": 1 << 31},
             {"cpuid-register": "EBX", "cpuid-input-eax": 7, "cpuid-input-ecx": 0,
              "features": 1 << 3}]
    assert cpu_x86.features_in(cpu_x86.qemu_feature_words(words)) == ["hypervisor", "bmi1"]


def with_vendor(data: CpuData, vendor: str, family: int, model: int) -> CpuData:
    out = CpuData(dict(data.regs))
    out.add(("cpuid", 0, 0), cpu_x86.cpu_map().vendors[vendor])
    out.add(("cpuid", 1, 0), (((family - 15) << 20 if family > 15 else 0)
                              | min(family, 15) << 8 | (model >> 4) << 16 | (model & 15) << 4,
                              0, 0, 0))
    return out


def test_a_host_with_a_models_features_decodes_to_it() -> None:
    data = with_vendor(model_data("Haswell-noTSX", "vme"), "Intel", 6, 60)
    host = cpu_x86.decode_host(data)
    assert host is not None
    assert (host.name, host.vendor, host.features) == ("Haswell-noTSX", "Intel", ["vme"])


def test_models_of_another_vendor_are_passed_over() -> None:
    host = cpu_x86.decode_host(with_vendor(model_data("EPYC"), "Intel", 6, 1))
    assert host is not None and cpu_x86.cpu_map().models[host.name].vendor in ("", "Intel")


@pytest.mark.integration
@pytest.mark.compat
def test_this_host_decodes_as_libvirtd_decodes_it() -> None:
    data = cpu_x86.read_host_cpuid()
    assert data is not None
    host = cpu_x86.decode_host(data)
    assert host is not None
    ensure_libvirtd()
    caps = subprocess.run(["virsh", "-c", URI, "capabilities"], capture_output=True, text=True,
                          check=True).stdout
    cpu = caps[caps.index("<cpu>"):caps.index("</cpu>")]
    assert re.findall(r"<model>(\S+)</model>", cpu) == [host.name]
    assert re.findall(r"<feature name='(\S+)'/>", cpu) == host.features
