"""The public API's entry points as a table, and the one path every call takes (STYLE.md 3):
check the handle, refuse writes on a read-only connection, find the driver method, refuse with
NoSupport if the driver has none, call it. libvirt's API names appear here because its errors
name them ("read only access prevents virDomainDestroy")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from qvirt.drivers.base import HypervisorDriver
from qvirt.errors import ErrorDomain, ErrorNumber, NoSupport, QvirtError


@dataclass(frozen=True)
class Entry:
    """One public entry point: libvirt's C name, the driver method behind it, whether a
    read-only connection may call it, and the part of the connection's driver that answers it
    ("" the hypervisor driver itself, "storage" or "network" that attribute of it)."""

    api: str
    method: str
    writes: bool = False
    part: str = ""


_ENTRIES = (
    Entry("virConnectGetType", "connect_get_type"),
    Entry("virConnectGetVersion", "connect_get_version"),
    Entry("virConnectGetHostname", "connect_get_hostname"),
    Entry("virConnectGetURI", "connect_get_uri"),
    Entry("virConnectGetCapabilities", "connect_get_capabilities"),
    Entry("virConnectGetDomainCapabilities", "connect_get_domain_capabilities"),
    Entry("virConnectGetMaxVcpus", "connect_get_max_vcpus"),
    Entry("virConnectDomainXMLToNative", "connect_domain_xml_to_native", writes=True),
    Entry("virConnectDomainXMLFromNative", "connect_domain_xml_from_native", writes=True),
    Entry("virNodeGetInfo", "node_get_info"),
    Entry("virNodeGetSecurityModel", "node_get_security_model"),
    Entry("virNodeGetFreeMemory", "node_get_free_memory"),
    Entry("virNodeGetCellsFreeMemory", "node_get_cells_free_memory"),
    Entry("virNodeGetCPUMap", "node_get_cpu_map"),
    Entry("virNodeGetCPUStats", "node_get_cpu_stats"),
    Entry("virNodeGetMemoryStats", "node_get_memory_stats"),
    Entry("virConnectGetSysinfo", "connect_get_sysinfo"),
    Entry("virConnectSetKeepAlive", "connect_set_keep_alive"),
    Entry("virConnectListAllDomains", "connect_list_all_domains"),
    Entry("virDomainLookupByName", "domain_lookup_by_name"),
    Entry("virDomainLookupByUUID", "domain_lookup_by_uuid"),
    Entry("virDomainLookupByID", "domain_lookup_by_id"),
    Entry("virDomainDefineXML", "domain_define_xml_flags", writes=True),
    Entry("virDomainDefineXMLFlags", "domain_define_xml_flags", writes=True),
    Entry("virDomainCreateXML", "domain_create_xml", writes=True),
    Entry("virDomainUndefine", "domain_undefine_flags", writes=True),
    Entry("virDomainUndefineFlags", "domain_undefine_flags", writes=True),
    Entry("virDomainCreate", "domain_create_with_flags", writes=True),
    Entry("virDomainCreateWithFlags", "domain_create_with_flags", writes=True),
    Entry("virDomainGetXMLDesc", "domain_get_xml_desc"),
    Entry("virDomainSuspend", "domain_suspend", writes=True),
    Entry("virDomainResume", "domain_resume", writes=True),
    Entry("virDomainShutdown", "domain_shutdown_flags", writes=True),
    Entry("virDomainShutdownFlags", "domain_shutdown_flags", writes=True),
    Entry("virDomainReboot", "domain_reboot", writes=True),
    Entry("virDomainReset", "domain_reset", writes=True),
    Entry("virDomainDestroy", "domain_destroy_flags", writes=True),
    Entry("virDomainDestroyFlags", "domain_destroy_flags", writes=True),
    Entry("virDomainGetInfo", "domain_get_info"),
    Entry("virDomainGetState", "domain_get_state"),
    Entry("virDomainGetControlInfo", "domain_get_control_info"),
    Entry("virDomainIsActive", "domain_is_active"),
    Entry("virDomainIsPersistent", "domain_is_persistent"),
    Entry("virDomainGetAutostart", "domain_get_autostart"),
    Entry("virDomainSetAutostart", "domain_set_autostart", writes=True),
    Entry("virDomainGetOSType", "domain_get_os_type"),
    Entry("virDomainGetSecurityLabel", "domain_get_security_label"),
    Entry("virDomainHasManagedSaveImage", "domain_has_managed_save_image"),
    Entry("virDomainGetMaxMemory", "domain_get_max_memory"),
    Entry("virDomainGetVcpusFlags", "domain_get_vcpus_flags"),
    Entry("virDomainGetMetadata", "domain_get_metadata"),
    Entry("virDomainSetMetadata", "domain_set_metadata", writes=True),
    Entry("virDomainOpenConsole", "domain_open_console", writes=True),
    Entry("virDomainScreenshot", "domain_screenshot", writes=True),
    Entry("virConnectDomainEventRegisterAny", "connect_domain_event_register_any"),
    Entry("virConnectDomainEventDeregisterAny", "connect_domain_event_deregister_any"),
    Entry("virDomainAttachDevice", "domain_attach_device_flags", writes=True),
    Entry("virDomainAttachDeviceFlags", "domain_attach_device_flags", writes=True),
    Entry("virDomainDetachDevice", "domain_detach_device_flags", writes=True),
    Entry("virDomainDetachDeviceFlags", "domain_detach_device_flags", writes=True),
    Entry("virDomainUpdateDeviceFlags", "domain_update_device_flags", writes=True),
    Entry("virDomainInterfaceStats", "domain_interface_stats"),
    Entry("virConnectListAllNetworks", "connect_list_all_networks", part="network"),
    Entry("virNetworkLookupByName", "network_lookup_by_name", part="network"),
    Entry("virNetworkLookupByUUID", "network_lookup_by_uuid", part="network"),
    Entry("virNetworkCreateXML", "network_create_xml_flags", writes=True, part="network"),
    Entry("virNetworkCreateXMLFlags", "network_create_xml_flags", writes=True, part="network"),
    Entry("virNetworkDefineXML", "network_define_xml_flags", writes=True, part="network"),
    Entry("virNetworkDefineXMLFlags", "network_define_xml_flags", writes=True, part="network"),
    Entry("virNetworkUndefine", "network_undefine", writes=True, part="network"),
    Entry("virNetworkUpdate", "network_update", writes=True, part="network"),
    Entry("virNetworkCreate", "network_create", writes=True, part="network"),
    Entry("virNetworkDestroy", "network_destroy", writes=True, part="network"),
    Entry("virNetworkGetXMLDesc", "network_get_xml_desc", part="network"),
    Entry("virNetworkGetBridgeName", "network_get_bridge_name", part="network"),
    Entry("virNetworkGetAutostart", "network_get_autostart", part="network"),
    Entry("virNetworkSetAutostart", "network_set_autostart", writes=True, part="network"),
    Entry("virNetworkIsActive", "network_is_active", part="network"),
    Entry("virNetworkIsPersistent", "network_is_persistent", part="network"),
    Entry("virNetworkGetDHCPLeases", "network_get_dhcp_leases", part="network"),
    # Network ports: no qvirt driver offers them (libvirt's test driver has none either),
    # so each is refused as unsupported.
    Entry("virNetworkListAllPorts", "network_list_all_ports", part="network"),
    Entry("virNetworkPortCreateXML", "network_port_create_xml", writes=True, part="network"),
    Entry("virNetworkPortLookupByUUID", "network_port_lookup_by_uuid", part="network"),
    Entry("virNetworkPortGetXMLDesc", "network_port_get_xml_desc", part="network"),
    Entry("virNetworkPortDelete", "network_port_delete", writes=True, part="network"),
    Entry("virNetworkPortGetParameters", "network_port_get_parameters", part="network"),
    Entry("virNetworkPortSetParameters", "network_port_set_parameters", writes=True,
          part="network"),
    Entry("virConnectNetworkEventRegisterAny", "connect_network_event_register_any",
          part="network"),
    Entry("virConnectNetworkEventDeregisterAny", "connect_network_event_deregister_any",
          part="network"),
    Entry("virConnectListAllStoragePools", "connect_list_all_storage_pools", part="storage"),
    Entry("virConnectGetStoragePoolCapabilities", "connect_get_storage_pool_capabilities",
          part="storage"),
    Entry("virConnectFindStoragePoolSources", "connect_find_storage_pool_sources",
          writes=True, part="storage"),
    Entry("virStoragePoolLookupByName", "storage_pool_lookup_by_name", part="storage"),
    Entry("virStoragePoolLookupByUUID", "storage_pool_lookup_by_uuid", part="storage"),
    Entry("virStoragePoolLookupByVolume", "storage_pool_lookup_by_volume", part="storage"),
    Entry("virStoragePoolLookupByTargetPath", "storage_pool_lookup_by_target_path",
          part="storage"),
    Entry("virStoragePoolCreateXML", "storage_pool_create_xml", writes=True, part="storage"),
    Entry("virStoragePoolDefineXML", "storage_pool_define_xml", writes=True, part="storage"),
    Entry("virStoragePoolBuild", "storage_pool_build", writes=True, part="storage"),
    Entry("virStoragePoolUndefine", "storage_pool_undefine", writes=True, part="storage"),
    Entry("virStoragePoolCreate", "storage_pool_create", writes=True, part="storage"),
    Entry("virStoragePoolDestroy", "storage_pool_destroy", writes=True, part="storage"),
    Entry("virStoragePoolDelete", "storage_pool_delete", writes=True, part="storage"),
    Entry("virStoragePoolRefresh", "storage_pool_refresh", writes=True, part="storage"),
    Entry("virStoragePoolGetInfo", "storage_pool_get_info", part="storage"),
    Entry("virStoragePoolGetXMLDesc", "storage_pool_get_xml_desc", part="storage"),
    Entry("virStoragePoolGetAutostart", "storage_pool_get_autostart", part="storage"),
    Entry("virStoragePoolSetAutostart", "storage_pool_set_autostart", writes=True, part="storage"),
    Entry("virStoragePoolIsActive", "storage_pool_is_active", part="storage"),
    Entry("virStoragePoolIsPersistent", "storage_pool_is_persistent", part="storage"),
    Entry("virStoragePoolListAllVolumes", "storage_pool_list_all_volumes", part="storage"),
    Entry("virStorageVolLookupByName", "storage_vol_lookup_by_name", part="storage"),
    Entry("virStorageVolLookupByKey", "storage_vol_lookup_by_key", part="storage"),
    Entry("virStorageVolLookupByPath", "storage_vol_lookup_by_path", part="storage"),
    Entry("virStorageVolCreateXML", "storage_vol_create_xml", writes=True, part="storage"),
    Entry("virStorageVolCreateXMLFrom", "storage_vol_create_xml_from",
          writes=True, part="storage"),
    Entry("virStorageVolDelete", "storage_vol_delete", writes=True, part="storage"),
    Entry("virStorageVolWipe", "storage_vol_wipe", writes=True, part="storage"),
    Entry("virStorageVolWipePattern", "storage_vol_wipe_pattern", writes=True, part="storage"),
    Entry("virStorageVolGetInfo", "storage_vol_get_info_flags", part="storage"),
    Entry("virStorageVolGetInfoFlags", "storage_vol_get_info_flags", part="storage"),
    Entry("virStorageVolGetXMLDesc", "storage_vol_get_xml_desc", part="storage"),
    Entry("virStorageVolGetPath", "storage_vol_get_path", part="storage"),
    Entry("virStorageVolResize", "storage_vol_resize", writes=True, part="storage"),
    Entry("virStorageVolUpload", "storage_vol_upload", writes=True, part="storage"),
    Entry("virStorageVolDownload", "storage_vol_download", writes=True, part="storage"),
    Entry("virConnectStoragePoolEventRegisterAny", "connect_storage_pool_event_register_any",
          part="storage"),
    Entry("virConnectStoragePoolEventDeregisterAny", "connect_storage_pool_event_deregister_any",
          part="storage"),
)
ENTRIES: dict[str, Entry] = {e.api: e for e in _ENTRIES}

# registerErrorHandler's handler and its context; None: errors are only raised.
ErrorHandler = Callable[[Any, tuple[Any, ...]], Any]
_error_handler: list[tuple[ErrorHandler, Any]] = []


def set_error_handler(handler: ErrorHandler | None, ctx: Any) -> None:
    _error_handler.clear()
    if handler is not None:
        _error_handler.append((handler, ctx))


def report(err: QvirtError) -> None:
    """Hand an error to the registered handler, as virDispatchError does before returning."""
    for handler, ctx in _error_handler:
        handler(ctx, (int(err.code), int(err.domain), err.message, int(err.level), err.str1,
                      err.str2, err.str3, err.int1, err.int2))


# The error domain of an entry point's own refusals (read-only, unsupported): libvirt's
# libvirt-storage.c and libvirt-network.c report from their own VIR_FROM_THIS.
PART_DOMAINS = {"": ErrorDomain.DOMAIN, "storage": ErrorDomain.STORAGE,
                "network": ErrorDomain.NETWORK}


def invalid_conn(api: str) -> QvirtError:
    return QvirtError(api, code=ErrorNumber.INVALID_CONN, domain=ErrorDomain.DOMAIN)


def check_open(driver: HypervisorDriver | None, api: str) -> HypervisorDriver:
    """The handle check every entry point starts with."""
    if driver is None:
        err = invalid_conn(api)
        report(err)
        raise err
    return driver


def call(driver: HypervisorDriver | None, read_only: bool, api: str, *args: Any,
         denied: str | None = None, quiet: bool = False) -> Any:
    """Run one entry point. ``denied`` words a read-only refusal other than the usual;
    ``quiet`` keeps the error from the handler (the API's own bookkeeping calls)."""
    entry = ENTRIES[api]
    try:
        if driver is None:
            raise invalid_conn(api)
        domain = PART_DOMAINS[entry.part]
        if read_only and (entry.writes or denied):
            raise QvirtError(denied or f"read only access prevents {api}",
                             code=ErrorNumber.OPERATION_DENIED, domain=domain)
        owner = getattr(driver, entry.part, None) if entry.part else driver
        method = getattr(owner, entry.method, None)
        if method is None:
            raise NoSupport(api, domain=domain)
        return method(*args)
    except QvirtError as err:
        if not quiet:
            report(err)
        raise
