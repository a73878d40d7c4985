"""qvirtd.conf: libvirt's configuration syntax and libvirtd.conf's keys, with libvirt's errors.

The real libvirtd is the oracle for bad files: run with ``-f FILE`` it stops at the file and
prints "Can't load config file: MESSAGE: FILE"; qvirtd must print the same message. A file
libvirtd loaded would start a second libvirtd that takes the running one's sockets, so every
file is refused by qvirtd first and also names a socket directory of the test's own.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
from importlib import resources
from pathlib import Path

import pytest

from qvirt.daemon.conffile import ConfType, ConfValue, parse_conf
from qvirt.daemon.config import DaemonConfig, Kind, config_from, load_config
from qvirt.daemon.logs import check_priority, parse_outputs
from qvirt.errors import ErrorDomain, ErrorNumber, QvirtError
from tests.daemon.conftest import QVIRTD, conf_text, start_qvirtd, stop_qvirtd, virsh

GOOD = '''# a comment line
listen_tcp = 1   # trailing comment
tcp_port = "16600"; listen_addr = '127.0.0.1'
keepalive_interval = -1
max_clients = +7

log_outputs = """1:file:/tmp/a.log
 3:stderr"""
not_a_qvirt_key = [ "a", 'b',
    1 , [ -2 ], ]
empty = [ ]
listen_tcp = 0
'''


def test_parses_libvirt_syntax() -> None:
    entries = parse_conf(GOOD, "good.conf")
    s, u, i = ConfType.STRING, ConfType.ULLONG, ConfType.LLONG
    assert entries == {
        "listen_tcp": ConfValue(u, 1),  # the first of two wins, as in virConfGetValue
        "tcp_port": ConfValue(s, "16600"),
        "listen_addr": ConfValue(s, "127.0.0.1"),
        "keepalive_interval": ConfValue(i, -1),
        "max_clients": ConfValue(u, 7),
        "log_outputs": ConfValue(s, "1:file:/tmp/a.log\n 3:stderr"),
        "not_a_qvirt_key": ConfValue(ConfType.LIST, (
            ConfValue(s, "a"), ConfValue(s, "b"), ConfValue(u, 1),
            ConfValue(ConfType.LIST, (ConfValue(i, -2),)))),
        "empty": ConfValue(ConfType.LIST, ()),
    }
    config = config_from(entries, "good.conf")
    assert config == dataclasses.replace(
        DaemonConfig(), listen_tcp=True, tcp_port="16600", listen_addr="127.0.0.1",
        keepalive_interval=-1, max_clients=7, log_outputs="1:file:/tmp/a.log\n 3:stderr")


def test_shipped_example_documents_every_key() -> None:
    """qvirt/daemon/qvirtd.conf: as shipped it sets nothing; each key has a commented
    example, and the examples, uncommented, are all well typed."""
    text = (resources.files("qvirt.daemon") / "qvirtd.conf").read_text()
    assert config_from(parse_conf(text, "qvirtd.conf"), "qvirtd.conf") == DaemonConfig()
    examples = re.findall(r"(?m)^#(\w+ = .*)$", text)
    named = {line.split(" ", 1)[0] for line in examples}
    assert named == {f.name for f in dataclasses.fields(DaemonConfig)}
    config = config_from(parse_conf("\n".join(examples), "examples"), "examples")
    assert config.tls_no_verify_certificate and config.unix_sock_group == "libvirt"


def test_defaults_are_libvirtds() -> None:
    """daemonConfigNew's values for the keys qvirtd reads (auth "none": no SASL here)."""
    assert dataclasses.asdict(DaemonConfig()) == {
        "listen_tcp": False, "listen_tls": False, "tls_port": "16514", "tcp_port": "16509",
        "listen_addr": None, "auth_unix_rw": "none", "auth_unix_ro": "none",
        "auth_tcp": "none", "auth_tls": "none", "unix_sock_group": None,
        "unix_sock_ro_perms": "0777", "unix_sock_rw_perms": "0700",
        "tls_no_verify_certificate": False, "key_file": None, "cert_file": None,
        "ca_file": None, "crl_file": None, "max_workers": 20, "max_clients": 5000,
        "max_client_requests": 5, "log_level": 0, "log_outputs": None,
        "keepalive_interval": 5, "keepalive_count": 5}


