"""qvirtd's fixtures, for the command's sessions against a daemon (console)."""

from tests.daemon.conftest import guest_dir, qvirtd  # noqa: F401
