"""The node a test connection describes: libvirt's built-in default node (testOpenDefault) or a
node description file (testOpenFromFile), read into plain records the driver keeps in memory."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from qvirt.drivers.base import NodeInfo
from qvirt.errors import ErrorDomain, XMLError

# testOpenDefault's node: one running domain, one network, one host interface, one storage
# pool and four node devices. Facts of libvirt's test driver, which clients diff against.
DEFAULT_NODE_XML = """\
<node>
  <domain type='test'>
    <name>test</name>
    <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>
    <memory>8388608</memory>
    <currentMemory>2097152</currentMemory>
    <vcpu>2</vcpu>
    <os>
      <type>hvm</type>
    </os>
    <devices>
      <disk type='file' device='disk'>
        <source file='/guest/diskimage1'/>
        <target dev='vda' bus='virtio'/>
        <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
      </disk>
      <interface type='network'>
        <mac address='aa:bb:cc:dd:ee:ff'/>
        <source network='default' bridge='virbr0'/>
        <address type='pci' domain='0x0000' bus='0x00' slot='0x1' function='0x0'/>
      </interface>
      <memballoon model='virtio'>
        <address type='pci' domain='0x0000' bus='0x00' slot='0x2' function='0x0'/>
      </memballoon>
    </devices>
  </domain>
  <network>
    <name>default</name>
    <uuid>dd8fe884-6c02-601e-7551-cca97df1c5df</uuid>
    <bridge name='virbr0'/>
    <forward/>
    <ip address='192.168.122.1' netmask='255.255.255.0'>
      <dhcp>
        <range start='192.168.122.2' end='192.168.122.254'/>
      </dhcp>
    </ip>
  </network>
  <interface type='ethernet' name='eth1'>
    <start mode='onboot'/>
    <mac address='aa:bb:cc:dd:ee:ff'/>
    <mtu size='1492'/>
    <protocol family='ipv4'>
      <ip address='192.168.0.5' prefix='24'/>
      <route gateway='192.168.0.1'/>
    </protocol>
  </interface>
  <pool type='dir'>
    <name>default-pool</name>
    <uuid>dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566</uuid>
    <target>
      <path>/default-pool</path>
    </target>
  </pool>
  <device>
    <name>computer</name>
    <capability type='system'>
      <hardware>
        <vendor>Libvirt</vendor>
        <version>Test driver</version>
        <serial>123456</serial>
        <uuid>11111111-2222-3333-4444-555555555555</uuid>
      </hardware>
      <firmware>
        <vendor>Libvirt</vendor>
        <version>Test Driver</version>
        <release_date>01/22/2007</release_date>
      </firmware>
    </capability>
  </device>
  <device>
    <name>scsi_host1</name>
    <parent>computer</parent>
    <capability type='scsi_host'>
      <host>1</host>
      <unique_id>0</unique_id>
      <capability type='fc_host'>
        <wwnn>2000000012341234</wwnn>
        <wwpn>1000000012341234</wwpn>
        <fabric_wwn>2000000043214321</fabric_wwn>
      </capability>
      <capability type='vport_ops'>
        <max_vports>127</max_vports>
        <vports>1</vports>
      </capability>
    </capability>
  </device>
  <device>
    <name>scsi_host2</name>
    <parent>computer</parent>
    <capability type='scsi_host'>
      <host>2</host>
      <unique_id>1</unique_id>
      <capability type='fc_host'>
        <wwnn>2000000056785678</wwnn>
        <wwpn>1000000056785678</wwpn>
        <fabric_wwn>2000000087658765</fabric_wwn>
      </capability>
      <capability type='vport_ops'>
        <max_vports>127</max_vports>
        <vports>0</vports>
      </capability>
    </capability>
  </device>
  <device>
    <name>scsi_host11</name>
    <parent>scsi_host1</parent>
    <capability type='scsi_host'>
      <host>11</host>
      <unique_id>10</unique_id>
      <capability type='fc_host'>
        <wwnn>2000000034563456</wwnn>
        <wwpn>1000000034563456</wwpn>
        <fabric_wwn>2000000043214321</fabric_wwn>
      </capability>
    </capability>
  </device>
