"""URI scheme -> the driver that opens it: one table, checked in order (cf. libvirt's
virConnectOpenInternal walking its registered drivers, each claiming the URIs it knows).

Only in-process drivers are here: qemu:///embed?root=DIR and test:///. qemu:///system,
qemu:///session and every remote URI need the daemon and its remote driver, which do not exist
yet; they get libvirt's "no connection driver available" error.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from qvirt.client.uri import ConnectURI, no_driver
from qvirt.drivers.base import HypervisorDriver
from qvirt.errors import ConfigUnsupported, ErrorDomain, InternalError, InvalidArg

Opener = Callable[[ConnectURI], HypervisorDriver]

# qemu:/// paths the QEMU driver accepts; only embed runs in-process.
QEMU_PATHS = ("/system", "/session", "/embed")
QEMU_DRIVER = "qvirt.drivers.qemu.driver"


def _open_test(uri: ConnectURI) -> HypervisorDriver:
    from qvirt.drivers.test.driver import TestDriver
    return TestDriver(uri.text, uri.path)


def _open_qemu(uri: ConnectURI) -> HypervisorDriver:
    if uri.path not in QEMU_PATHS:
        raise InternalError(f"unexpected qemu URI path '{uri.path}', try qemu:///system",
                            domain=ErrorDomain.NONE)
    if uri.path != "/embed":
        raise no_driver(uri.text)
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


def open_driver(uri: ConnectURI) -> HypervisorDriver:
    """The driver for ``uri``, opened; libvirt's errors for URIs no driver takes."""
    opener = DRIVERS.get(uri.driver)
    if opener is None or uri.is_remote:
        raise no_driver(uri.text)
    return opener(uri)
