"""libvirt's own schema check, as its users run it: virt-xml-validate FILE SCHEMA."""

from __future__ import annotations

import subprocess
from pathlib import Path


def schema_errors(xml: str, schema: str, tmp_path: Path) -> str:
    """What libvirt's virt-xml-validate says of ``xml`` ("" when it validates)."""
    doc = tmp_path / "doc.xml"
    doc.write_text(xml)
    proc = subprocess.run(["virt-xml-validate", str(doc), schema], capture_output=True,
                          text=True, check=False)
    return "" if proc.returncode == 0 else proc.stderr