</node>
"""

# defaultNodeInfo: a 16-CPU, 3 GiB i686 host.
DEFAULT_NODE_INFO = NodeInfo(model="i686", memory=3 * 1024 * 1024, cpus=16, mhz=1400, nodes=2,
                             sockets=2, cores=2, threads=2)
DEFAULT_CELLS = 2
CPUS_PER_CELL = 8

# /node/cpu/<tag> -> NodeInfo field, as testParseNodeInfo reads them.
_CPU_FIELDS = {"nodes": "nodes", "sockets": "sockets", "cores": "cores", "threads": "threads",
               "mhz": "mhz"}


@dataclass(frozen=True)
class Cell:
    """A host NUMA cell of the default node: its memory (KiB, also what
    testNodeGetCellsFreeMemory answers, in bytes), its CPU ids, and the bytes free that
    testNodeGetFreeMemory adds up."""

    id: int
    memory: int
    cpus: tuple[int, ...]
    free: int = 0


@dataclass
class Node:
    info: NodeInfo
    cells: list[Cell] = field(default_factory=list)
    # The documents each object kind starts with, as XML text in the file's order.
    domains: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    interfaces: list[str] = field(default_factory=list)
    pools: list[str] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)


def default_node() -> Node:
    node = _parse(etree.fromstring(DEFAULT_NODE_XML.encode()), None)
    node.info = DEFAULT_NODE_INFO
    node.cells = [Cell(id=i, memory=(i + 1) * 2048 * 1024,
                       cpus=tuple(range(i * CPUS_PER_CELL, (i + 1) * CPUS_PER_CELL)),
                       free=(i + 1) * 1024 * 1024)
                  for i in range(DEFAULT_CELLS)]
    return node


def node_from_file(path: str) -> Node:
    """testOpenFromFile: a node file; each object may live in a file of its own (file=)."""
    try:
        root = etree.parse(path).getroot()
    except (OSError, etree.XMLSyntaxError):
        raise XMLError(f"failed to parse xml document '{path}'", domain=ErrorDomain.TEST) from None
    return _parse(root, Path(path))


def _parse(root: etree._Element, origin: Path | None) -> Node:
    if root.tag != "node":
        raise XMLError(f"expecting root element of 'node', not '{etree.QName(root).localname}'",
                       domain=ErrorDomain.XML)
    node = Node(info=_node_info(root))
    kinds = {"domain": node.domains, "network": node.networks, "interface": node.interfaces,
             "pool": node.pools, "device": node.devices}
    for child in root:
        target = kinds.get(str(child.tag))
        if target is not None:
            target.append(_document(child, origin))
    return node


def _document(element: etree._Element, origin: Path | None) -> str:
    """An object given inline, or by file= relative to the node file's directory."""
    ref = element.get("file")
    if ref is None or origin is None:
        return etree.tostring(element, encoding="unicode")
    path = Path(ref) if Path(ref).is_absolute() else origin.parent / ref
    try:
        return etree.tostring(etree.parse(str(path)).getroot(), encoding="unicode")
    except (OSError, etree.XMLSyntaxError):
        raise XMLError(f"failed to parse xml document '{path}'", domain=ErrorDomain.TEST) from None


def _node_info(root: etree._Element) -> NodeInfo:
    """testParseNodeInfo: /node/cpu and /node/memory override the default node's numbers."""
    fields: dict[str, Any] = asdict(DEFAULT_NODE_INFO)
    for tag, name in _CPU_FIELDS.items():
        text = root.findtext(f"cpu/{tag}")
        if text is not None:
            fields[name] = _long(text, f"invalid node cpu {tag} value")
    fields["cpus"] = fields["cores"] * fields["threads"] * fields["sockets"] * fields["nodes"]
    active = root.findtext("cpu/active")
    if active is not None:
        fields["cpus"] = min(fields["cpus"], _long(active, "invalid node cpu active value"))
    model = root.findtext("cpu/model")
    if model is not None:
        fields["model"] = model
    memory = root.findtext("memory")
    if memory is not None:
        fields["memory"] = _long(memory, "invalid node memory value")
    return NodeInfo(**fields)


def _long(text: str, error: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise XMLError(error, domain=ErrorDomain.TEST) from None
