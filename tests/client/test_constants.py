"""libvirt-python's constants: qvirt has every one, with libvirt's value, and its error tables
agree with them."""

from __future__ import annotations

import json
import subprocess

import pytest

import qvirt
from qvirt import constants
from qvirt.errors import ErrorDomain, ErrorNumber

DUMP = ("import json, libvirt; print(json.dumps({k: getattr(libvirt, k) for k in dir(libvirt) "
        "if k.startswith('VIR_')}))")


@pytest.mark.compat
def test_every_constant_of_libvirt_python() -> None:
    out = subprocess.run(["/usr/bin/python3", "-c", DUMP], capture_output=True, text=True,
                         check=True).stdout
    theirs = json.loads(out)
    ours = {k: v for k, v in vars(constants).items() if k.startswith("VIR_")}
    assert ours == theirs


def test_package_namespace_is_libvirts() -> None:
    assert qvirt.VIR_DOMAIN_RUNNING == 1
    assert qvirt.VIR_DOMAIN_SHUTOFF_DESTROYED == 2
    assert qvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE == 1
    assert qvirt.libvirtError is qvirt.errors.QvirtError
    assert callable(qvirt.open) and callable(qvirt.openReadOnly)


def test_error_numbers_agree() -> None:
    for number in ErrorNumber:
        prefix = "VIR_WAR_" if number.name.startswith("WAR_") else "VIR_ERR_"
        name = prefix + number.name.removeprefix("WAR_")
        assert getattr(constants, name) == number, name


def test_error_domains_agree() -> None:
    for domain in ErrorDomain:
        assert getattr(constants, f"VIR_FROM_{domain.name}") == domain, domain.name
