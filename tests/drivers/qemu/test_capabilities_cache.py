"""The capabilities cache: a probe runs once per binary, later look-ups (in this process or a
new one reading the same directory) launch no QEMU, and a changed binary or a changed
/dev/kvm access probes again, as libvirt's virQEMUCapsIsValid decides."""

from __future__ import annotations

import json
import os
import shutil
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from qvirt.drivers.qemu import capabilities
from qvirt.drivers.qemu.capabilities import QemuCapsCache
from qvirt.drivers.qemu.caps_arch import find_binary_for_arch
from qvirt.errors import ErrorDomain, ErrorNumber, QvirtError
from tests.drivers.qemu.test_capabilities_parse import recorded_replies, without_kvm


class ReplayProber:
    """Answers with the recorded replies and counts the probes asked for."""

    def __init__(self, replies: dict[str, Any]) -> None:
        self.replies = replies
        self.calls: list[tuple[str, str]] = []

    def __call__(self, binary: str, accel: str) -> dict[str, Any]:
        self.calls.append((binary, accel))
        which = "kvm" if accel == "kvm:tcg" else "tcg"
        result: dict[str, Any] = self.replies[which]
        return result


@pytest.fixture
def binary(tmp_path: Path) -> Path:
    """A stand-in binary file: the cache only stats it when the prober is replayed."""
    path = tmp_path / "bin" / "qemu-system-x86_64"
    path.parent.mkdir()
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def prober() -> ReplayProber:
    return ReplayProber(recorded_replies("qemu-system-x86_64")["replies"])


def test_probed_once_then_from_memory_and_disk(tmp_path: Path, binary: Path,
                                               prober: ReplayProber) -> None:
    cache = QemuCapsCache(tmp_path / "cache", prober=prober)
    first = cache.get(str(binary))
    assert prober.calls == [(str(binary), "kvm:tcg"), (str(binary), "tcg")]
    assert cache.get(str(binary)) is first
    again = QemuCapsCache(tmp_path / "cache", prober=prober).get(str(binary))
    assert len(prober.calls) == 2
    assert again.machine_types("qemu") == first.machine_types("qemu")
    assert again.binary == str(binary)


def test_one_probe_without_kvm(tmp_path: Path, binary: Path) -> None:
    prober = ReplayProber(without_kvm(recorded_replies("qemu-system-x86_64")["replies"]))
    caps = QemuCapsCache(tmp_path / "cache", prober=prober).get(str(binary))
    assert [accel for _, accel in prober.calls] == ["kvm:tcg"]
    assert caps.virt_types() == ("qemu",)


