"""Storage pools and volumes on test:///default: every call's result or error."""

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


def attempt(label: str, call: Callable[..., Any], *args: Any, domain: bool = True) -> None:
    try:
        print(label, "->", show(call(*args)))
    except libvirt.libvirtError as e:
        print(label, "error", e.get_error_code(), e.get_error_domain() if domain else "",
              show(e.get_error_message()), e.get_str1(), e.get_int1())


DIR = "<pool type='dir'><name>{}</name><target><path>/{}</path></target></pool>"
VOL = "<volume><name>{}</name><capacity unit='M'>{}</capacity>{}</volume>"
events: list[str] = []


def lifecycle(conn: Any, pool: Any, event: int, detail: int, opaque: Any) -> None:
    events.append(f"{opaque} {pool.name()} {event} {detail}")


def refresh(conn: Any, pool: Any, opaque: Any) -> None:
    events.append(f"{opaque} {pool.name()} refresh")


def sentinel(conn: Any, pool: Any, event: int, detail: int, opaque: Any) -> None:
    if pool.name() == "sentinel":
        done.set()


libvirt.virEventRegisterDefaultImpl()
done = threading.Event()


def loop() -> None:
    while True:
        libvirt.virEventRunDefaultImpl()


threading.Thread(target=loop, daemon=True).start()
conn = libvirt.open("test:///default")
pool = conn.storagePoolLookupByName("default-pool")
cid1 = conn.storagePoolEventRegisterAny(None, libvirt.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE,
                                        lifecycle, "all")
cid2 = conn.storagePoolEventRegisterAny(pool, libvirt.VIR_STORAGE_POOL_EVENT_ID_REFRESH,
                                        refresh, "mine")
attempt("list all", conn.listAllStoragePools, 0)
for flag in ("ACTIVE", "INACTIVE", "PERSISTENT", "TRANSIENT", "AUTOSTART", "NO_AUTOSTART",
             "DIR", "FS", "LOGICAL"):
    attempt("list " + flag, conn.listAllStoragePools,
            getattr(libvirt, "VIR_CONNECT_LIST_STORAGE_POOLS_" + flag))
attempt("list bad flag", conn.listAllStoragePools, 1 << 20)
attempt("names", conn.listStoragePools)
attempt("defined", conn.listDefinedStoragePools)
attempt("num", conn.numOfStoragePools)
attempt("num defined", conn.numOfDefinedStoragePools)
attempt("name", pool.name)
attempt("uuid", pool.UUID)
attempt("uuidstring", pool.UUIDString)
attempt("by uuid", conn.storagePoolLookupByUUID, pool.UUID())
attempt("by uuidstring", conn.storagePoolLookupByUUIDString, pool.UUIDString())
attempt("by bad uuidstring", conn.storagePoolLookupByUUIDString, "nope")
attempt("by other uuid", conn.storagePoolLookupByUUIDString,
        "dfe224cb-28fb-8dd0-c4b2-64eb3f0f4567")
attempt("by name missing", conn.storagePoolLookupByName, "nope")
attempt("by target path", conn.storagePoolLookupByTargetPath, "/default-pool")
attempt("info", pool.info)
attempt("xml", pool.XMLDesc, 0)
attempt("xml bad flag", pool.XMLDesc, 1)
attempt("autostart", pool.autostart)
attempt("set autostart", pool.setAutostart, 1)
attempt("autostart after", pool.autostart)
attempt("active", pool.isActive)
attempt("persistent", pool.isPersistent)
attempt("caps", conn.getStoragePoolCapabilities, 0)
for kind, spec in (("logical", None), ("netfs", None),
                   ("netfs", "<source><host name='h1'/></source>"),
                   ("disk", None), ("dir", None), ("bogus", None)):
    attempt(f"sources {kind} {spec}", conn.findStoragePoolSources, kind, spec, 0)
attempt("vol create", pool.createXML,
        VOL.format("v1", 10, "<allocation unit='M'>1</allocation>"), 0)
attempt("vol create qcow2", pool.createXML,
        VOL.format("v2", 1024, "<target><format type='qcow2'/></target>"), 0)
attempt("vol create again", pool.createXML, VOL.format("v1", 1, ""), 0)
attempt("vol create huge", pool.createXML, VOL.format("big", 200 * 1024, ""), 0)
attempt("vol create bad flag", pool.createXML, VOL.format("v9", 1, ""), 1)
attempt("vol create bad format", pool.createXML,
        VOL.format("v9", 1, "<target><format type='nope'/></target>"), 0)
