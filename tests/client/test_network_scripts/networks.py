"""Virtual networks on test:///default: every call's result or error."""

import re
import threading
from collections.abc import Callable
from typing import Any

import libvirt  # type: ignore[import-not-found]


def show(value: Any) -> str:
    if isinstance(value, list):
        # Listings come in libvirt's hash-table order, which promises nothing.
        return "[" + ", ".join(sorted(show(v) for v in value)) + "]"
    if hasattr(value, "name") and callable(value.name):
        return f"<{type(value).__name__} {value.name()}>"
    return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UUID",
                  repr(value))


def attempt(label: str, call: Callable[..., Any], *args: Any) -> None:
    try:
        print(label, "->", show(call(*args)))
    except libvirt.libvirtError as e:
        print(label, "error", e.get_error_code(), e.get_error_domain(),
              show(e.get_error_message()))


NET = ("<network><name>{}</name>{}<ip address='192.168.{}.1' netmask='255.255.255.0'>"
       "<dhcp><range start='192.168.{}.2' end='192.168.{}.9'/></dhcp></ip></network>")
HOST = "<host mac='52:54:00:00:00:0{}' ip='192.168.122.1{}'/>"
events: list[str] = []


def lifecycle(conn: Any, net: Any, event: int, detail: int, opaque: Any) -> None:
    events.append(f"{opaque} {net.name()} {event} {detail}")


def sentinel(conn: Any, net: Any, event: int, detail: int, opaque: Any) -> None:
    if net.name() == "sentinel":
        done.set()


libvirt.virEventRegisterDefaultImpl()
done = threading.Event()


def loop() -> None:
    while True:
        libvirt.virEventRunDefaultImpl()


threading.Thread(target=loop, daemon=True).start()
conn = libvirt.open("test:///default")
net = conn.networkLookupByName("default")
# Every callback is registered before the first event: libvirt delivers a queued event to
# the callbacks registered when its loop gets to it, which is a matter of timing.
cid1 = conn.networkEventRegisterAny(None, libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE, lifecycle,
                                    "all")
cid2 = conn.networkEventRegisterAny(net, libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE, lifecycle,
                                    "mine")
attempt("list all", conn.listAllNetworks, 0)
for flag in ("ACTIVE", "INACTIVE", "PERSISTENT", "TRANSIENT", "AUTOSTART", "NO_AUTOSTART"):
    attempt("list " + flag, conn.listAllNetworks,
            getattr(libvirt, "VIR_CONNECT_LIST_NETWORKS_" + flag))
attempt("list bad flag", conn.listAllNetworks, 1 << 10)
attempt("names", conn.listNetworks)
attempt("defined", conn.listDefinedNetworks)
attempt("num", conn.numOfNetworks)
attempt("num defined", conn.numOfDefinedNetworks)
attempt("name", net.name)
attempt("uuid", net.UUID)
attempt("uuidstring", net.UUIDString)
attempt("by uuid", conn.networkLookupByUUID, net.UUID())
attempt("by uuidstring", conn.networkLookupByUUIDString, net.UUIDString())
attempt("by bad uuidstring", conn.networkLookupByUUIDString, "nope")
attempt("by other uuid", conn.networkLookupByUUIDString,
        "dd8fe884-6c02-601e-7551-cca97df1c5d0")
attempt("by name missing", conn.networkLookupByName, "nope")
attempt("xml", net.XMLDesc, 0)
attempt("xml inactive", net.XMLDesc, libvirt.VIR_NETWORK_XML_INACTIVE)
attempt("bridge", net.bridgeName)
attempt("autostart", net.autostart)
attempt("set autostart", net.setAutostart, 1)
attempt("autostart after", net.autostart)
attempt("list autostart", conn.listAllNetworks, libvirt.VIR_CONNECT_LIST_NETWORKS_AUTOSTART)
attempt("active", net.isActive)
attempt("persistent", net.isPersistent)
attempt("leases", net.DHCPLeases)
attempt("leases mac", net.DHCPLeases, "52:54:00:00:00:01", 0)
attempt("ports", net.listAllPorts, 0)
attempt("port create", net.portCreateXML, "<networkport/>", 0)
attempt("port by uuidstring", net.portLookupByUUIDString, net.UUIDString())
attempt("port by bad uuidstring", net.portLookupByUUIDString, "nope")
attempt("port by uuid", net.portLookupByUUID, net.UUID())
attempt("update live", net.update, libvirt.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST,
        libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST, -1, HOST.format(1, 1), 0)