def test_changed_binary_is_probed_again(tmp_path: Path, binary: Path,
                                        prober: ReplayProber) -> None:
    cache = QemuCapsCache(tmp_path / "cache", prober=prober)
    cache.get(str(binary))
    st = binary.stat()
    os.utime(binary, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    cache.get(str(binary))
    assert len(prober.calls) == 4
    with open(binary, "a") as out:
        out.write("# grown\n")
    QemuCapsCache(tmp_path / "cache", prober=prober).get(str(binary))
    assert len(prober.calls) == 6


def test_changed_kvm_access_is_probed_again(tmp_path: Path, binary: Path,
                                            prober: ReplayProber,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    cache = QemuCapsCache(tmp_path / "cache", prober=prober)
    cache.get(str(binary))
    before = capabilities.kvm_access()
    monkeypatch.setattr(capabilities, "kvm_access",
                        lambda: {"exists": before["exists"], "rw": not before["rw"]})
    cache.get(str(binary))
    assert len(prober.calls) == 4
    QemuCapsCache(tmp_path / "cache", prober=prober).get(str(binary))
    assert len(prober.calls) == 4


def test_unreadable_cache_file_is_probed_again(tmp_path: Path, binary: Path,
                                               prober: ReplayProber) -> None:
    QemuCapsCache(tmp_path / "cache", prober=prober).get(str(binary))
    (cached,) = (tmp_path / "cache").iterdir()
    cached.write_text("{not json")
    QemuCapsCache(tmp_path / "cache", prober=prober).get(str(binary))
    assert len(prober.calls) == 4
    assert json.loads(cached.read_text())["binary"] == str(binary)


def test_missing_binary_error_is_libvirts(tmp_path: Path, prober: ReplayProber) -> None:
    with pytest.raises(QvirtError) as err:
        QemuCapsCache(tmp_path / "cache", prober=prober).get("/nonexist")
    assert err.value.code == ErrorNumber.SYSTEM_ERROR
    assert err.value.domain == ErrorDomain.QEMU
    assert err.value.message == "Cannot check QEMU binary /nonexist: No such file or directory"
    assert prober.calls == []


def test_for_arch_errors(tmp_path: Path, prober: ReplayProber) -> None:
    cache = QemuCapsCache(tmp_path / "cache", prober=prober)
    with pytest.raises(QvirtError) as err:
        cache.for_arch("bogus")
    assert err.value.message == "invalid argument: unknown architecture: bogus"
    with pytest.raises(QvirtError) as err:
        cache.for_arch("sparc64")
    assert err.value.code == ErrorNumber.CONFIG_UNSUPPORTED
    assert err.value.message == ("unsupported configuration: unable to find any emulator to "
                                 "serve 'sparc64' architecture")


@pytest.mark.integration
def test_cached_probe_launches_no_qemu(tmp_path: Path) -> None:
    """A wrapper binary logs each launch of the real QEMU it runs."""
    log = tmp_path / "launches"
    wrapper = tmp_path / "qemu-system-x86_64"
    qemu = shutil.which("qemu-system-x86_64")
    assert qemu is not None
    wrapper.write_text(f'#!/bin/sh\necho launched >> "{log}"\nexec {qemu} "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)

    def launches() -> int:
        return len(log.read_text().splitlines()) if log.exists() else 0

    caps = QemuCapsCache(tmp_path / "cache").get(str(wrapper))
    probes = launches()
    assert probes == (2 if caps.kvm_enabled else 1)
    assert caps.find_machine("pc") is not None
    assert QemuCapsCache(tmp_path / "cache").get(str(wrapper)).version == caps.version
    assert launches() == probes
    wrapper.write_text(wrapper.read_text() + "# changed\n")
    QemuCapsCache(tmp_path / "cache").get(str(wrapper))
    assert launches() == 2 * probes


def test_binary_for_each_arch(tmp_path: Path) -> None:
    """libvirt's search order: the arch's own binary, the host's for a native guest."""
    for name in ("qemu-system-x86_64", "qemu-system-aarch64", "qemu-system-arm"):
        (tmp_path / name).write_text("#!/bin/sh\n")
        (tmp_path / name).chmod(0o755)
    path = str(tmp_path)
    assert find_binary_for_arch("x86_64", "x86_64", path) == str(tmp_path / "qemu-system-x86_64")
    assert find_binary_for_arch("i686", "x86_64", path) == str(tmp_path / "qemu-system-x86_64")
    assert find_binary_for_arch("i686", "aarch64", path) is None
    assert find_binary_for_arch("armv7l", "x86_64", path) == str(tmp_path / "qemu-system-arm")
    assert find_binary_for_arch("armv7l", "aarch64", path) == str(
        tmp_path / "qemu-system-aarch64")
    (tmp_path / "qemu-system-i386").write_text("#!/bin/sh\n")
    (tmp_path / "qemu-system-i386").chmod(0o755)
    assert find_binary_for_arch("i686", "x86_64", path) == str(tmp_path / "qemu-system-i386")


def test_concurrent_lookups_share_one_probe(tmp_path: Path, binary: Path,
                                            prober: ReplayProber) -> None:
    cache = QemuCapsCache(tmp_path / "cache", prober=prober)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: cache.get(str(binary)), range(8)))
    assert len(prober.calls) == 2
    assert all(r is results[0] for r in results)
