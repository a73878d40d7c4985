"""The test driver through its driver interface: shared and private nodes, node files, state
transitions, list filters, flag checks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from qvirt import constants as C
from qvirt.drivers.base import DomainRef
from qvirt.drivers.test import driver as test_driver
from qvirt.errors import ErrorDomain, ErrorNumber, QvirtError

NS = "xmlns:test='http://libvirt.org/schemas/domain/test/1.0'"
DOMAIN = ("<domain type='test'><name>{name}</name><memory>1024</memory>"
          "<os><type>hvm</type></os>{extra}</domain>")


@pytest.fixture
def default() -> Iterator[test_driver.TestDriver]:
    drv = test_driver.TestDriver("test:///default", "/default")
    yield drv
    drv.connect_close()


def node_file(tmp_path: Path, body: str, name: str = "node.xml") -> str:
    path = tmp_path / name
    path.write_text(f"<node {NS}>{body}</node>")
    return str(path)


def error(call: object, *args: object) -> tuple[int, int, str]:
    with pytest.raises(QvirtError) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value.code, caught.value.domain, caught.value.message


def test_default_node_is_shared_until_the_last_close() -> None:
    first = test_driver.TestDriver("test:///default", "/default")
    second = test_driver.TestDriver("test:///default", "/default")
    first.domain_define_xml_flags(DOMAIN.format(name="shared", extra=""))
    assert second.domain_lookup_by_name("shared").name == "shared"
    first.connect_close()
    assert second.domain_lookup_by_name("shared").name == "shared"
    second.connect_close()
    third = test_driver.TestDriver("test:///default", "/default")
    try:
        assert [d.name for d in third.connect_list_all_domains()] == ["test"]
    finally:
        third.connect_close()


def test_node_files_are_private(tmp_path: Path) -> None:
    path = node_file(tmp_path, DOMAIN.format(name="a", extra=""))
    one = test_driver.TestDriver(f"test://{path}", path)
    two = test_driver.TestDriver(f"test://{path}", path)
    one.domain_destroy_flags(one.domain_lookup_by_name("a"))
    assert one.domain_get_state(one.domain_lookup_by_name("a")) == (
        C.VIR_DOMAIN_SHUTOFF, C.VIR_DOMAIN_SHUTOFF_DESTROYED)
    assert two.domain_get_state(two.domain_lookup_by_name("a")) == (C.VIR_DOMAIN_RUNNING, 0)


def test_node_file_host_numbers(tmp_path: Path) -> None:
    path = node_file(tmp_path, "<cpu><nodes>1</nodes><sockets>1</sockets><cores>2</cores>"
                               "<threads>2</threads><mhz>900</mhz><model>custom</model></cpu>"
                               "<memory>1048576</memory>")
    info = test_driver.TestDriver(f"test://{path}", path).node_get_info()
    assert (info.model, info.memory, info.cpus, info.mhz, info.nodes, info.sockets, info.cores,
            info.threads) == ("custom", 1048576, 4, 900, 1, 1, 2, 2)


# body of a node file -> the error libvirt 9.0 gives for it (checked with its test driver)
BAD_NODES = [
    (DOMAIN.format(name="a", extra="<test:runstate>9</test:runstate>"),
     "XML error: runstate '9' out of range'"),
    (DOMAIN.format(name="a", extra="<test:runstate>5</test:runstate><test:transient/>"),
     "XML error: transient domain cannot have runstate 'shutoff'"),
    ("<domain file='missing.xml'/>", "XML error: failed to parse xml document '{dir}/missing.xml'"),
    ("<cpu><mhz>abc</mhz></cpu>", "XML error: invalid node cpu mhz value"),
]


@pytest.mark.parametrize(("body", "message"), BAD_NODES)
def test_bad_node_files(tmp_path: Path, body: str, message: str) -> None:
    path = node_file(tmp_path, body)
    assert error(test_driver.TestDriver, f"test://{path}", path) == (
        ErrorNumber.XML_ERROR, ErrorDomain.TEST, message.format(dir=tmp_path))


def test_runstates_from_the_node_file(tmp_path: Path) -> None:
    path = node_file(tmp_path, "".join([
        DOMAIN.format(name="off", extra="<test:runstate>5</test:runstate>"),
        DOMAIN.format(name="paused", extra="<test:runstate>3</test:runstate>"),
        DOMAIN.format(name="temp", extra="<test:transient/>"),
    ]))
    drv = test_driver.TestDriver(f"test://{path}", path)
    states = {d.name: (drv.domain_get_state(d), d.id, drv.domain_is_persistent(d))
              for d in drv.connect_list_all_domains()}
    assert states == {"off": ((C.VIR_DOMAIN_SHUTOFF, 0), -1, True),
                      "paused": ((C.VIR_DOMAIN_PAUSED, 0), 1, True),
                      "temp": ((C.VIR_DOMAIN_RUNNING, 0), 2, False)}


def test_list_filters(tmp_path: Path) -> None:
    path = node_file(tmp_path, "".join([
        DOMAIN.format(name="off", extra="<test:runstate>5</test:runstate>"),
        DOMAIN.format(name="paused", extra="<test:runstate>3</test:runstate>"),
        DOMAIN.format(name="temp", extra="<test:transient/>"),
    ]))
    drv = test_driver.TestDriver(f"test://{path}", path)
    drv.domain_set_autostart(drv.domain_lookup_by_name("off"), True)
    table = {
        C.VIR_CONNECT_LIST_DOMAINS_ACTIVE: {"paused", "temp"},
        C.VIR_CONNECT_LIST_DOMAINS_INACTIVE: {"off"},
        C.VIR_CONNECT_LIST_DOMAINS_TRANSIENT: {"temp"},
        C.VIR_CONNECT_LIST_DOMAINS_PERSISTENT | C.VIR_CONNECT_LIST_DOMAINS_ACTIVE: {"paused"},
        C.VIR_CONNECT_LIST_DOMAINS_RUNNING | C.VIR_CONNECT_LIST_DOMAINS_SHUTOFF: {"temp", "off"},
        C.VIR_CONNECT_LIST_DOMAINS_PAUSED: {"paused"},
        C.VIR_CONNECT_LIST_DOMAINS_AUTOSTART: {"off"},
        C.VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART: {"paused", "temp"},
        C.VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT: set(),
        0: {"off", "paused", "temp"},
    }
    for flags, names in table.items():
        assert {d.name for d in drv.connect_list_all_domains(flags)} == names, flags


@pytest.mark.parametrize("method", sorted(test_driver.FLAGS))
def test_unknown_flags_are_refused(default: test_driver.TestDriver, method: str) -> None:
    function, allowed = test_driver.FLAGS[method]
    bit = 1 << 30
    assert not allowed & bit
    call = getattr(default, method)
    args: tuple[object, ...]
    if method.startswith("domain_define") or method == "domain_create_xml":
        args = (DOMAIN.format(name="flags", extra=""), bit)
    elif method.startswith("connect_") or method == "node_get_cpu_map":
        args = (bit,)
    elif method == "node_get_cpu_stats":
        args = (-1, bit)
    elif method == "domain_screenshot":
        args = (default.domain_lookup_by_name("test"), 0, bit)
    elif method == "domain_get_metadata":
        args = (default.domain_lookup_by_name("test"), 0, None, bit)
    elif method == "domain_set_metadata":
        args = (default.domain_lookup_by_name("test"), 0, "x", None, None, bit)
    else:
        args = (default.domain_lookup_by_name("test"), bit)
    assert error(call, *args) == (ErrorNumber.INVALID_ARG, ErrorDomain.TEST,
                                  f"unsupported flags (0x{bit:x}) in function {function}")


def test_lifecycle_actions(default: test_driver.TestDriver) -> None:
    ref = default.domain_define_xml_flags(DOMAIN.format(
        name="acts", extra="<on_poweroff>restart</on_poweroff><on_reboot>destroy</on_reboot>"))
    started = default.domain_create_with_flags(ref)
    default.domain_shutdown_flags(started)  # on_poweroff=restart keeps it running
    assert default.domain_get_state(ref) == (C.VIR_DOMAIN_RUNNING, C.VIR_DOMAIN_RUNNING_BOOTED)
    default.domain_reboot(started)          # on_reboot=destroy stops it
    assert default.domain_get_state(ref) == (C.VIR_DOMAIN_SHUTOFF,
                                             C.VIR_DOMAIN_SHUTOFF_SHUTDOWN)
    assert default.domain_lookup_by_name("acts").id == -1
    default.domain_undefine_flags(ref)


def test_ids_keep_counting(default: test_driver.TestDriver) -> None:
    ref = default.domain_define_xml_flags(DOMAIN.format(name="ids", extra=""))
    first = default.domain_create_with_flags(ref).id
    default.domain_destroy_flags(ref)
    second = default.domain_create_with_flags(ref).id
    assert second == first + 1
    assert default.domain_lookup_by_id(second).name == "ids"
    default.domain_destroy_flags(ref)
    default.domain_undefine_flags(ref)


def test_stale_handle(default: test_driver.TestDriver) -> None:
    ghost = DomainRef(name="ghost", uuid="8b2f3a52-6c1e-4c5f-9a57-1a2b3c4d5e99")
    assert error(default.domain_get_info, ghost) == (
        ErrorNumber.NO_DOMAIN, ErrorDomain.TEST,
        "Domain not found: no domain with matching uuid "
        "'8b2f3a52-6c1e-4c5f-9a57-1a2b3c4d5e99' (ghost)")


def test_the_default_nodes_other_objects(default: test_driver.TestDriver) -> None:
    """What `virsh net-list --all`, `iface-list --all` and `nodedev-list`
    show on libvirt's test:///default."""
    net = default.network
    assert [(n.name, n.uuid, net.network_is_active(n), net.network_is_persistent(n),
             net.network_get_autostart(n))
            for n in net.connect_list_all_networks()] == [
        ("default", "dd8fe884-6c02-601e-7551-cca97df1c5df", True, True, False)]
    assert [(i.name, i.active) for i in default.interface_list()] == [("eth1", True)]
    assert [d.name for d in default.node_device_list()] == [
        "computer", "scsi_host1", "scsi_host2", "scsi_host11"]
