"""Domain snapshots: libvirt's snapshot-dumpxml output round trips byte for byte, the
<domain> inside it included, and the reference form <domain><uuid/></domain> is kept."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qvirt.conf.domain import Domain
from qvirt.conf.snapshot import DomainRef, DomainSnapshot
from qvirt.errors import QvirtError
from tests.support.schema import schema_errors

DATA = Path(__file__).parent.parent / "data" / "conf" / "snapshot"
SNAPSHOTS = sorted(DATA.glob("sto-*.xml"))
CANONICAL = [p for p in SNAPSHOTS if not p.name.startswith("sto-in-")]
BAD = sorted((DATA / "invalid").glob("sto-*.xml"))




def test_corpus_is_large_enough() -> None:
    assert len(SNAPSHOTS) >= 12


@pytest.mark.parametrize("path", CANONICAL, ids=lambda p: p.stem)
def test_libvirt_snapshot_output_round_trips_byte_for_byte(path: Path) -> None:
    text = path.read_text()
    assert DomainSnapshot.from_xml(text).to_xml() == text


def test_snapshot_fields_are_typed() -> None:
    snap = DomainSnapshot.from_xml((DATA / "sto-child.xml").read_text())
    assert snap.name == "corpus-sto-child" and snap.parent == "corpus-sto-internal-shutoff"
    assert snap.state == "shutdown" and snap.creation_time == 1700002000
    assert snap.memory == "no" and [d.snapshot for d in snap.disks] == ["internal"]
    assert isinstance(snap.domain, Domain) and snap.domain.name == "corpus-sto-snapdom"


def test_external_memory_and_disk() -> None:
    snap = DomainSnapshot.from_xml((DATA / "sto-external-memory.xml").read_text())
    assert snap.memory == "external" and snap.memory_file == "/tmp/sto-oracle/sto-snap.mem"
    disk = snap.disks[0]
    assert disk.type == "file" and disk.source.file == "/tmp/sto-oracle/sto-snap.overlay2"


def test_input_gets_libvirts_implied_disk_type_and_uuid_reference() -> None:
    snap = DomainSnapshot.from_xml((DATA / "sto-in-create.xml").read_text())
    assert isinstance(snap.domain, DomainRef)
    out = snap.to_xml()
    assert "<disk name='vda' snapshot='external' type='file'>" in out
    assert "<disk name='vdb' snapshot='no'/>" in out
    assert "<domain>\n    <uuid>7a1c6f3e-5b2d-4c8e-9f01-23456789abcd</uuid>\n  </domain>" in out


def test_file_without_location_means_external_memory() -> None:
    snap = DomainSnapshot.from_xml("<domainsnapshot><memory file='/m'/></domainsnapshot>")
    assert snap.to_xml() == ("<domainsnapshot>\n  <memory snapshot='external' file='/m'/>\n"
                             "</domainsnapshot>\n")


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_invalid_snapshots_fail_with_libvirts_message(path: Path) -> None:
    text = path.read_text()
    found = re.match(r"<!-- error: (.*) -->\n", text)
    assert found, f"{path} lacks its error comment"
    with pytest.raises(QvirtError) as info:
        DomainSnapshot.from_xml(text)
    assert info.value.message == found.group(1)


@pytest.mark.compat
@pytest.mark.parametrize("path", SNAPSHOTS, ids=lambda p: p.stem)
def test_emitted_snapshots_validate(path: Path, tmp_path: Path) -> None:
    out = DomainSnapshot.from_xml(path.read_text()).to_xml()
    assert schema_errors(out, "domainsnapshot", tmp_path) == ""


def test_internal_metadata_keeps_inactive_domain_cookie_and_active() -> None:
    snap = DomainSnapshot.from_xml((DATA / "sto-internal-metadata.xml").read_text())
    assert snap.active == "1"
    assert isinstance(snap.inactive_domain, Domain)
    assert snap.inactive_domain.name == "corpus-sto-snapdom"
    assert snap.cookie is not None and snap.cookie.cpu.model.name == "qemu64"
    out = snap.to_xml()
    assert "\n  <inactiveDomain type='qemu'>\n" in out and out.endswith(
        "  </cookie>\n  <active>1</active>\n</domainsnapshot>\n")


DOMAIN_REF = "<domain><uuid>7a1c6f3e-5b2d-4c8e-9f01-23456789abcd</uuid></domain>"


@pytest.mark.parametrize(("doc", "message"), [
    # libvirtd's answers to snapshot-create --redefine with each part missing.
    ("<state>running</state><creationTime>5</creationTime>",
     "XML error: a redefined snapshot must have a name"),
    ("<name>s</name><creationTime>5</creationTime>" + DOMAIN_REF,
     "XML error: missing state from existing snapshot"),
    ("<name>s</name><state>running</state><creationTime>x5</creationTime>" + DOMAIN_REF,
     "internal error: missing creationTime from existing snapshot"),
    ("<name>s</name><state>running</state><creationTime>5</creationTime>",
     "internal error: missing domain in snapshot"),
])
def test_redefine_needs_what_a_taken_snapshot_records(doc: str, message: str) -> None:
    snap = DomainSnapshot.from_xml(f"<domainsnapshot>{doc}</domainsnapshot>")
    with pytest.raises(QvirtError) as info:
        snap.check_redefine()
    assert info.value.message == message


def test_libvirt_snapshots_pass_the_redefine_check() -> None:
    for path in CANONICAL:
        snap = DomainSnapshot.from_xml(path.read_text())
        if snap.state is not None:
            snap.check_redefine()
