"""URI parsing: the forms of the guide's chapter 5 and DESIGN.md contract 4, and libvirt's errors
for the ones it refuses."""

from __future__ import annotations

import pytest

from qvirt.client.uri import ConnectURI, parse_uri
from qvirt.errors import ErrorDomain, ErrorNumber, QvirtError

# uri -> (driver, transport used, user, host, port used, path, remote?)
PARSED = [
    ("qemu:///system", ("qemu", "unix", None, None, None, "/system", False)),
    ("qemu:///session", ("qemu", "unix", None, None, None, "/session", False)),
    ("qemu://host2/", ("qemu", "tls", None, "host2", 16514, "/", True)),
    ("qemu+ssh://virtuser@host2/", ("qemu", "ssh", "virtuser", "host2", 22, "/", True)),
    ("qemu+ssh://host2.example.com/system",
     ("qemu", "ssh", None, "host2.example.com", 22, "/system", True)),
    ("qemu+unix:///system?socket=/opt/libvirt/run/libvirt/libvirt-sock",
     ("qemu", "unix", None, None, None, "/system", True)),
    ("test+tcp://10.1.1.10:5000/default", ("test", "tcp", None, "10.1.1.10", 5000, "/default",
                                           True)),
    ("qemu+tcp://h/system", ("qemu", "tcp", None, "h", 16509, "/system", True)),
    ("qemu+tls://h:1234/system", ("qemu", "tls", None, "h", 1234, "/system", True)),
    ("xen://hostname/", ("xen", "tls", None, "hostname", 16514, "/", True)),
    ("xen+ssh://hostname/", ("xen", "ssh", None, "hostname", 22, "/", True)),
    ("remote://host2/", ("remote", "tls", None, "host2", 16514, "/", True)),
    ("qemu+ext:///system?command=/bin/true", ("qemu", "ext", None, None, None, "/system", True)),
    ("qemu+ssh://root@[::1]:2222/system", ("qemu", "ssh", "root", "::1", 2222, "/system", True)),
    ("test:///default", ("test", "unix", None, None, None, "/default", False)),
    ("test:///tmp/node.xml", ("test", "unix", None, None, None, "/tmp/node.xml", False)),
    ("qemu:///embed?root=/tmp/x", ("qemu", "unix", None, None, None, "/embed", False)),
    ("test:", ("test", "unix", None, None, None, "", False)),
    ("test:///default#fragment", ("test", "unix", None, None, None, "/default", False)),
]


@pytest.mark.parametrize(("text", "expected"), PARSED, ids=[p[0] for p in PARSED])
def test_parse(text: str, expected: tuple[object, ...]) -> None:
    uri = parse_uri(text)
    assert (uri.driver, uri.effective_transport, uri.user, uri.host, uri.effective_port,
            uri.path, uri.is_remote) == expected
    assert uri.text == text


def test_params_keep_order_repeats_and_unescape() -> None:
    uri = parse_uri("qemu+ssh://h/system?socket=%2Ftmp%2Fx&foo=bar&no_tty=1&foo=baz+qux")
    assert uri.params == (("socket", "/tmp/x"), ("foo", "bar"), ("no_tty", "1"),
                          ("foo", "baz qux"))
    assert uri.param("socket") == "/tmp/x"
    assert uri.param("foo") == "baz qux"
    assert uri.param("netcat") is None


def test_unknown_params_are_ignored() -> None:
    assert parse_uri("qemu+tcp://h/system?foo=bar").param("foo") == "bar"


@pytest.mark.parametrize(("text", "name"), [
    ("qemu+ssh://u@h:2222/system?no_tty=1", "qemu:///system"),
    ("qemu+ssh://u@h/system?name=test:///default", "test:///default"),
    ("test+tcp://10.1.1.10:5000/default", "test:///default"),
    ("qemu+tcp://h/system?foo=bar&socket=/x", "qemu:///system?foo=bar"),
])
def test_remote_name(text: str, name: str) -> None:
    assert parse_uri(text).remote_name == name


# uri -> (code, domain, message)
REFUSED = [
    ("::::", ErrorNumber.INTERNAL_ERROR, ErrorDomain.URI,
     "internal error: Unable to parse URI ::::"),
    ("qemu+tcp://h:abc/system", ErrorNumber.INTERNAL_ERROR, ErrorDomain.URI,
     "internal error: Unable to parse URI qemu+tcp://h:abc/system"),
    ("qemu+foo://h/system", ErrorNumber.INVALID_ARG, ErrorDomain.REMOTE,
     "invalid argument: remote_open: transport in URL not recognised "
     "(should be tls|unix|ssh|ext|tcp|libssh2|libssh)"),
    ("qemu+ext:///system", ErrorNumber.INVALID_ARG, ErrorDomain.REMOTE,
     "invalid argument: remote_open: for 'ext' transport, command is required"),
    ("qemu+unix://host/system", ErrorNumber.INVALID_ARG, ErrorDomain.REMOTE,
     "invalid argument: using unix socket and remote server 'host' is not supported."),
    ("qemu+ssh://h/system?mode=bogus", ErrorNumber.INVALID_ARG, ErrorDomain.REMOTE,
     "invalid argument: Unknown remote mode 'bogus'"),
]


@pytest.mark.parametrize(("text", "code", "domain", "message"), REFUSED,
                         ids=[r[0] for r in REFUSED])
def test_refused(text: str, code: int, domain: int, message: str) -> None:
    with pytest.raises(QvirtError) as caught:
        parse_uri(text)
    assert (caught.value.code, caught.value.domain, caught.value.message) == (code, domain,
                                                                             message)


def test_uri_is_a_value() -> None:
    assert parse_uri("test:///default") == ConnectURI(text="test:///default", driver="test",
                                                      path="/default")