# Syntax errors: file text and the message libvirt gives (FILE stands for the path).
SYNTAX = {
    "no-value": ("listen_tcp = 1\nauth_tcp = \n", "FILE:2: expecting a value"),
    "bad-name": ("1x = 2\n", "FILE:1: expecting a name"),
    "blank-only": ("   ", "FILE:1: expecting a name"),
    "no-separator": ("a = 1 b = 2\n", "FILE:1: expecting a separator"),
    "number-tail": ("a = 5x\n", "FILE:1: expecting a separator"),
    "no-assignment": ("a 1\n", "FILE:1: expecting an assignment"),
    "open-string": ('a = "x\n', "FILE:1: unterminated string"),
    "open-triple": ('\na = """x\n\ny', "FILE:3: unterminated string"),
    "list-separator": ('a = [ "a" "b" ]\n', "FILE:1: expecting a separator in list"),
    "open-list": ("# c\nx = [1, 2\n", "FILE:3: list is not closed with ]"),
    "bare-sign": ("a = -\n", "FILE:1: unterminated number"),
    "bare-word": ("a = yes\n", "FILE:1: expecting a value"),
}


@pytest.mark.parametrize("case", sorted(SYNTAX))
def test_syntax_errors(case: str) -> None:
    text, message = SYNTAX[case]
    with pytest.raises(QvirtError) as caught:
        parse_conf(text, "/x.conf")
    err = caught.value
    assert (err.code, err.domain) == (ErrorNumber.CONF_SYNTAX, ErrorDomain.CONF)
    assert err.message == "configuration file syntax error: " + message.replace("FILE",
                                                                                "/x.conf")


def _wrong_values(kind: Kind) -> list[tuple[str, str]]:
    """For a key of ``kind``: (value text, libvirt's complaint with NAME for the key)."""
    if kind is Kind.BOOL:
        return [('"1"', "expected a bool for 'NAME' parameter"),
                ("-1", "expected a bool for 'NAME' parameter"),
                ("2", "value for 'NAME' parameter must be 0 or 1")]
    if kind is Kind.INT:
        return [('"5"', "expected a signed integer for 'NAME' parameter"),
                ("2147483648", "value for 'NAME' parameter must be in range "
                               "-2147483648:2147483647")]
    if kind is Kind.UINT:
        return [("-3", "expected an unsigned integer for 'NAME' parameter"),
                ('[ 1 ]', "expected an unsigned integer for 'NAME' parameter"),
                ("4294967296", "value for 'NAME' parameter must be in range 0:4294967295")]
    return [("1", "expected a string for 'NAME' parameter"),
            ('[ "none" ]', "expected a string for 'NAME' parameter")]


# Every key, every wrong type: (file text, message), FILE for the path.
TYPE_ERRORS = [
    (f"{f.name} = {value}\n", "internal error: FILE: " + text.replace("NAME", f.name))
    for f in dataclasses.fields(DaemonConfig) for value, text in _wrong_values(f.metadata["kind"])
] + [
    ('auth_tcp = "foo"\n', "unsupported configuration: FILE: auth_tcp: unsupported auth foo"),
    ("max_workers = 0\n", "internal error: 'max_workers' must be greater than 0"),
    # Checked in libvirt's order, not the file's: listen_tls is read before max_clients.
    ('max_clients = "x"\nlisten_tls = 3\n',
     "internal error: FILE: value for 'listen_tls' parameter must be 0 or 1"),
]


@pytest.mark.parametrize(("text", "message"), TYPE_ERRORS)
def test_type_errors(text: str, message: str) -> None:
    with pytest.raises(QvirtError) as caught:
        config_from(parse_conf(text, "/x.conf"), "/x.conf")
    assert caught.value.message == message.replace("FILE", "/x.conf")


@pytest.mark.parametrize("scheme", ["sasl", "polkit"])
def test_unsupported_auth_is_refused(scheme: str) -> None:
    for key in ("auth_unix_rw", "auth_unix_ro", "auth_tcp", "auth_tls"):
        with pytest.raises(QvirtError) as caught:
            config_from(parse_conf(f'{key} = "{scheme}"\n', "/x.conf"), "/x.conf")
        assert caught.value.message == (f"unsupported configuration: /x.conf: {key}: "
                                        f"unsupported auth {scheme}")


def test_default_file_is_optional(tmp_path: Path) -> None:
    assert load_config(None, tmp_path / "nosuch.conf") == DaemonConfig()
    (tmp_path / "qvirtd.conf").write_text("max_clients = 3\n")
    assert load_config(None, tmp_path / "qvirtd.conf").max_clients == 3
    with pytest.raises(QvirtError) as caught:
        load_config(tmp_path / "nosuch.conf", tmp_path / "qvirtd.conf")
    assert caught.value.message == (f"Failed to open file '{tmp_path}/nosuch.conf': "
                                    "No such file or directory")


LOAD_ERROR = re.compile(r"Can't load config file: (.*)$", re.MULTILINE)


