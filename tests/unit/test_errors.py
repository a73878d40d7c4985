"""libvirt's error numbers are wire ABI and its texts are what virsh prints: both pinned."""

from __future__ import annotations

from qvirt.errors import (
    ConfigUnsupported,
    ErrorDomain,
    ErrorNumber,
    QvirtError,
    XMLError,
    error_message,
)


def test_numbers_match_virterror_h() -> None:
    pinned = {"XML_ERROR": 27, "OPERATION_DENIED": 29, "NO_DOMAIN": 42, "OPERATION_INVALID": 55,
              "CONFIG_UNSUPPORTED": 67, "XML_INVALID_SCHEMA": 92, "MULTIPLE_DOMAINS": 110}
    for name, number in pinned.items():
        assert ErrorNumber[name] == number
    assert [e.value for e in ErrorNumber] == list(range(111))
    assert (int(ErrorDomain.DOMAIN), int(ErrorDomain.QEMU), int(ErrorDomain.CH)) == (20, 10, 72)
    assert [d.value for d in ErrorDomain] == list(range(73))


def test_messages_as_virerror_c_builds_them() -> None:
    assert error_message(ErrorNumber.NO_DOMAIN, "no domain with matching name 'x'") == (
        "Domain not found: no domain with matching name 'x'")
    assert error_message(ErrorNumber.DOM_EXIST, "foo") == "domain foo exists already"
    assert error_message(ErrorNumber.OPERATION_DENIED, None) == (
        "operation forbidden for read only access")
    assert error_message(ErrorNumber.XML_DETAIL, "raw parser text") == "raw parser text"


def test_error_objects_carry_libvirt_fields() -> None:
    err = XMLError("missing name")
    assert str(err) == "XML error: missing name"
    # The document being parsed fills the domain in (VIR_FROM_DOMAIN, VIR_FROM_NETWORK...).
    assert (err.get_error_code(), err.get_error_domain()) == (27, 0)
    assert err.get_str1() == "XML error: %s" and err.get_str2() == "missing name"
    custom = QvirtError("x", code=ErrorNumber.NO_NETWORK, domain=ErrorDomain.NETWORK)
    assert custom.get_error_message() == "Network not found: x"
    assert ConfigUnsupported("nope").message == "unsupported configuration: nope"
