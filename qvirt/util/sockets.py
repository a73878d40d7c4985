"""Where qvirtd's unix sockets live, for the daemon that binds them and the client that finds
them: one place, so the two never disagree (libvirt keeps this in virGetUserRuntimeDirectory
and the remote driver's socket-name logic).

System mode: /run/qvirt. Session mode: $XDG_RUNTIME_DIR/qvirt, or ~/.cache/qvirt when the
variable is unset (as libvirt falls back to its cache directory). A daemon started with
``--root DIR`` keeps its sockets under DIR/run/qvirt.
"""

from __future__ import annotations

import os
from pathlib import Path

SOCK_RW = "qvirt-sock"
SOCK_RO = "qvirt-sock-ro"

SYSTEM_RUN_DIR = Path("/run/qvirt")


def root_socket_dir(root: Path) -> Path:
    return root / "run" / "qvirt"


def session_socket_dir() -> Path:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return Path(runtime) / "qvirt"
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "qvirt"
