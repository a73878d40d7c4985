"""Debian packages as the builder's raw material: candidate versions, downloads, unpacking.

Only the mirror the host's apt already reaches is used (``apt-get download``), and packages are
unpacked with ``dpkg-deb -x`` into a staging tree, never installed on the host.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterable
from pathlib import Path


class PackageError(RuntimeError):
    """apt could not name, resolve or fetch a package."""


# apt rebuilds its cache on every call here (about half a second), so candidate versions are
# memoised under a stamp of the files that decide them: a changed package list, dpkg status or
# apt source gives a new stamp and a fresh look-up.
_APT_STATE = (Path("/var/lib/apt/lists"), Path("/var/lib/dpkg/status"), Path("/etc/apt"))


def _apt_stamp() -> str:
    digest = hashlib.sha256()
    for root in _APT_STATE:
        paths = sorted(root.rglob("*")) if root.is_dir() else [root]
        for p in paths:
            try:
                st = p.stat()
            except OSError:
                continue
            digest.update(f"{p}\0{st.st_mtime_ns}\0{st.st_size}\n".encode())
    return digest.hexdigest()


def _run(argv: list[str], cwd: Path | None = None) -> str:
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        detail = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        raise PackageError(f"{argv[0]} {argv[1]}: {detail}")
    return proc.stdout


def _parse_stanzas(text: str) -> list[dict[str, str]]:
    stanzas: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if current:
                stanzas.append(current)
            current = {}
        elif not line[0].isspace():
            key, _, value = line.partition(":")
            current[key] = value.strip()
    if current:
        stanzas.append(current)
    return stanzas


def candidates(names: Iterable[str], cache: Path) -> dict[str, dict[str, str]]:
    """Each package's candidate stanza (Version, Depends, ...) as apt would install it."""
    wanted = sorted(set(names))
    memo_file = cache / "candidates.json"
    stamp = _apt_stamp()
    key = stamp + ":" + ",".join(wanted)
    try:
        memo = json.loads(memo_file.read_text())
        if memo.get("key") == key:
            return dict(memo["stanzas"])
    except (OSError, ValueError):
        pass
    proc = subprocess.run(
        ["apt-cache", "show", "--no-all-versions", *wanted],
        capture_output=True, text=True, check=False,
    )
    found = {s["Package"]: s for s in _parse_stanzas(proc.stdout) if "Package" in s}
    missing = [n for n in wanted if n not in found]
    if missing:
        raise PackageError(
            "package not available from the host's apt sources: " + ", ".join(missing)
        )
    cache.mkdir(parents=True, exist_ok=True)
    tmp = memo_file.with_suffix(".tmp")
    tmp.write_text(json.dumps({"key": key, "stanzas": found}))
    os.replace(tmp, memo_file)
    return found


def depends_closure(names: Iterable[str]) -> list[str]:
    """The real packages reached from ``names`` through Depends and Pre-Depends."""
    out = _run([
        "apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
        "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances", *names,
    ])
    return sorted({ln for ln in out.splitlines() if ln and not ln[0].isspace() and "<" not in ln})


def _deb_name(stanza: dict[str, str]) -> str:
    """The file name ``apt-get download`` gives a package (the epoch's colon URL-quoted)."""
    version = stanza["Version"].replace(":", "%3a")
    return f"{stanza['Package']}_{version}_{stanza['Architecture']}.deb"


def download(names: Iterable[str], debs: Path) -> list[Path]:
    """The .deb files of the candidate versions, fetched into ``debs`` unless already there."""
    debs.mkdir(parents=True, exist_ok=True)
    wanted = sorted(set(names))
    stanzas = candidates(wanted, debs)
    files = {n: debs / _deb_name(stanzas[n]) for n in wanted}
    absent = [f"{n}={stanzas[n]['Version']}" for n, f in files.items() if not f.exists()]
    if absent:
        _run(["apt-get", "download", "-q", *absent], cwd=debs)
    for name, f in files.items():
        if not f.exists():
            raise PackageError(f"apt-get download did not produce {f.name} for {name}")
    return [files[n] for n in wanted]


def unpack(deb: Path, dest: Path) -> None:
    _run(["dpkg-deb", "-x", str(deb), str(dest)])
