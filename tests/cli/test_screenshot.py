"""screenshot's file beside virsh's on test:///default: the same bytes (libvirt's test
picture), an existing file overwritten, and without --file a name made of the domain's name,
the local time and the type's extension."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

QVIRT = str(Path(sys.executable).parent / "qvirt")


def shoot(tool: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool, "-c", "test:///default", "screenshot", "test", *args],
                          cwd=cwd, capture_output=True, text=True, check=False, timeout=60)


def test_same_picture_as_virsh(tmp_path: Path) -> None:
    files = {}
    for tool in ("virsh", QVIRT):
        target = tmp_path / f"{os.path.basename(tool)}.png"
        target.write_bytes(b"x" * 100_000)  # longer than the picture: truncated, not kept
        assert shoot(tool, tmp_path, "--file", str(target)).returncode == 0
        files[tool] = target.read_bytes()
    assert files[QVIRT] == files["virsh"]
    assert files[QVIRT].startswith(b"\x89PNG")


def test_generated_name(tmp_path: Path) -> None:
    done = shoot(QVIRT, tmp_path)
    assert done.returncode == 0
    made = [p.name for p in tmp_path.iterdir()]
    assert len(made) == 1
    assert re.fullmatch(r"test-\d{4}-\d\d-\d\d-\d\d:\d\d:\d\d\.png", made[0])
    assert done.stdout == f"Screenshot saved to {made[0]}, with type of image/png\n"