def libvirtd_says(conf: Path, tmp_path: Path) -> str:
    """What the real libvirtd says of ``conf``, which it must refuse to load."""
    proc = subprocess.run(["libvirtd", "-f", str(conf), "-p", str(tmp_path / "libvirtd.pid")],
                          capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode != 0, proc.stderr
    found = LOAD_ERROR.search(proc.stderr)
    assert found is not None, proc.stderr
    return found.group(1)


def qvirtd_says(conf: Path, tmp_path: Path) -> str:
    proc = subprocess.run([QVIRTD, "--root", str(tmp_path / "r"), "--config", str(conf)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 1
    found = LOAD_ERROR.search(proc.stderr)
    assert found is not None, proc.stderr
    return found.group(1)


# Every bad file but the blank one, which the socket directory's line would make a good one.
ORACLE_CASES = {**{f"syntax-{name}": text for name, (text, _) in SYNTAX.items()
                   if text.strip()},
                **{f"type-{n}": text for n, (text, _) in enumerate(TYPE_ERRORS)}}


def qvirt_says(conf: Path) -> str:
    """What qvirtd prints after "Can't load config file: " for ``conf`` (the same loader,
    in this process: test_qvirtd_refuses_sasl_at_startup runs the command itself)."""
    with pytest.raises(QvirtError) as caught:
        load_config(conf, conf)
    return f"{caught.value}: {conf}"


@pytest.mark.compat
def test_errors_match_libvirtd(tmp_path: Path) -> None:
    """Every bad file above, and a missing one and a directory, through both."""
    sockets = tmp_path / "libvirtd-sockets"
    files = [tmp_path / "nosuch.conf", tmp_path]
    for name, text in ORACLE_CASES.items():
        path = tmp_path / f"{name}.conf"
        path.write_text(f'unix_sock_dir = "{sockets}"\n{text}')
        files.append(path)
    for path in files:
        # qvirt first: its refusal guards libvirtd from ever being given a file it loads.
        said = qvirt_says(path)
        assert said == libvirtd_says(path, tmp_path), path.name


def test_qvirtd_refuses_sasl_at_startup(tmp_path: Path) -> None:
    conf = tmp_path / "sasl.conf"
    conf.write_text(conf_text(listen_tcp=1, auth_tcp="sasl"))
    assert qvirtd_says(conf, tmp_path) == (f"unsupported configuration: {conf}: auth_tcp: "
                                           f"unsupported auth sasl: {conf}")
    assert not (tmp_path / "r" / "run").exists()


def test_bad_log_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(QvirtError) as caught:
        check_priority(5)
    assert caught.value.message == ("invalid argument: Failed to set logging priority, "
                                    "argument '5' is invalid")
    cases = {
        "3": "Malformed format for log output '3'",
        "9:stderr": "Invalid log priority '9' for log output '9:stderr'",
        "1:stdout": "Invalid log destination 'stdout' for log output '1:stdout'",
        "3:stderr 1:file": "Log output '1:file' does not meet the format requirements for "
                           "destination type 'file'",
    }
    for outputs, message in cases.items():
        with pytest.raises(QvirtError) as caught:
            parse_outputs(outputs)
        assert caught.value.message == f"invalid argument: {message}", outputs
    # And qvirtd stops on them before it binds anything.
    conf = tmp_path / "log.conf"
    conf.write_text('log_outputs = "1:stdout"\n')
    proc = subprocess.run([QVIRTD, "--root", str(tmp_path / "r"), "--config", str(conf)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert (proc.returncode, proc.stderr) == (
        1, f"qvirtd: error: invalid argument: {cases['1:stdout']}\n")
    assert not (tmp_path / "r").exists()


def test_log_level_and_outputs(tmp_path: Path) -> None:
    """log_level bounds every output; each output has its own level on top."""
    info, debug = tmp_path / "info.log", tmp_path / "debug.log"
    conf = tmp_path / "log.conf"
    conf.write_text(conf_text(log_level=1, log_outputs=f"2:file:{info} 1:file:{debug}"))
    daemon = start_qvirtd(tmp_path / "r", "--config", str(conf))
    try:
        assert virsh(daemon.uri, "uri").returncode == 0
    finally:
        out = stop_qvirtd(daemon)
    assert daemon.proc.returncode == 0, out
    stamp = r"(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\+0000: \d+: "
    assert re.search(stamp + "info : qvirt.daemon.server : listening on .*/qvirt-sock$",
                     info.read_text())
    assert " debug : " not in info.read_text()
    assert re.search(stamp + "debug : qvirt.daemon.server : new client from unix socket$",
                     debug.read_text())
    # At the default level (warnings) the same outputs stay empty.
    info.unlink()
    conf.write_text(conf_text(log_outputs=f"1:file:{info}"))
    daemon = start_qvirtd(tmp_path / "r", "--config", str(conf))
    stop_qvirtd(daemon)
    assert info.read_text() == ""
