"""The daemon fixtures of tests/daemon, for the remote driver's tests here."""

from tests.daemon.conftest import guest_dir, qvirtd

__all__ = ["guest_dir", "qvirtd"]
