"""The REMOTE program's table: procedure numbers and priorities pinned (wire ABI, copied from
remote_protocol.x), and every procedure's args and ret round-tripping."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qvirt.errors import InvalidArg
from qvirt.rpc.errors import RPCError, XDRError
from qvirt.rpc.packet import (
    QEMU_PROGRAM,
    REMOTE_PROGRAM,
    REMOTE_PROTOCOL_VERSION,
    Header,
    Message,
    MessageType,
    Status,
    decode_message,
)
from qvirt.rpc.remote import (
    BY_NAME,
    PROCEDURE_LIST,
    PROCEDURES,
    REMOTE_STRING_MAX,
    Kind,
    NonnullDomain,
    Priority,
    Procedure,
    RemoteError,
    call_frame,
    decode_call,
    error_frame,
    error_from_wire,
    event_frame,
    reply_frame,
)
from qvirt.rpc.xdr import (
    Bool,
    Char,
    CharVector,
    Double,
    Enum,
    FixedArray,
    FixedOpaque,
    Hyper,
    Int,
    Optional,
    Short,
    String,
    Struct,
    UChar,
    UHyper,
    UInt,
    Union,
    UShort,
    VarArray,
    VarOpaque,
    Void,
    XDRType,
    pack,
    unpack,
)

# REMOTE_PROC_* = number, and whether remote_protocol.x marks it "@priority: high".
PINNED: dict[str, tuple[int, bool]] = {
    "CONNECT_OPEN": (1, True), "CONNECT_CLOSE": (2, True), "CONNECT_GET_TYPE": (3, True),
    "CONNECT_GET_VERSION": (4, True), "CONNECT_GET_MAX_VCPUS": (5, True),
    "NODE_GET_INFO": (6, True), "CONNECT_GET_CAPABILITIES": (7, False),
    "DOMAIN_CREATE": (9, False), "DOMAIN_CREATE_XML": (10, False),
    "DOMAIN_DEFINE_XML": (11, True), "DOMAIN_DESTROY": (12, True),
    "DOMAIN_GET_XML_DESC": (14, False), "DOMAIN_GET_AUTOSTART": (15, True),
    "DOMAIN_GET_INFO": (16, False), "DOMAIN_GET_MAX_MEMORY": (17, True),
    "DOMAIN_GET_OS_TYPE": (19, True), "CONNECT_LIST_DEFINED_DOMAINS": (21, True),
    "DOMAIN_LOOKUP_BY_ID": (22, True), "DOMAIN_LOOKUP_BY_NAME": (23, True),
    "DOMAIN_LOOKUP_BY_UUID": (24, True), "CONNECT_NUM_OF_DEFINED_DOMAINS": (25, True),
    "DOMAIN_REBOOT": (27, False), "DOMAIN_RESUME": (28, False),
    "DOMAIN_SET_AUTOSTART": (29, True), "DOMAIN_SHUTDOWN": (33, False),
    "DOMAIN_SUSPEND": (34, False), "DOMAIN_UNDEFINE": (35, True),
    "CONNECT_LIST_DOMAINS": (37, True), "CONNECT_NUM_OF_DOMAINS": (51, True),
    "CONNECT_GET_HOSTNAME": (59, True), "CONNECT_SUPPORTS_FEATURE": (60, True),
    "AUTH_LIST": (66, True), "AUTH_POLKIT": (70, True), "DOMAIN_EVENT_LIFECYCLE": (107, False),
    "CONNECT_GET_URI": (110, True), "DOMAIN_GET_SECURITY_LABEL": (121, True),
    "NODE_GET_SECURITY_MODEL": (122, True),
    "DOMAIN_IS_ACTIVE": (150, True), "DOMAIN_IS_PERSISTENT": (151, True),
    "CONNECT_GET_LIB_VERSION": (157, True), "DOMAIN_GET_JOB_INFO": (163, False),
    "CONNECT_DOMAIN_EVENT_REGISTER_ANY": (167, True),
    "CONNECT_DOMAIN_EVENT_DEREGISTER_ANY": (168, True),
    "DOMAIN_HAS_MANAGED_SAVE_IMAGE": (183, False), "DOMAIN_CREATE_WITH_FLAGS": (196, False),
    "DOMAIN_GET_VCPUS_FLAGS": (200, False), "DOMAIN_OPEN_CONSOLE": (201, False),
    "CONNECT_GET_SYSINFO": (203, True), "DOMAIN_SCREENSHOT": (211, False),
    "DOMAIN_GET_STATE": (212, True), "DOMAIN_GET_CONTROL_INFO": (229, True),
    "DOMAIN_UNDEFINE_FLAGS": (231, True), "DOMAIN_DESTROY_FLAGS": (234, True),
    "DOMAIN_RESET": (245, False), "DOMAIN_SHUTDOWN_FLAGS": (258, False),
    "DOMAIN_SET_METADATA": (264, False), "DOMAIN_GET_METADATA": (265, False),
    "NODE_GET_CELLS_FREE_MEMORY": (101, True), "NODE_GET_FREE_MEMORY": (102, True),
    "CONNECT_DOMAIN_XML_TO_NATIVE": (136, False), "NODE_GET_CPU_STATS": (227, True),
    "NODE_GET_MEMORY_STATS": (228, True), "NODE_GET_CPU_MAP": (293, False),
    "CONNECT_LIST_ALL_DOMAINS": (273, True),
    "CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY": (316, True),
    "CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY": (317, True),
    "DOMAIN_EVENT_CALLBACK_LIFECYCLE": (318, False),
    "CONNECT_GET_DOMAIN_CAPABILITIES": (342, False), "DOMAIN_DEFINE_XML_FLAGS": (350, True),
    "CONNECT_REGISTER_CLOSE_CALLBACK": (360, False),
    "CONNECT_UNREGISTER_CLOSE_CALLBACK": (361, False),
    # Storage.
    "CONNECT_NUM_OF_STORAGE_POOLS": (71, True), "CONNECT_LIST_STORAGE_POOLS": (72, True),
    "CONNECT_NUM_OF_DEFINED_STORAGE_POOLS": (73, True),
    "CONNECT_LIST_DEFINED_STORAGE_POOLS": (74, True),
    "CONNECT_FIND_STORAGE_POOL_SOURCES": (75, False), "STORAGE_POOL_CREATE_XML": (76, False),
    "STORAGE_POOL_DEFINE_XML": (77, True), "STORAGE_POOL_CREATE": (78, False),
    "STORAGE_POOL_BUILD": (79, False), "STORAGE_POOL_DESTROY": (80, True),
    "STORAGE_POOL_DELETE": (81, False), "STORAGE_POOL_UNDEFINE": (82, True),
    "STORAGE_POOL_REFRESH": (83, False), "STORAGE_POOL_LOOKUP_BY_NAME": (84, True),
    "STORAGE_POOL_LOOKUP_BY_UUID": (85, True), "STORAGE_POOL_LOOKUP_BY_VOLUME": (86, True),
    "STORAGE_POOL_GET_INFO": (87, True), "STORAGE_POOL_GET_XML_DESC": (88, True),
    "STORAGE_POOL_GET_AUTOSTART": (89, True), "STORAGE_POOL_SET_AUTOSTART": (90, True),
    "STORAGE_POOL_NUM_OF_VOLUMES": (91, True), "STORAGE_POOL_LIST_VOLUMES": (92, True),
    "STORAGE_VOL_CREATE_XML": (93, False), "STORAGE_VOL_DELETE": (94, False),
    "STORAGE_VOL_LOOKUP_BY_NAME": (95, True), "STORAGE_VOL_LOOKUP_BY_KEY": (96, True),
    "STORAGE_VOL_LOOKUP_BY_PATH": (97, True), "STORAGE_VOL_GET_INFO": (98, True),
    "STORAGE_VOL_GET_XML_DESC": (99, True), "STORAGE_VOL_GET_PATH": (100, True),
    "STORAGE_VOL_CREATE_XML_FROM": (125, False), "STORAGE_POOL_IS_ACTIVE": (154, True),
    "STORAGE_POOL_IS_PERSISTENT": (155, True), "STORAGE_VOL_WIPE": (165, False),
    "STORAGE_VOL_UPLOAD": (208, False), "STORAGE_VOL_DOWNLOAD": (209, False),
    "STORAGE_VOL_WIPE_PATTERN": (259, False), "STORAGE_VOL_RESIZE": (260, False),
    "CONNECT_LIST_ALL_STORAGE_POOLS": (281, True), "STORAGE_POOL_LIST_ALL_VOLUMES": (282, True),
    "CONNECT_STORAGE_POOL_EVENT_REGISTER_ANY": (368, True),
    "CONNECT_STORAGE_POOL_EVENT_DEREGISTER_ANY": (369, True),
    "STORAGE_POOL_EVENT_LIFECYCLE": (370, False), "STORAGE_POOL_EVENT_REFRESH": (373, False),
    "STORAGE_VOL_GET_INFO_FLAGS": (378, True), "STORAGE_POOL_LOOKUP_BY_TARGET_PATH": (391, True),
    "CONNECT_GET_STORAGE_POOL_CAPABILITIES": (403, False),
    # networks
    "CONNECT_LIST_DEFINED_NETWORKS": (36, True), "CONNECT_LIST_NETWORKS": (38, True),
    "NETWORK_CREATE": (39, False), "NETWORK_CREATE_XML": (40, False),
    "NETWORK_DEFINE_XML": (41, True), "NETWORK_DESTROY": (42, True),
    "NETWORK_GET_XML_DESC": (43, True), "NETWORK_GET_AUTOSTART": (44, True),
    "NETWORK_GET_BRIDGE_NAME": (45, True), "NETWORK_LOOKUP_BY_NAME": (46, True),
    "NETWORK_LOOKUP_BY_UUID": (47, True), "NETWORK_SET_AUTOSTART": (48, True),
    "NETWORK_UNDEFINE": (49, True), "CONNECT_NUM_OF_DEFINED_NETWORKS": (50, True),
    "CONNECT_NUM_OF_NETWORKS": (52, True), "NETWORK_IS_ACTIVE": (152, True),
    "NETWORK_IS_PERSISTENT": (153, True), "CONNECT_LIST_ALL_NETWORKS": (283, True),
    "NETWORK_UPDATE": (291, True), "CONNECT_NETWORK_EVENT_REGISTER_ANY": (313, True),
    "CONNECT_NETWORK_EVENT_DEREGISTER_ANY": (314, True),
    "NETWORK_EVENT_LIFECYCLE": (315, False), "NETWORK_GET_DHCP_LEASES": (341, False),
    "NETWORK_DEFINE_XML_FLAGS": (432, True), "NETWORK_CREATE_XML_FLAGS": (437, False),
    # a running domain's devices
    "DOMAIN_ATTACH_DEVICE": (8, False), "DOMAIN_DETACH_DEVICE": (13, False),
    "DOMAIN_INTERFACE_STATS": (65, True), "DOMAIN_ATTACH_DEVICE_FLAGS": (160, False),
    "DOMAIN_DETACH_DEVICE_FLAGS": (161, False), "DOMAIN_UPDATE_DEVICE_FLAGS": (174, False),
}

# No timing assertions: the suite shares loaded hosts under pytest-xdist.
RELAXED = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_program_numbers() -> None:
    assert (REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, QEMU_PROGRAM) == (0x20008086, 1, 0x20008087)
    assert REMOTE_STRING_MAX == 4194304


def test_procedure_numbers_and_priorities_are_pinned() -> None:
    table = {p.name: (p.number, p.priority is Priority.HIGH) for p in PROCEDURE_LIST}
    assert table == PINNED
    assert len(PROCEDURES) == len(BY_NAME) == len(PROCEDURE_LIST)


MESSAGES = {"DOMAIN_EVENT_LIFECYCLE", "DOMAIN_EVENT_CALLBACK_LIFECYCLE",
            "STORAGE_POOL_EVENT_LIFECYCLE", "STORAGE_POOL_EVENT_REFRESH",
            "NETWORK_EVENT_LIFECYCLE"}


def test_kinds() -> None:
    streams = {"DOMAIN_OPEN_CONSOLE", "DOMAIN_SCREENSHOT", "STORAGE_VOL_UPLOAD",
               "STORAGE_VOL_DOWNLOAD"}
    assert {p.name for p in PROCEDURE_LIST if p.kind is Kind.STREAM} == streams
    assert {p.name for p in PROCEDURE_LIST if p.kind is Kind.MESSAGE} == MESSAGES
    assert {p.name for p in PROCEDURE_LIST if p.kind is Kind.CALL} == \
        set(PINNED) - streams - MESSAGES


def test_layout_vectors() -> None:
    # remote_nonnull_domain: string, 16-byte uuid, int.
    dom = {"name": "vm1", "uuid": bytes(range(16)), "id": -1}
    assert pack(NonnullDomain, dom) == (b"\0\0\0\x03vm1\0" + bytes(range(16))
                                        + b"\xff\xff\xff\xff")
    # remote_domain_get_info_ret: unsigned char and unsigned short each take 4 bytes.
    info = {"state": 1, "maxMem": 2, "memory": 3, "nrVirtCpu": 4, "cpuTime": 5}
    assert pack(BY_NAME["DOMAIN_GET_INFO"].ret, info) == bytes.fromhex(
        "00000001 0000000000000002 0000000000000003 00000004 0000000000000005")
    # remote_node_get_info_ret: char model[32] is 32 ints.
    node = {"model": b"x86_64", "memory": 1, "cpus": 2, "mhz": 3, "nodes": 4, "sockets": 5,
            "cores": 6, "threads": 7}
    wire = pack(BY_NAME["NODE_GET_INFO"].ret, node)
    assert len(wire) == 32 * 4 + 8 + 6 * 4
    assert wire[:8] == b"\0\0\0x\0\0\0\x38"
    # remote_node_get_security_model_ret: char model<> is a count, then 4 bytes per char.
    model = {"model": list(b"none\0"), "doi": list(b"0\0")}
    assert pack(BY_NAME["NODE_GET_SECURITY_MODEL"].ret, model) == bytes.fromhex(
        "00000005 0000006e 0000006f 0000006e 00000065 00000000"
        "00000002 00000030 00000000")
    # remote_node_get_cpu_stats_ret: a count, then each field (string) and value (hyper).
    stats = {"params": [{"field": "idle", "value": 1}], "nparams": 1}
    assert pack(BY_NAME["NODE_GET_CPU_STATS"].ret, stats) == bytes.fromhex(
        "00000001 00000004 69646c65 0000000000000001 00000001")
    # remote_node_get_cpu_map_ret: opaque cpumap<> is a count, the bytes, padding.
    cpumap = {"cpumap": b"\x03", "online": 2, "ret": 2}
    assert pack(BY_NAME["NODE_GET_CPU_MAP"].ret, cpumap) == bytes.fromhex(
        "00000001 03000000 00000002 00000002")
    # remote_nonnull_storage_vol: three strings; remote_storage_vol_get_info_ret's char type
    # takes 4 bytes.
    vol = {"pool": "p", "name": "v", "key": "/k"}
    assert pack(BY_NAME["STORAGE_VOL_GET_PATH"].args, {"vol": vol}) == bytes.fromhex(
        "00000001 70000000 00000001 76000000 00000002 2f6b0000")
    assert pack(BY_NAME["STORAGE_VOL_GET_INFO"].ret,
                {"type": 0, "capacity": 1, "allocation": 2}) == bytes.fromhex(
        "00000000 0000000000000001 0000000000000002")
    # remote_storage_vol_download_args: the volume, offset and length (hypers), flags.
    down = {"vol": vol, "offset": 1, "length": 2, "flags": 3}
    assert pack(BY_NAME["STORAGE_VOL_DOWNLOAD"].args, down)[24:] == bytes.fromhex(
        "0000000000000001 0000000000000002 00000003")
    # remote_storage_pool_event_lifecycle_msg: callbackID, then the pool, event, detail.
    pool = {"name": "p", "uuid": bytes(16)}
    assert pack(BY_NAME["STORAGE_POOL_EVENT_LIFECYCLE"].args,
                {"callbackID": 7, "pool": pool, "event": 2, "detail": 0}) == (
        b"\0\0\0\x07\0\0\0\x01p\0\0\0" + bytes(16) + b"\0\0\0\x02\0\0\0\0")
    # remote_network_event_lifecycle_msg: callbackID, the network, event, detail.
    net = {"name": "n", "uuid": bytes(16)}
    assert pack(BY_NAME["NETWORK_EVENT_LIFECYCLE"].args,
                {"callbackID": 3, "net": net, "event": 2, "detail": 0}) == (
        b"\0\0\0\x03\0\0\0\x01n\0\0\0" + bytes(16) + b"\0\0\0\x02\0\0\0\0")
    # remote_network_update_args: the network, command, section, parentIndex (signed), the
    # xml, flags.
    update = {"net": net, "command": 3, "section": 4, "parentIndex": -1, "xml": "<a/>",
              "flags": 1}
    assert pack(BY_NAME["NETWORK_UPDATE"].args, update)[24:] == bytes.fromhex(
        "00000003 00000004 ffffffff 00000004 3c612f3e 00000001")
    # remote_network_dhcp_lease: a signed hyper expiry, optional mac, iaid, hostname and
    # clientid (each a presence word), an unsigned prefix.
    lease = {"iface": "b", "expirytime": -1, "type": 0, "mac": "m", "iaid": None,
             "ipaddr": "i", "prefix": 24, "hostname": None, "clientid": None}
    assert pack(BY_NAME["NETWORK_GET_DHCP_LEASES"].ret, {"leases": [lease], "ret": 1}) == \
        bytes.fromhex("00000001 00000001 62000000 ffffffffffffffff 00000000"
                      "00000001 00000001 6d000000 00000000 00000001 69000000 00000018"
                      "00000000 00000000 00000001")
    # remote_domain_interface_stats_ret: eight signed hypers (-1: not known).
    stats8 = dict.fromkeys(("rx_bytes", "rx_packets", "rx_errs", "rx_drop", "tx_bytes",
                            "tx_packets", "tx_errs", "tx_drop"), -1)
    assert pack(BY_NAME["DOMAIN_INTERFACE_STATS"].ret, stats8) == b"\xff" * 64
    # remote_domain_attach_device_flags_args: the domain, the device's xml, flags.
    assert pack(BY_NAME["DOMAIN_ATTACH_DEVICE_FLAGS"].args,
                {"dom": dom, "xml": "<a/>", "flags": 3})[-12:] == bytes.fromhex(
        "00000004 3c612f3e 00000003")
    # remote_connect_open_args: a NULL name is one zero word.
    assert pack(BY_NAME["CONNECT_OPEN"].args, {"name": None, "flags": 1}) == \
        b"\0\0\0\0\0\0\0\x01"


SMALL = 12
SCALARS: dict[XDRType, st.SearchStrategy[Any]] = {
    Int: st.integers(-(1 << 31), (1 << 31) - 1), UInt: st.integers(0, (1 << 32) - 1),
    Hyper: st.integers(-(1 << 63), (1 << 63) - 1), UHyper: st.integers(0, (1 << 64) - 1),
    Char: st.integers(-128, 127), UChar: st.integers(0, 255),
    Short: st.integers(-(1 << 15), (1 << 15) - 1), UShort: st.integers(0, (1 << 16) - 1),
    Bool: st.booleans(), Double: st.floats(allow_nan=False), Void: st.none(),
}


def values(kind: XDRType) -> st.SearchStrategy[Any]:
    """Values of ``kind``, kept small: the maxima are tested in test_xdr."""
    if kind in SCALARS:
        return SCALARS[kind]
    if isinstance(kind, Enum):
        return st.sampled_from(list(kind.members))
    if isinstance(kind, FixedOpaque):
        return st.binary(min_size=kind.size, max_size=kind.size)
    if isinstance(kind, VarOpaque):
        return st.binary(max_size=min(kind.maximum, SMALL))
    if isinstance(kind, CharVector):
        return st.binary(min_size=kind.size, max_size=kind.size)
    if isinstance(kind, String):
        return st.text(max_size=min(kind.maximum, SMALL))
    if isinstance(kind, Optional):
        return st.none() | values(kind.item)
    if isinstance(kind, FixedArray):
        return st.lists(values(kind.item), min_size=kind.size, max_size=kind.size)
    if isinstance(kind, VarArray):
        return st.lists(values(kind.item), max_size=min(kind.maximum, 3))
    if isinstance(kind, Struct):
        return st.fixed_dictionaries({name: values(item) for name, item in kind.fields})
    if isinstance(kind, Union):
        return st.one_of(*[st.tuples(st.just(which), values(arm))
                           for which, arm in kind.arms.items()])
    raise AssertionError(f"no strategy for {kind!r}")


@pytest.mark.parametrize("procedure", PROCEDURE_LIST, ids=lambda p: p.name)
@RELAXED
@given(data=st.data())
def test_every_procedure_round_trips(procedure: Procedure, data: st.DataObject) -> None:
    for kind in (procedure.args, procedure.ret):
        value = data.draw(values(kind))
        wire = pack(kind, value)
        assert kind.decode(wire, 0) == (value, len(wire))


def test_call_reply_and_error_frames() -> None:
    lookup = BY_NAME["DOMAIN_LOOKUP_BY_NAME"]
    call = call_frame(lookup, 7, {"name": "vm"})
    assert call == bytes.fromhex("00000024 20008086 00000001 00000017 00000000 00000007"
                                 " 00000000 00000002") + b"vm\0\0"
    message = decode_message(call)
    dom = {"name": "vm", "uuid": bytes(16), "id": 1}
    reply = decode_message(reply_frame(message.header, lookup, {"dom": dom}))
    assert reply.header == Header(REMOTE_PROGRAM, 1, 23, MessageType.REPLY, 7, Status.OK)
    assert unpack(lookup.ret, reply.payload) == {"dom": dom}
    failed = decode_message(error_frame(message.header, InvalidArg("bad name")))
    assert failed.header == Header(REMOTE_PROGRAM, 1, 23, MessageType.REPLY, 7, Status.ERROR)
    err = error_from_wire(unpack(RemoteError, failed.payload))
    assert isinstance(err, InvalidArg)
    assert str(err) == "invalid argument: bad name"
    assert (err.str1, err.str2) == ("invalid argument: %s", "bad name")


def test_decode_call() -> None:
    lookup = BY_NAME["DOMAIN_LOOKUP_BY_NAME"]
    message = decode_message(call_frame(lookup, 1, {"name": "vm"}))
    assert decode_call(message) == (lookup, {"name": "vm"})
    unknown = Message(Header(REMOTE_PROGRAM, 1, 9999, MessageType.CALL, 1, Status.OK), b"")
    with pytest.raises(RPCError, match=r"^unknown procedure: 9999$"):
        decode_call(unknown)
    erred = Message(Header(REMOTE_PROGRAM, 1, 23, MessageType.CALL, 1, Status.ERROR), b"")
    with pytest.raises(RPCError, match=r"^Unexpected message status 1$"):
        decode_call(erred)
    truncated = Message(message.header, message.payload[:-1])
    with pytest.raises(XDRError, match=r"^Unable to decode message payload$"):
        decode_call(truncated)


@RELAXED
@given(st.integers(0, 400), st.binary(max_size=64))
def test_decode_call_garbage_raises_only_rpc_errors(proc: int, payload: bytes) -> None:
    message = Message(Header(REMOTE_PROGRAM, 1, proc, MessageType.CALL, 1, Status.OK), payload)
    try:
        decode_call(message)
    except RPCError as err:
        assert err.code == 39


def test_event_frame() -> None:
    lifecycle = BY_NAME["DOMAIN_EVENT_CALLBACK_LIFECYCLE"]
    msg = {"callbackID": 1, "msg": {"dom": {"name": "a", "uuid": bytes(16), "id": 2},
                                    "event": 5, "detail": 1}}
    message = decode_message(event_frame(lifecycle, msg))
    assert message.header == Header(REMOTE_PROGRAM, 1, 318, MessageType.MESSAGE, 1, Status.OK)
    assert message.payload == (b"\0\0\0\x01" + b"\0\0\0\x01a\0\0\0" + bytes(16)
                               + b"\0\0\0\x02\0\0\0\x05\0\0\0\x01")