attempt("update config", net.update, libvirt.VIR_NETWORK_UPDATE_COMMAND_ADD_FIRST,
        libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST, -1, HOST.format(2, 2),
        libvirt.VIR_NETWORK_UPDATE_AFFECT_CONFIG)
attempt("update bad flag", net.update, libvirt.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST,
        libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST, -1, HOST.format(3, 3), 4)
attempt("update bridge", net.update, libvirt.VIR_NETWORK_UPDATE_COMMAND_MODIFY,
        libvirt.VIR_NETWORK_SECTION_BRIDGE, -1, "<bridge name='x'/>", 0)
attempt("xml updated", net.XMLDesc, 0)
attempt("undefine active", net.undefine)
attempt("create active", net.create)
attempt("destroy", net.destroy)
attempt("destroy again", net.destroy)
attempt("update live inactive", net.update, libvirt.VIR_NETWORK_UPDATE_COMMAND_DELETE,
        libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST, -1, HOST.format(1, 1),
        libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE)
attempt("update current inactive", net.update, libvirt.VIR_NETWORK_UPDATE_COMMAND_DELETE,
        libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST, -1, HOST.format(1, 1), 0)
attempt("xml inactive network", net.XMLDesc, 0)
attempt("active", net.isActive)
attempt("create", net.create)
attempt("define", conn.networkDefineXML, NET.format("n2", "", 10, 10, 10))
attempt("define again", conn.networkDefineXML, NET.format("n2", "", 10, 10, 10))
attempt("define other uuid", conn.networkDefineXML,
        NET.format("n9", f"<uuid>{net.UUIDString()}</uuid>", 11, 11, 11))
attempt("define bad", conn.networkDefineXML, "<network><name>x/y</name></network>")
attempt("define bad flag", conn.networkDefineXMLFlags, NET.format("n9", "", 11, 11, 11), 2)
attempt("define validate", conn.networkDefineXMLFlags, NET.format("n3", "", 12, 12, 12),
        libvirt.VIR_NETWORK_DEFINE_VALIDATE)
n2 = conn.networkLookupByName("n2")
attempt("n2 xml", n2.XMLDesc, 0)
attempt("n2 active", n2.isActive)
attempt("n2 bridge", n2.bridgeName)
attempt("n2 start", n2.create)
attempt("n2 destroy", n2.destroy)
attempt("n2 undefine", n2.undefine)
attempt("n2 after", conn.networkLookupByName, "n2")
attempt("create xml", conn.networkCreateXML, NET.format("t1", "", 20, 20, 20))
attempt("create xml flags", conn.networkCreateXMLFlags, NET.format("t2", "", 21, 21, 21), 0)
attempt("create xml bad flag", conn.networkCreateXMLFlags, NET.format("t3", "", 22, 22, 22), 1)
t1 = conn.networkLookupByName("t1")
attempt("t1 persistent", t1.isPersistent)
attempt("t1 set autostart", t1.setAutostart, 1)
attempt("t1 list transient", conn.listAllNetworks, libvirt.VIR_CONNECT_LIST_NETWORKS_TRANSIENT)
attempt("t1 update config", t1.update, libvirt.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST,
        libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST, -1, HOST.format(4, 4),
        libvirt.VIR_NETWORK_UPDATE_AFFECT_CONFIG)
attempt("create xml again", conn.networkCreateXML, NET.format("t1", "", 20, 20, 20))
attempt("t1 destroy", t1.destroy)
attempt("t1 after", conn.networkLookupByName, "t1")
attempt("register twice", conn.networkEventRegisterAny, None,
        libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE, sentinel, None)
attempt("register one again", conn.networkEventRegisterAny, net,
        libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE, lifecycle, "mine")
other = libvirt.open("test:///default")
cid3 = other.networkEventRegisterAny(None, libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE, sentinel,
                                     None)
net.destroy()
net.create()
conn.networkDefineXML(NET.format("sentinel", "", 30, 30, 30))
done.wait(60)
for line in events:
    print("event", line)
attempt("deregister", conn.networkEventDeregisterAny, cid1)
attempt("deregister again", conn.networkEventDeregisterAny, cid1)
attempt("deregister one", conn.networkEventDeregisterAny, cid2)
attempt("deregister other", other.networkEventDeregisterAny, cid3)
ro = libvirt.openReadOnly("test:///default")
rnet = ro.networkLookupByName("default")
attempt("ro define", ro.networkDefineXML, NET.format("n4", "", 40, 40, 40))
attempt("ro destroy", rnet.destroy)
attempt("ro update", rnet.update, 3, 4, -1, HOST.format(5, 5), 0)
attempt("ro xml", rnet.XMLDesc, 0)