attempt("vol create no capacity", pool.createXML, "<volume><name>v9</name></volume>", 0)
attempt("vol list", pool.listAllVolumes, 0)
attempt("vol names", pool.listVolumes)
attempt("vol num", pool.numOfVolumes)
vol = pool.storageVolLookupByName("v1")
attempt("vol name", vol.name)
attempt("vol key", vol.key)
attempt("vol path", vol.path)
attempt("vol info", vol.info)
attempt("vol xml", vol.XMLDesc, 0)
attempt("vol pool", vol.storagePoolLookupByVolume)
attempt("vol by key", conn.storageVolLookupByKey, "/default-pool/v1")
attempt("vol by path", conn.storageVolLookupByPath, "/default-pool/v2")
attempt("vol by key missing", conn.storageVolLookupByKey, "nope")
attempt("vol by path missing", conn.storageVolLookupByPath, "nope")
attempt("vol by name missing", pool.storageVolLookupByName, "nope")
attempt("vol clone", pool.createXMLFrom, VOL.format("v3", 1, ""), vol, 0)
attempt("vol wipe", vol.wipe, 0)
attempt("vol wipe pattern", vol.wipePattern, 0, 0)
attempt("vol resize", vol.resize, 1, 0)
attempt("vol upload", vol.upload, conn.newStream(0), 0, 0, 0)
attempt("vol download", vol.download, conn.newStream(0), 0, 0, 0)
elsewhere = libvirt.open("test:///default")
attempt("vol upload foreign stream", vol.upload, elsewhere.newStream(0), 0, 0, 0)
attempt("vol download foreign stream", vol.download, elsewhere.newStream(0), 0, 0, 0)
attempt("pool info", pool.info)
attempt("vol delete", vol.delete, 0)
attempt("vol delete again", vol.delete, 0)
attempt("vol info deleted", vol.info)
attempt("pool info", pool.info)
for op in ("create", "build", "delete"):
    attempt(op + " active", getattr(pool, op), 0)
attempt("undefine active", pool.undefine)
attempt("refresh", pool.refresh, 0)
attempt("destroy", pool.destroy)
attempt("destroy again", pool.destroy)
attempt("refresh inactive", pool.refresh, 0)
attempt("vol list inactive", pool.listAllVolumes, 0)
attempt("vol by name inactive", pool.storageVolLookupByName, "v2")
attempt("vol by key inactive", conn.storageVolLookupByKey, "/default-pool/v2")
attempt("info inactive", pool.info)
attempt("build", pool.build, 0)
attempt("delete", pool.delete, 0)
attempt("create", pool.create, 0)
attempt("vol list again", pool.listAllVolumes, 0)
attempt("define", conn.storagePoolDefineXML, DIR.format("p2", "p2"), 0)
attempt("define again", conn.storagePoolDefineXML, DIR.format("p2", "p2"), 0)
attempt("define same path", conn.storagePoolDefineXML, DIR.format("p9", "default-pool"), 0)
attempt("define bad", conn.storagePoolDefineXML, "<pool type='dir'><name>x</name></pool>", 0)
attempt("define bad flag", conn.storagePoolDefineXML, DIR.format("p9", "p9"), 2)
p2 = conn.storagePoolLookupByName("p2")
attempt("p2 redefine", conn.storagePoolDefineXML,
        DIR.format("p2", "p2").replace("</name>", f"</name><uuid>{p2.UUIDString()}</uuid>"), 0)
attempt("p2 info", p2.info)
attempt("p2 active", p2.isActive)
attempt("p2 autostart", p2.setAutostart, 1)
attempt("p2 list autostart", conn.listAllStoragePools,
        libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_AUTOSTART)
attempt("p2 vol create inactive", p2.createXML, VOL.format("v", 1, ""), 0)
attempt("p2 undefine", p2.undefine)
attempt("p2 after", conn.storagePoolLookupByName, "p2")
attempt("create xml", conn.storagePoolCreateXML, DIR.format("p3", "p3"), 0)
p3 = conn.storagePoolLookupByName("p3")
attempt("p3 persistent", p3.isPersistent)
attempt("p3 autostart", p3.autostart)
attempt("p3 set autostart", p3.setAutostart, 1)
attempt("p3 list transient", conn.listAllStoragePools,
        libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_TRANSIENT)
attempt("create xml again", conn.storagePoolCreateXML, DIR.format("p3", "p3"), 0)
attempt("p3 destroy", p3.destroy)
attempt("p3 after", conn.storagePoolLookupByName, "p3")
# Events arrive in order, each to the callbacks registered when it is delivered: the
# sentinel pool's says every earlier one has come (libvirt drops those a callback
# deregistered before their delivery).
attempt("register twice", conn.storagePoolEventRegisterAny, None,
        libvirt.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE, sentinel, None)
other = libvirt.open("test:///default")
cid3 = other.storagePoolEventRegisterAny(None, libvirt.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE,
                                         sentinel, None)
print("ids", cid1, cid2, cid3, conn.domainEventRegisterAny(
    None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, lambda *args: None, None))
conn.storagePoolDefineXML(DIR.format("sentinel", "sentinel"), 0)
done.wait(60)
for line in events:
    print("event", line)
attempt("deregister", conn.storagePoolEventDeregisterAny, cid1)
attempt("deregister again", conn.storagePoolEventDeregisterAny, cid1)
attempt("deregister", conn.storagePoolEventDeregisterAny, cid2)
attempt("deregister other", other.storagePoolEventDeregisterAny, cid3)
ro = libvirt.openReadOnly("test:///default")
rpool = ro.storagePoolLookupByName("default-pool")
# qvirt's read-only refusals all come from the domain's error domain, libvirt's storage
# APIs' from the storage domain: only code and text are compared.
attempt("ro define", ro.storagePoolDefineXML, DIR.format("p4", "p4"), 0, domain=False)
attempt("ro destroy", rpool.destroy, domain=False)
attempt("ro vol create", rpool.createXML, VOL.format("v", 1, ""), 0, domain=False)
attempt("ro info", rpool.info)
