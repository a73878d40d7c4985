"""The test driver's capabilities document (testBuildCapabilities): an i686 host with PAE,
four page sizes, the node's NUMA cells, and hvm and xen guests run by /usr/bin/test-hv."""

from __future__ import annotations

from qvirt.conf.capabilities import (
    Capabilities,
    CellCPU,
    Guest,
    GuestDomain,
    Host,
    HostCell,
    HostCPU,
    HostPages,
    HostTopology,
    NamedElement,
    PowerManagement,
    SecModel,
)
from qvirt.drivers.test.node import Cell

ARCH = "i686"
EMULATOR = "/usr/bin/test-hv"
FEATURES = ("pae", "nonpae")
PAGE_SIZES = (4, 8, 2048, 1024 * 1024)  # KiB
GUEST_OS_TYPES = ("hvm", "xen")
SECURITY_MODEL = "testSecurity"


def document(cells: list[Cell]) -> str:
    """The capabilities XML. A node file has no cells, and libvirt then writes an empty
    <cells> element open and closed on two lines, which the generic formatter would collapse."""
    xml = build(cells).to_xml()
    return xml.replace("<cells num='0'/>", "<cells num='0'>\n      </cells>")


def build(cells: list[Cell]) -> Capabilities:
    host = Host(
        cpu=HostCPU(arch=ARCH, old_features=[NamedElement(f) for f in FEATURES],
                    pages=[HostPages(unit="KiB", size=s) for s in PAGE_SIZES]),
        power_management=PowerManagement(), iommu=False,
        topology=HostTopology(cells_num=len(cells), cells=[_cell(c) for c in cells]),
        secmodels=[SecModel(model=SECURITY_MODEL, doi="")],
    )
    guests = [Guest(os_type=os_type, arch=ARCH, wordsize=32, emulator=EMULATOR,
                    domains=[GuestDomain(type="test")],
                    features=[NamedElement(f) for f in FEATURES])
              for os_type in GUEST_OS_TYPES]
    return Capabilities(host=host, guests=guests)


def _cell(cell: Cell) -> HostCell:
    """Cell 1 counts its memory in 8 KiB pages, the others in 4 KiB ones (as libvirt's test
    driver does, to have two page sizes in use); the huge page sizes are listed empty."""
    first = PAGE_SIZES[1] if cell.id == 1 else PAGE_SIZES[0]
    pages = [HostPages(unit="KiB", size=first, count=cell.memory // first)]
    pages += [HostPages(unit="KiB", size=s, count=0) for s in PAGE_SIZES[2:]]
    cpus = [CellCPU(id=cpu, socket_id=cpu // len(cell.cpus), die_id=0,
                    core_id=cpu % len(cell.cpus), siblings=str(cpu)) for cpu in cell.cpus]
    return HostCell(id=cell.id, memory_unit="KiB", memory=cell.memory, pages=pages,
                    cpus_num=len(cell.cpus), cpus=cpus)
