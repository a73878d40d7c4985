"""URI scheme -> the driver that opens it: one table, checked in order (cf. libvirt's
virConnectOpenInternal walking its registered drivers, each claiming the URIs it knows).

A URI with a transport or a host goes to the remote driver, whatever its scheme (the far daemon
judges the rest). Of the local URIs, test:/// and qemu:///embed?root=DIR run in-process;
qemu:///system and qemu:///session are served by a qvirtd, reached through the remote driver on
its unix socket (the session daemon started on demand).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from qvirt.client.uri import ConnectURI, no_driver
from qvirt.drivers.base import HypervisorDriver
from qvirt.errors import ConfigUnsupported, ErrorDomain, InternalError, InvalidArg

# An opener: the parsed URI and whether the connection is read-only.
Opener = Callable[[ConnectURI, bool], HypervisorDriver]

# qemu:/// paths the QEMU driver accepts; only embed runs in-process.
QEMU_PATHS = ("/system", "/session", "/embed")
QEMU_DRIVER = "qvirt.drivers.qemu.driver"


def _open_remote(uri: ConnectURI, read_only: bool) -> HypervisorDriver:
    from qvirt.client.remote.driver import RemoteDriver
    return RemoteDriver(uri, read_only)


def _open_test(uri: ConnectURI, read_only: bool) -> HypervisorDriver:
    from qvirt.drivers.test.driver import TestDriver
    return TestDriver(uri.text, uri.path)


def _open_qemu(uri: ConnectURI, read_only: bool) -> HypervisorDriver:
    if uri.path not in QEMU_PATHS:
        raise InternalError(f"unexpected qemu URI path '{uri.path}', try qemu:///system",
                            domain=ErrorDomain.NONE)
    if uri.path != "/embed":
        return _open_remote(uri, read_only)
    root = uri.param("root")
    if root is None:
        raise InvalidArg("Missing URI parameter 'root'", domain=ErrorDomain.URI)
    if not root.startswith("/"):
        raise ConfigUnsupported("root path must be absolute", domain=ErrorDomain.NONE)
    # Imported when asked for: the QEMU driver pulls in much that test:/// never needs.
    try:
        module = importlib.import_module(QEMU_DRIVER)
    except ModuleNotFoundError as err:
        if err.name != QEMU_DRIVER:
            raise
        raise no_driver(uri.text) from None
    driver: HypervisorDriver = module.QemuDriver(uri.text, Path(root))
    return driver


DRIVERS: dict[str, Opener] = {
    "test": _open_test,
    "qemu": _open_qemu,
}


def open_driver(uri: ConnectURI, read_only: bool = False) -> HypervisorDriver:
    """The driver for ``uri``, opened; libvirt's errors for URIs no driver takes."""
    if uri.is_remote:
        return _open_remote(uri, read_only)
    opener = DRIVERS.get(uri.driver)
    if opener is None:
        raise no_driver(uri.text)
    return opener(uri, read_only)
