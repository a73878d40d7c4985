"""The REMOTE program (src/remote/remote_protocol.x): types, procedures, and remote_error.

Each procedure is one row: its number (wire ABI), its args and ret layouts, its dispatch
priority (libvirt's ``@priority: high`` marks calls that never block on a hypervisor monitor,
served by the daemon's priority workers) and its kind (a CALL answered by a REPLY, a MESSAGE
the server sends unasked, or a CALL that opens a stream). The rows cover what the [daemon]
issue's virsh scenario needs; the rest of remote_protocol.x joins as drivers arrive.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum as PyEnum
from enum import IntEnum
from typing import Any

from qvirt.errors import (
    ConfigUnsupported,
    InternalError,
    InvalidArg,
    NoSupport,
    OperationFailed,
    OperationInvalid,
    QvirtError,
    XMLError,
)
from qvirt.rpc.errors import RPCError
from qvirt.rpc.packet import (
    REMOTE_PROGRAM,
    REMOTE_PROTOCOL_VERSION,
    Header,
    Message,
    MessageType,
    Status,
    encode_message,
)
from qvirt.rpc.xdr import (
    Char,
    CharVector,
    Enum,
    FixedOpaque,
    Hyper,
    Int,
    Optional,
    String,
    Struct,
    UChar,
    UHyper,
    UInt,
    UShort,
    VarArray,
    VarOpaque,
    Void,
    XDRType,
    pack,
    unpack,
)

# Limits from remote_protocol.x.
REMOTE_STRING_MAX = 4194304
REMOTE_DOMAIN_LIST_MAX = 16384
REMOTE_AUTH_TYPE_LIST_MAX = 20
VIR_UUID_BUFLEN = 16
NODE_MODEL_LEN = 32
# VIR_SECURITY_{LABEL,MODEL,DOI}_BUFLEN: each C buffer's size, its NUL included.
REMOTE_SECURITY_LABEL_MAX = 4097
REMOTE_SECURITY_MODEL_MAX = 257
REMOTE_SECURITY_DOI_MAX = 257
REMOTE_NODE_MAX_CELLS = 1024
REMOTE_NODE_CPU_STATS_MAX = 16
REMOTE_NODE_MEMORY_STATS_MAX = 16
REMOTE_CPUMAP_MAX = 2048
REMOTE_STORAGE_POOL_LIST_MAX = 4096
REMOTE_STORAGE_VOL_LIST_MAX = 16384
REMOTE_NETWORK_LIST_MAX = 16384
REMOTE_NETWORK_DHCP_LEASES_MAX = 65536

NonnullString = String(REMOTE_STRING_MAX)
RemoteString = Optional(NonnullString)
Uuid = FixedOpaque(VIR_UUID_BUFLEN)

NonnullDomain = Struct("remote_nonnull_domain", [
    ("name", NonnullString),
    ("uuid", Uuid),
    ("id", Int),
])
NonnullNetwork = Struct("remote_nonnull_network", [
    ("name", NonnullString),
    ("uuid", Uuid),
])
NonnullStoragePool = Struct("remote_nonnull_storage_pool", [
    ("name", NonnullString),
    ("uuid", Uuid),
])
NonnullStorageVol = Struct("remote_nonnull_storage_vol", [
    ("pool", NonnullString),
    ("name", NonnullString),
    ("key", NonnullString),
])
RemoteDomain = Optional(NonnullDomain)
RemoteNetwork = Optional(NonnullNetwork)

RemoteError = Struct("remote_error", [
    ("code", Int),
    ("domain", Int),
    ("message", RemoteString),
    ("level", Int),
    ("dom", RemoteDomain),
    ("str1", RemoteString),
    ("str2", RemoteString),
    ("str3", RemoteString),
    ("int1", Int),
    ("int2", Int),
    ("net", RemoteNetwork),
])


class AuthType(IntEnum):
    NONE = 0
    SASL = 1
    POLKIT = 2


def _args(name: str, *fields: tuple[str, XDRType]) -> Struct:
    return Struct(f"remote_{name}_args", fields)


def _ret(name: str, *fields: tuple[str, XDRType]) -> Struct:
    return Struct(f"remote_{name}_ret", fields)


def _msg(name: str, *fields: tuple[str, XDRType]) -> Struct:
    return Struct(f"remote_{name}_msg", fields)


_DOM = ("dom", NonnullDomain)
_POOL = ("pool", NonnullStoragePool)
_VOL = ("vol", NonnullStorageVol)
_NET = ("net", NonnullNetwork)
_FLAGS = ("flags", UInt)


class Priority(PyEnum):
    HIGH = "high"
    LOW = "low"


class Kind(PyEnum):
    CALL = "call"          # a CALL answered by one REPLY
    MESSAGE = "message"    # sent by the server unasked (events), never answered
    STREAM = "stream"      # a CALL whose REPLY opens a stream on the same serial


@dataclass(frozen=True)
class Procedure:
    name: str
    number: int
    args: XDRType
    ret: XDRType
    priority: Priority = Priority.LOW
    kind: Kind = Kind.CALL


_H, _L = Priority.HIGH, Priority.LOW

# remote_node_get_cpu_stats and remote_node_get_memory_stats: one named figure.
_NodeCPUStat = Struct("remote_node_get_cpu_stats", [("field", NonnullString), ("value", UHyper)])
_NodeMemoryStat = Struct("remote_node_get_memory_stats",
                         [("field", NonnullString), ("value", UHyper)])

_PoolNames = VarArray(NonnullString, REMOTE_STORAGE_POOL_LIST_MAX)
_VolInfo = (("type", Char), ("capacity", UHyper), ("allocation", UHyper))

_NetworkNames = VarArray(NonnullString, REMOTE_NETWORK_LIST_MAX)
# remote_network_dhcp_lease: virNetworkDHCPLease on the wire.
_DHCPLease = Struct("remote_network_dhcp_lease", [
    ("iface", NonnullString), ("expirytime", Hyper), ("type", Int), ("mac", RemoteString),
    ("iaid", RemoteString), ("ipaddr", NonnullString), ("prefix", UInt),
    ("hostname", RemoteString), ("clientid", RemoteString),
])
_DeviceXML = (_DOM, ("xml", NonnullString))

_DomainLifecycle = _msg("domain_event_lifecycle", _DOM, ("event", Int), ("detail", Int))

PROCEDURE_LIST: tuple[Procedure, ...] = (
    Procedure("CONNECT_OPEN", 1,
              _args("connect_open", ("name", RemoteString), _FLAGS), Void, _H),
    Procedure("CONNECT_CLOSE", 2, Void, Void, _H),
    Procedure("CONNECT_GET_TYPE", 3, Void, _ret("connect_get_type", ("type", NonnullString)),
              _H),
    Procedure("CONNECT_GET_VERSION", 4, Void, _ret("connect_get_version", ("hv_ver", UHyper)),
              _H),
    Procedure("CONNECT_GET_MAX_VCPUS", 5,
              _args("connect_get_max_vcpus", ("type", RemoteString)),
              _ret("connect_get_max_vcpus", ("max_vcpus", Int)), _H),
    Procedure("NODE_GET_INFO", 6, Void,
              _ret("node_get_info", ("model", CharVector(NODE_MODEL_LEN)), ("memory", UHyper),
                   ("cpus", Int), ("mhz", Int), ("nodes", Int), ("sockets", Int),
                   ("cores", Int), ("threads", Int)), _H),
    Procedure("CONNECT_GET_CAPABILITIES", 7, Void,
              _ret("connect_get_capabilities", ("capabilities", NonnullString)), _L),
    Procedure("DOMAIN_ATTACH_DEVICE", 8, _args("domain_attach_device", *_DeviceXML), Void, _L),
    Procedure("DOMAIN_CREATE", 9, _args("domain_create", _DOM), Void, _L),
    Procedure("DOMAIN_CREATE_XML", 10,
              _args("domain_create_xml", ("xml_desc", NonnullString), _FLAGS),
              _ret("domain_create_xml", _DOM), _L),
    Procedure("DOMAIN_DEFINE_XML", 11, _args("domain_define_xml", ("xml", NonnullString)),
              _ret("domain_define_xml", _DOM), _H),
    Procedure("DOMAIN_DESTROY", 12, _args("domain_destroy", _DOM), Void, _H),
    Procedure("DOMAIN_DETACH_DEVICE", 13, _args("domain_detach_device", *_DeviceXML), Void, _L),
    Procedure("DOMAIN_GET_XML_DESC", 14, _args("domain_get_xml_desc", _DOM, _FLAGS),
              _ret("domain_get_xml_desc", ("xml", NonnullString)), _L),
    Procedure("DOMAIN_GET_AUTOSTART", 15, _args("domain_get_autostart", _DOM),
              _ret("domain_get_autostart", ("autostart", Int)), _H),
    Procedure("DOMAIN_GET_INFO", 16, _args("domain_get_info", _DOM),
              _ret("domain_get_info", ("state", UChar), ("maxMem", UHyper), ("memory", UHyper),
                   ("nrVirtCpu", UShort), ("cpuTime", UHyper)), _L),
    Procedure("DOMAIN_GET_MAX_MEMORY", 17, _args("domain_get_max_memory", _DOM),
              _ret("domain_get_max_memory", ("memory", UHyper)), _H),
    Procedure("DOMAIN_GET_OS_TYPE", 19, _args("domain_get_os_type", _DOM),
              _ret("domain_get_os_type", ("type", NonnullString)), _H),
    Procedure("CONNECT_LIST_DEFINED_DOMAINS", 21,
              _args("connect_list_defined_domains", ("maxnames", Int)),
              _ret("connect_list_defined_domains",
                   ("names", VarArray(NonnullString, REMOTE_DOMAIN_LIST_MAX))), _H),
    Procedure("DOMAIN_LOOKUP_BY_ID", 22, _args("domain_lookup_by_id", ("id", Int)),
              _ret("domain_lookup_by_id", _DOM), _H),
    Procedure("DOMAIN_LOOKUP_BY_NAME", 23,
              _args("domain_lookup_by_name", ("name", NonnullString)),
              _ret("domain_lookup_by_name", _DOM), _H),
    Procedure("DOMAIN_LOOKUP_BY_UUID", 24, _args("domain_lookup_by_uuid", ("uuid", Uuid)),
              _ret("domain_lookup_by_uuid", _DOM), _H),
    Procedure("CONNECT_NUM_OF_DEFINED_DOMAINS", 25, Void,
              _ret("connect_num_of_defined_domains", ("num", Int)), _H),
    Procedure("DOMAIN_REBOOT", 27, _args("domain_reboot", _DOM, _FLAGS), Void, _L),
    Procedure("DOMAIN_RESUME", 28, _args("domain_resume", _DOM), Void, _L),
    Procedure("DOMAIN_SET_AUTOSTART", 29,
              _args("domain_set_autostart", _DOM, ("autostart", Int)), Void, _H),
    Procedure("DOMAIN_SHUTDOWN", 33, _args("domain_shutdown", _DOM), Void, _L),
    Procedure("DOMAIN_SUSPEND", 34, _args("domain_suspend", _DOM), Void, _L),
    Procedure("DOMAIN_UNDEFINE", 35, _args("domain_undefine", _DOM), Void, _H),
    Procedure("CONNECT_LIST_DEFINED_NETWORKS", 36,
              _args("connect_list_defined_networks", ("maxnames", Int)),
              _ret("connect_list_defined_networks", ("names", _NetworkNames)), _H),
    Procedure("CONNECT_LIST_DOMAINS", 37, _args("connect_list_domains", ("maxids", Int)),
              _ret("connect_list_domains", ("ids", VarArray(Int, REMOTE_DOMAIN_LIST_MAX))), _H),
    Procedure("CONNECT_LIST_NETWORKS", 38, _args("connect_list_networks", ("maxnames", Int)),
              _ret("connect_list_networks", ("names", _NetworkNames)), _H),
    Procedure("NETWORK_CREATE", 39, _args("network_create", _NET), Void, _L),
    Procedure("NETWORK_CREATE_XML", 40, _args("network_create_xml", ("xml", NonnullString)),
              _ret("network_create_xml", _NET), _L),
    Procedure("NETWORK_DEFINE_XML", 41, _args("network_define_xml", ("xml", NonnullString)),
              _ret("network_define_xml", _NET), _H),
    Procedure("NETWORK_DESTROY", 42, _args("network_destroy", _NET), Void, _H),
    Procedure("NETWORK_GET_XML_DESC", 43, _args("network_get_xml_desc", _NET, _FLAGS),
              _ret("network_get_xml_desc", ("xml", NonnullString)), _H),
    Procedure("NETWORK_GET_AUTOSTART", 44, _args("network_get_autostart", _NET),
              _ret("network_get_autostart", ("autostart", Int)), _H),
    Procedure("NETWORK_GET_BRIDGE_NAME", 45, _args("network_get_bridge_name", _NET),
              _ret("network_get_bridge_name", ("name", NonnullString)), _H),
    Procedure("NETWORK_LOOKUP_BY_NAME", 46,
              _args("network_lookup_by_name", ("name", NonnullString)),
              _ret("network_lookup_by_name", _NET), _H),
    Procedure("NETWORK_LOOKUP_BY_UUID", 47, _args("network_lookup_by_uuid", ("uuid", Uuid)),
              _ret("network_lookup_by_uuid", _NET), _H),
    Procedure("NETWORK_SET_AUTOSTART", 48,
              _args("network_set_autostart", _NET, ("autostart", Int)), Void, _H),
    Procedure("NETWORK_UNDEFINE", 49, _args("network_undefine", _NET), Void, _H),
    Procedure("CONNECT_NUM_OF_DEFINED_NETWORKS", 50, Void,
              _ret("connect_num_of_defined_networks", ("num", Int)), _H),
    Procedure("CONNECT_NUM_OF_DOMAINS", 51, Void,
              _ret("connect_num_of_domains", ("num", Int)), _H),
    Procedure("CONNECT_NUM_OF_NETWORKS", 52, Void,
              _ret("connect_num_of_networks", ("num", Int)), _H),
    Procedure("CONNECT_GET_HOSTNAME", 59, Void,
              _ret("connect_get_hostname", ("hostname", NonnullString)), _H),
    Procedure("CONNECT_SUPPORTS_FEATURE", 60,
              _args("connect_supports_feature", ("feature", Int)),
              _ret("connect_supports_feature", ("supported", Int)), _H),
    Procedure("DOMAIN_INTERFACE_STATS", 65,
              _args("domain_interface_stats", _DOM, ("device", NonnullString)),
              _ret("domain_interface_stats", ("rx_bytes", Hyper), ("rx_packets", Hyper),
                   ("rx_errs", Hyper), ("rx_drop", Hyper), ("tx_bytes", Hyper),
                   ("tx_packets", Hyper), ("tx_errs", Hyper), ("tx_drop", Hyper)), _H),
    Procedure("AUTH_LIST", 66, Void,
              _ret("auth_list", ("types", VarArray(Enum(AuthType), REMOTE_AUTH_TYPE_LIST_MAX))),
              _H),
    Procedure("AUTH_POLKIT", 70, Void, _ret("auth_polkit", ("complete", Int)), _H),
    Procedure("CONNECT_NUM_OF_STORAGE_POOLS", 71, Void,
              _ret("connect_num_of_storage_pools", ("num", Int)), _H),
    Procedure("CONNECT_LIST_STORAGE_POOLS", 72,
              _args("connect_list_storage_pools", ("maxnames", Int)),
              _ret("connect_list_storage_pools", ("names", _PoolNames)), _H),
    Procedure("CONNECT_NUM_OF_DEFINED_STORAGE_POOLS", 73, Void,
              _ret("connect_num_of_defined_storage_pools", ("num", Int)), _H),
    Procedure("CONNECT_LIST_DEFINED_STORAGE_POOLS", 74,
              _args("connect_list_defined_storage_pools", ("maxnames", Int)),
              _ret("connect_list_defined_storage_pools", ("names", _PoolNames)), _H),
    Procedure("CONNECT_FIND_STORAGE_POOL_SOURCES", 75,
              _args("connect_find_storage_pool_sources", ("type", NonnullString),
                    ("srcSpec", RemoteString), _FLAGS),
              _ret("connect_find_storage_pool_sources", ("xml", NonnullString)), _L),
    Procedure("STORAGE_POOL_CREATE_XML", 76,
              _args("storage_pool_create_xml", ("xml", NonnullString), _FLAGS),
              _ret("storage_pool_create_xml", _POOL), _L),
    Procedure("STORAGE_POOL_DEFINE_XML", 77,
              _args("storage_pool_define_xml", ("xml", NonnullString), _FLAGS),
              _ret("storage_pool_define_xml", _POOL), _H),
    Procedure("STORAGE_POOL_CREATE", 78, _args("storage_pool_create", _POOL, _FLAGS), Void, _L),
    Procedure("STORAGE_POOL_BUILD", 79, _args("storage_pool_build", _POOL, _FLAGS), Void, _L),
    Procedure("STORAGE_POOL_DESTROY", 80, _args("storage_pool_destroy", _POOL), Void, _H),
    Procedure("STORAGE_POOL_DELETE", 81, _args("storage_pool_delete", _POOL, _FLAGS), Void, _L),
    Procedure("STORAGE_POOL_UNDEFINE", 82, _args("storage_pool_undefine", _POOL), Void, _H),
    Procedure("STORAGE_POOL_REFRESH", 83, _args("storage_pool_refresh", _POOL, _FLAGS), Void,
              _L),
    Procedure("STORAGE_POOL_LOOKUP_BY_NAME", 84,
              _args("storage_pool_lookup_by_name", ("name", NonnullString)),
              _ret("storage_pool_lookup_by_name", _POOL), _H),
    Procedure("STORAGE_POOL_LOOKUP_BY_UUID", 85,
              _args("storage_pool_lookup_by_uuid", ("uuid", Uuid)),
              _ret("storage_pool_lookup_by_uuid", _POOL), _H),
    Procedure("STORAGE_POOL_LOOKUP_BY_VOLUME", 86, _args("storage_pool_lookup_by_volume", _VOL),
              _ret("storage_pool_lookup_by_volume", _POOL), _H),
    Procedure("STORAGE_POOL_GET_INFO", 87, _args("storage_pool_get_info", _POOL),
              _ret("storage_pool_get_info", ("state", UChar), ("capacity", UHyper),
                   ("allocation", UHyper), ("available", UHyper)), _H),
    Procedure("STORAGE_POOL_GET_XML_DESC", 88, _args("storage_pool_get_xml_desc", _POOL, _FLAGS),
              _ret("storage_pool_get_xml_desc", ("xml", NonnullString)), _H),
    Procedure("STORAGE_POOL_GET_AUTOSTART", 89, _args("storage_pool_get_autostart", _POOL),
              _ret("storage_pool_get_autostart", ("autostart", Int)), _H),
    Procedure("STORAGE_POOL_SET_AUTOSTART", 90,
              _args("storage_pool_set_autostart", _POOL, ("autostart", Int)), Void, _H),
    Procedure("STORAGE_POOL_NUM_OF_VOLUMES", 91, _args("storage_pool_num_of_volumes", _POOL),
              _ret("storage_pool_num_of_volumes", ("num", Int)), _H),
    Procedure("STORAGE_POOL_LIST_VOLUMES", 92,
              _args("storage_pool_list_volumes", _POOL, ("maxnames", Int)),
              _ret("storage_pool_list_volumes",
                   ("names", VarArray(NonnullString, REMOTE_STORAGE_VOL_LIST_MAX))), _H),
    Procedure("STORAGE_VOL_CREATE_XML", 93,
              _args("storage_vol_create_xml", _POOL, ("xml", NonnullString), _FLAGS),
              _ret("storage_vol_create_xml", _VOL), _L),
    Procedure("STORAGE_VOL_DELETE", 94, _args("storage_vol_delete", _VOL, _FLAGS), Void, _L),
    Procedure("STORAGE_VOL_LOOKUP_BY_NAME", 95,
              _args("storage_vol_lookup_by_name", _POOL, ("name", NonnullString)),
              _ret("storage_vol_lookup_by_name", _VOL), _H),
    Procedure("STORAGE_VOL_LOOKUP_BY_KEY", 96,
              _args("storage_vol_lookup_by_key", ("key", NonnullString)),
              _ret("storage_vol_lookup_by_key", _VOL), _H),
    Procedure("STORAGE_VOL_LOOKUP_BY_PATH", 97,
              _args("storage_vol_lookup_by_path", ("path", NonnullString)),
              _ret("storage_vol_lookup_by_path", _VOL), _H),
    Procedure("STORAGE_VOL_GET_INFO", 98, _args("storage_vol_get_info", _VOL),
              _ret("storage_vol_get_info", *_VolInfo), _H),
    Procedure("STORAGE_VOL_GET_XML_DESC", 99, _args("storage_vol_get_xml_desc", _VOL, _FLAGS),
              _ret("storage_vol_get_xml_desc", ("xml", NonnullString)), _H),
    Procedure("STORAGE_VOL_GET_PATH", 100, _args("storage_vol_get_path", _VOL),
              _ret("storage_vol_get_path", ("name", NonnullString)), _H),
    Procedure("NODE_GET_CELLS_FREE_MEMORY", 101,
              _args("node_get_cells_free_memory", ("startCell", Int), ("maxcells", Int)),
              _ret("node_get_cells_free_memory",
                   ("cells", VarArray(UHyper, REMOTE_NODE_MAX_CELLS))), _H),
    Procedure("NODE_GET_FREE_MEMORY", 102, Void,
              _ret("node_get_free_memory", ("freeMem", UHyper)), _H),
    Procedure("DOMAIN_EVENT_LIFECYCLE", 107, _DomainLifecycle, Void, _L, Kind.MESSAGE),
    Procedure("CONNECT_GET_URI", 110, Void, _ret("connect_get_uri", ("uri", NonnullString)),
              _H),
    Procedure("DOMAIN_GET_SECURITY_LABEL", 121, _args("domain_get_security_label", _DOM),
              _ret("domain_get_security_label",
                   ("label", VarArray(Char, REMOTE_SECURITY_LABEL_MAX)), ("enforcing", Int)), _H),
    Procedure("NODE_GET_SECURITY_MODEL", 122, Void,
              _ret("node_get_security_model", ("model", VarArray(Char, REMOTE_SECURITY_MODEL_MAX)),
                   ("doi", VarArray(Char, REMOTE_SECURITY_DOI_MAX))), _H),
    Procedure("STORAGE_VOL_CREATE_XML_FROM", 125,
              _args("storage_vol_create_xml_from", _POOL, ("xml", NonnullString),
                    ("clonevol", NonnullStorageVol), _FLAGS),
              _ret("storage_vol_create_xml_from", _VOL), _L),
    Procedure("DOMAIN_IS_ACTIVE", 150, _args("domain_is_active", _DOM),
              _ret("domain_is_active", ("active", Int)), _H),
    Procedure("DOMAIN_IS_PERSISTENT", 151, _args("domain_is_persistent", _DOM),
              _ret("domain_is_persistent", ("persistent", Int)), _H),
    Procedure("CONNECT_DOMAIN_XML_TO_NATIVE", 136,
              _args("connect_domain_xml_to_native", ("nativeFormat", NonnullString),
                    ("domainXml", NonnullString), _FLAGS),
              _ret("connect_domain_xml_to_native", ("nativeConfig", NonnullString)), _L),
    Procedure("NETWORK_IS_ACTIVE", 152, _args("network_is_active", _NET),
              _ret("network_is_active", ("active", Int)), _H),
    Procedure("NETWORK_IS_PERSISTENT", 153, _args("network_is_persistent", _NET),
              _ret("network_is_persistent", ("persistent", Int)), _H),
    Procedure("STORAGE_POOL_IS_ACTIVE", 154, _args("storage_pool_is_active", _POOL),
              _ret("storage_pool_is_active", ("active", Int)), _H),
    Procedure("STORAGE_POOL_IS_PERSISTENT", 155, _args("storage_pool_is_persistent", _POOL),
              _ret("storage_pool_is_persistent", ("persistent", Int)), _H),
    Procedure("CONNECT_GET_LIB_VERSION", 157, Void,
              _ret("connect_get_lib_version", ("lib_ver", UHyper)), _H),
    Procedure("DOMAIN_ATTACH_DEVICE_FLAGS", 160,
              _args("domain_attach_device_flags", *_DeviceXML, _FLAGS), Void, _L),
    Procedure("DOMAIN_DETACH_DEVICE_FLAGS", 161,
              _args("domain_detach_device_flags", *_DeviceXML, _FLAGS), Void, _L),
    Procedure("DOMAIN_GET_JOB_INFO", 163, _args("domain_get_job_info", _DOM),
              _ret("domain_get_job_info", ("type", Int),
                   ("timeElapsed", UHyper), ("timeRemaining", UHyper),
                   ("dataTotal", UHyper), ("dataProcessed", UHyper), ("dataRemaining", UHyper),
                   ("memTotal", UHyper), ("memProcessed", UHyper), ("memRemaining", UHyper),
                   ("fileTotal", UHyper), ("fileProcessed", UHyper), ("fileRemaining", UHyper)),
              _L),
    Procedure("STORAGE_VOL_WIPE", 165, _args("storage_vol_wipe", _VOL, _FLAGS), Void, _L),
    Procedure("CONNECT_DOMAIN_EVENT_REGISTER_ANY", 167,
              _args("connect_domain_event_register_any", ("eventID", Int)), Void, _H),
    Procedure("CONNECT_DOMAIN_EVENT_DEREGISTER_ANY", 168,
              _args("connect_domain_event_deregister_any", ("eventID", Int)), Void, _H),
    Procedure("DOMAIN_UPDATE_DEVICE_FLAGS", 174,
              _args("domain_update_device_flags", *_DeviceXML, _FLAGS), Void, _L),
    Procedure("DOMAIN_HAS_MANAGED_SAVE_IMAGE", 183,
              _args("domain_has_managed_save_image", _DOM, _FLAGS),
              _ret("domain_has_managed_save_image", ("result", Int)), _L),
    Procedure("DOMAIN_CREATE_WITH_FLAGS", 196, _args("domain_create_with_flags", _DOM, _FLAGS),
              _ret("domain_create_with_flags", _DOM), _L),
    Procedure("DOMAIN_GET_VCPUS_FLAGS", 200, _args("domain_get_vcpus_flags", _DOM, _FLAGS),
              _ret("domain_get_vcpus_flags", ("num", Int)), _L),
    Procedure("DOMAIN_OPEN_CONSOLE", 201,
              _args("domain_open_console", _DOM, ("dev_name", RemoteString), _FLAGS), Void, _L,
              Kind.STREAM),
    Procedure("CONNECT_GET_SYSINFO", 203, _args("connect_get_sysinfo", _FLAGS),
              _ret("connect_get_sysinfo", ("sysinfo", NonnullString)), _H),
    Procedure("STORAGE_VOL_UPLOAD", 208,
              _args("storage_vol_upload", _VOL, ("offset", UHyper), ("length", UHyper), _FLAGS),
              Void, _L, Kind.STREAM),
    Procedure("STORAGE_VOL_DOWNLOAD", 209,
              _args("storage_vol_download", _VOL, ("offset", UHyper), ("length", UHyper),
                    _FLAGS), Void, _L, Kind.STREAM),
    Procedure("DOMAIN_SCREENSHOT", 211,
              _args("domain_screenshot", _DOM, ("screen", UInt), _FLAGS),
              _ret("domain_screenshot", ("mime", RemoteString)), _L, Kind.STREAM),
    Procedure("DOMAIN_GET_STATE", 212, _args("domain_get_state", _DOM, _FLAGS),
              _ret("domain_get_state", ("state", Int), ("reason", Int)), _H),
    Procedure("NODE_GET_CPU_STATS", 227,
              _args("node_get_cpu_stats", ("cpuNum", Int), ("nparams", Int), _FLAGS),
              _ret("node_get_cpu_stats",
                   ("params", VarArray(_NodeCPUStat, REMOTE_NODE_CPU_STATS_MAX)),
                   ("nparams", Int)), _H),
    Procedure("NODE_GET_MEMORY_STATS", 228,
              _args("node_get_memory_stats", ("nparams", Int), ("cellNum", Int), _FLAGS),
              _ret("node_get_memory_stats",
                   ("params", VarArray(_NodeMemoryStat, REMOTE_NODE_MEMORY_STATS_MAX)),
                   ("nparams", Int)), _H),
    Procedure("DOMAIN_GET_CONTROL_INFO", 229, _args("domain_get_control_info", _DOM, _FLAGS),
              _ret("domain_get_control_info", ("state", UInt), ("details", UInt),
                   ("stateTime", UHyper)), _H),
    Procedure("DOMAIN_UNDEFINE_FLAGS", 231, _args("domain_undefine_flags", _DOM, _FLAGS), Void,
              _H),
    Procedure("DOMAIN_DESTROY_FLAGS", 234, _args("domain_destroy_flags", _DOM, _FLAGS), Void,
              _H),
    Procedure("DOMAIN_RESET", 245, _args("domain_reset", _DOM, _FLAGS), Void, _L),
    Procedure("DOMAIN_SHUTDOWN_FLAGS", 258, _args("domain_shutdown_flags", _DOM, _FLAGS), Void,
              _L),
    Procedure("STORAGE_VOL_WIPE_PATTERN", 259,
              _args("storage_vol_wipe_pattern", _VOL, ("algorithm", UInt), _FLAGS), Void, _L),
    Procedure("STORAGE_VOL_RESIZE", 260,
              _args("storage_vol_resize", _VOL, ("capacity", UHyper), _FLAGS), Void, _L),
    Procedure("DOMAIN_SET_METADATA", 264,
              _args("domain_set_metadata", _DOM, ("type", Int), ("metadata", RemoteString),
                    ("key", RemoteString), ("uri", RemoteString), _FLAGS), Void, _L),
    Procedure("DOMAIN_GET_METADATA", 265,
              _args("domain_get_metadata", _DOM, ("type", Int), ("uri", RemoteString), _FLAGS),
              _ret("domain_get_metadata", ("metadata", NonnullString)), _L),
    Procedure("CONNECT_LIST_ALL_DOMAINS", 273,
              _args("connect_list_all_domains", ("need_results", Int), _FLAGS),
              _ret("connect_list_all_domains",
                   ("domains", VarArray(NonnullDomain, REMOTE_DOMAIN_LIST_MAX)), ("ret", UInt)),
              _H),
    Procedure("CONNECT_LIST_ALL_STORAGE_POOLS", 281,
              _args("connect_list_all_storage_pools", ("need_results", Int), _FLAGS),
              _ret("connect_list_all_storage_pools",
                   ("pools", VarArray(NonnullStoragePool, REMOTE_STORAGE_POOL_LIST_MAX)),
                   ("ret", UInt)), _H),
    Procedure("STORAGE_POOL_LIST_ALL_VOLUMES", 282,
              _args("storage_pool_list_all_volumes", _POOL, ("need_results", Int), _FLAGS),
              _ret("storage_pool_list_all_volumes",
                   ("vols", VarArray(NonnullStorageVol, REMOTE_STORAGE_VOL_LIST_MAX)),
                   ("ret", UInt)), _H),
    Procedure("CONNECT_LIST_ALL_NETWORKS", 283,
              _args("connect_list_all_networks", ("need_results", Int), _FLAGS),
              _ret("connect_list_all_networks",
                   ("nets", VarArray(NonnullNetwork, REMOTE_NETWORK_LIST_MAX)), ("ret", UInt)),
              _H),
    Procedure("NETWORK_UPDATE", 291,
              _args("network_update", _NET, ("command", UInt), ("section", UInt),
                    ("parentIndex", Int), ("xml", NonnullString), _FLAGS), Void, _H),
    Procedure("NODE_GET_CPU_MAP", 293,
              _args("node_get_cpu_map", ("need_map", Int), ("need_online", Int), _FLAGS),
              _ret("node_get_cpu_map", ("cpumap", VarOpaque(REMOTE_CPUMAP_MAX)),
                   ("online", UInt), ("ret", Int)), _L),
    Procedure("CONNECT_NETWORK_EVENT_REGISTER_ANY", 313,
              _args("connect_network_event_register_any", ("eventID", Int),
                    ("net", RemoteNetwork)),
              _ret("connect_network_event_register_any", ("callbackID", Int)), _H),
    Procedure("CONNECT_NETWORK_EVENT_DEREGISTER_ANY", 314,
              _args("connect_network_event_deregister_any", ("callbackID", Int)), Void, _H),
    Procedure("NETWORK_EVENT_LIFECYCLE", 315,
              _msg("network_event_lifecycle", ("callbackID", Int), _NET, ("event", Int),
                   ("detail", Int)), Void, _L, Kind.MESSAGE),
    Procedure("CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY", 316,
              _args("connect_domain_event_callback_register_any", ("eventID", Int),
                    ("dom", RemoteDomain)),
              _ret("connect_domain_event_callback_register_any", ("callbackID", Int)), _H),
    Procedure("CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY", 317,
              _args("connect_domain_event_callback_deregister_any", ("callbackID", Int)), Void,
              _H),
    Procedure("DOMAIN_EVENT_CALLBACK_LIFECYCLE", 318,
              _msg("domain_event_callback_lifecycle", ("callbackID", Int),
                   ("msg", _DomainLifecycle)), Void, _L, Kind.MESSAGE),
    Procedure("NETWORK_GET_DHCP_LEASES", 341,
              _args("network_get_dhcp_leases", _NET, ("mac", RemoteString),
                    ("need_results", Int), _FLAGS),
              _ret("network_get_dhcp_leases",
                   ("leases", VarArray(_DHCPLease, REMOTE_NETWORK_DHCP_LEASES_MAX)),
                   ("ret", UInt)), _L),
    Procedure("CONNECT_GET_DOMAIN_CAPABILITIES", 342,
              _args("connect_get_domain_capabilities", ("emulatorbin", RemoteString),
                    ("arch", RemoteString), ("machine", RemoteString),
                    ("virttype", RemoteString), _FLAGS),
              _ret("connect_get_domain_capabilities", ("capabilities", NonnullString)), _L),
    Procedure("DOMAIN_DEFINE_XML_FLAGS", 350,
              _args("domain_define_xml_flags", ("xml", NonnullString), _FLAGS),
              _ret("domain_define_xml_flags", _DOM), _H),
    Procedure("CONNECT_REGISTER_CLOSE_CALLBACK", 360, Void, Void, _L),
    Procedure("CONNECT_UNREGISTER_CLOSE_CALLBACK", 361, Void, Void, _L),
    Procedure("CONNECT_STORAGE_POOL_EVENT_REGISTER_ANY", 368,
              _args("connect_storage_pool_event_register_any", ("eventID", Int),
                    ("pool", Optional(NonnullStoragePool))),
              _ret("connect_storage_pool_event_register_any", ("callbackID", Int)), _H),
    Procedure("CONNECT_STORAGE_POOL_EVENT_DEREGISTER_ANY", 369,
              _args("connect_storage_pool_event_deregister_any", ("callbackID", Int)), Void, _H),
    Procedure("STORAGE_POOL_EVENT_LIFECYCLE", 370,
              _msg("storage_pool_event_lifecycle", ("callbackID", Int), _POOL, ("event", Int),
                   ("detail", Int)), Void, _L, Kind.MESSAGE),
    Procedure("STORAGE_POOL_EVENT_REFRESH", 373,
              _msg("storage_pool_event_refresh", ("callbackID", Int), _POOL), Void, _L,
              Kind.MESSAGE),
    Procedure("STORAGE_VOL_GET_INFO_FLAGS", 378, _args("storage_vol_get_info_flags", _VOL, _FLAGS),
              _ret("storage_vol_get_info_flags", *_VolInfo), _H),
    Procedure("STORAGE_POOL_LOOKUP_BY_TARGET_PATH", 391,
              _args("storage_pool_lookup_by_target_path", ("path", NonnullString)),
              _ret("storage_pool_lookup_by_target_path", _POOL), _H),
    Procedure("CONNECT_GET_STORAGE_POOL_CAPABILITIES", 403,
              _args("connect_get_storage_pool_capabilities", _FLAGS),
              _ret("connect_get_storage_pool_capabilities", ("capabilities", NonnullString)), _L),
    Procedure("NETWORK_DEFINE_XML_FLAGS", 432,
              _args("network_define_xml_flags", ("xml", NonnullString), _FLAGS),
              _ret("network_define_xml_flags", _NET), _H),
    Procedure("NETWORK_CREATE_XML_FLAGS", 437,
              _args("network_create_xml_flags", ("xml", NonnullString), _FLAGS),
              _ret("network_create_xml_flags", _NET), _L),
)

PROCEDURES: dict[int, Procedure] = {proc.number: proc for proc in PROCEDURE_LIST}
BY_NAME: dict[str, Procedure] = {proc.name: proc for proc in PROCEDURE_LIST}

# The qvirt.errors classes a caller may catch, so a wire error comes back as the same class.
_ERROR_CLASSES: dict[int, type[QvirtError]] = {
    cls.code: cls for cls in (InternalError, NoSupport, InvalidArg, OperationInvalid,
                              OperationFailed, XMLError, ConfigUnsupported)
}
# What virRaiseErrorFull says when the remote error carries no message.
NO_MESSAGE = "No error message provided"


def error_to_wire(err: QvirtError) -> dict[str, Any]:
    """``err`` as a remote_error value, ready to encode after a REPLY header with status ERROR.

    dom and net stay NULL: libvirtd never fills them (remoteDispatchCopyError leaves them).
    """
    return {
        "code": int(err.code), "domain": int(err.domain), "message": err.message,
        "level": int(err.level), "dom": None, "str1": err.str1, "str2": err.str2,
        "str3": err.str3, "int1": err.int1, "int2": err.int2, "net": None,
    }


def error_from_wire(wire: dict[str, Any]) -> QvirtError:
    """The QvirtError a decoded remote_error stands for, its message kept verbatim (the server
    built it; re-deriving it from the code could differ)."""
    cls = _ERROR_CLASSES.get(wire["code"], QvirtError)
    err = cls(wire["str2"], code=wire["code"], domain=wire["domain"],
              level=wire["level"],
              str1=wire["str1"], str2=wire["str2"], str3=wire["str3"],
              int1=wire["int1"], int2=wire["int2"])
    err.message = wire["message"] if wire["message"] is not None else NO_MESSAGE
    err.args = (err.message,)
    return err


def call_frame(procedure: Procedure, serial: int, args: Any) -> bytes:
    """The whole CALL frame a client sends for ``procedure``."""
    header = Header(REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, procedure.number, MessageType.CALL,
                    serial, Status.OK)
    return encode_message(header, pack(procedure.args, args))


def reply_frame(call: Header, procedure: Procedure, ret: Any) -> bytes:
    """The whole REPLY frame answering ``call`` with ``ret``: same program, procedure and
    serial, status OK."""
    header = Header(call.prog, call.vers, call.proc, MessageType.REPLY, call.serial, Status.OK)
    return encode_message(header, pack(procedure.ret, ret))


def error_frame(call: Header, err: QvirtError) -> bytes:
    """The whole REPLY frame answering ``call`` with ``err``: status ERROR, a remote_error."""
    header = Header(call.prog, call.vers, call.proc, MessageType.REPLY, call.serial,
                    Status.ERROR)
    return encode_message(header, pack(RemoteError, error_to_wire(err)))


def decode_call(message: Message) -> tuple[Procedure, Any]:
    """The procedure a REMOTE program CALL names and its decoded args, refused as
    virNetServerProgramDispatchCall refuses them (each refusal is owed an error reply)."""
    header = message.header
    if header.status != Status.OK:
        raise RPCError(f"Unexpected message status {header.status & 0xFFFFFFFF}")
    procedure = PROCEDURES.get(header.proc)
    if procedure is None:
        raise RPCError(f"unknown procedure: {header.proc}")
    return procedure, unpack(procedure.args, message.payload)


def event_frame(procedure: Procedure, msg: Any) -> bytes:
    """The whole MESSAGE frame for an event the server sends unasked: status OK and serial 1,
    as remoteDispatchObjectEventSend numbers every event."""
    header = Header(REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, procedure.number,
                    MessageType.MESSAGE, 1, Status.OK)
    return encode_message(header, pack(procedure.args, msg))
