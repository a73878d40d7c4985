"""Storage pools and volumes: libvirt's defaults at pool-define, byte-exact round trips of
libvirt's own output, and libvirt's error texts (the corpus under tests/data/conf/)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qvirt.conf.storage_common import sanitize_path, scale_size
from qvirt.conf.storage_pool import StoragePool, apply_defaults
from qvirt.conf.storage_vol import StorageVol
from qvirt.conf.storage_vol import apply_defaults as apply_volume_defaults
from qvirt.errors import QvirtError
from tests.support import oracle
from tests.support.schema import schema_errors

DATA = Path(__file__).parent.parent / "data" / "conf"
POOLS = sorted((DATA / "pool").glob("sto-*.xml"))
BAD_POOLS = sorted((DATA / "pool" / "invalid").glob("sto-*.xml"))
VOLUMES = sorted((DATA / "volume").glob("sto-*.xml"))
BAD_VOLUMES = sorted((DATA / "volume" / "invalid").glob("sto-*.xml"))




def pool_output(text: str) -> str:
    pool = StoragePool.from_xml(text)
    apply_defaults(pool)
    return pool.to_xml()


def expected_error(path: Path) -> str:
    found = re.match(r"<!-- error: (.*) -->\n", path.read_text())
    assert found, f"{path} lacks its error comment"
    return found.group(1)


def error_of(cls: type[StoragePool] | type[StorageVol], text: str) -> str:
    with pytest.raises(QvirtError) as info:
        cls.from_xml(text)
    return info.value.message


def test_corpus_is_large_enough() -> None:
    assert len(POOLS) >= 35 and len(VOLUMES) >= 15
    assert len(BAD_POOLS) + len(BAD_VOLUMES) >= 15


GUIDE_DIR = """<pool type='dir'>
  <name>guest_images</name>
  <target>
    <path>/guest_images</path>
  </target>
</pool>
"""

GUIDE_DIR_DEFINED = """<pool type='dir'>
  <name>guest_images</name>
  <uuid>UUID</uuid>
  <capacity unit='bytes'>0</capacity>
  <allocation unit='bytes'>0</allocation>
  <available unit='bytes'>0</available>
  <source>
  </source>
  <target>
    <path>/guest_images</path>
  </target>
</pool>
"""


def test_dir_pool_defaults_match_libvirt_9() -> None:
    assert oracle.normalize(pool_output(GUIDE_DIR)) == GUIDE_DIR_DEFINED


@pytest.mark.parametrize(("kind", "source", "target"), [
    ("fs", "<device path='/dev/sdc1'/>", "/guest_images"),
    ("netfs", "<host name='h'/><dir path='/d'/>", "/mnt"),
    ("disk", "<device path='/dev/sdb'/>", "/dev"),
    ("logical", "<device path='/dev/sdc'/>", "/ignored"),
])
def test_source_format_defaults_per_type(kind: str, source: str, target: str) -> None:
    text = (f"<pool type='{kind}'><name>p</name><source>{source}</source>"
            f"<target><path>{target}</path></target></pool>")
    out = pool_output(text)
    default = {"fs": "auto", "netfs": "auto", "disk": "unknown", "logical": "lvm2"}[kind]
    assert f"<format type='{default}'/>" in out


def test_logical_pool_takes_source_name_and_derives_target() -> None:
    out = pool_output("<pool type='logical'><name>vg0</name><target><path>/x</path>"
                      "</target></pool>")
    assert "<name>vg0</name>\n    <format type='lvm2'/>" in out
    assert "<path>/dev/vg0</path>" in out


def test_parts_a_type_does_not_take_are_dropped() -> None:
    out = pool_output("<pool type='dir'><name>d</name><source><host name='h'/>"
                      "<device path='/dev/x'/><vendor name='v'/></source>"
                      "<target><path>/d/</path></target></pool>")
    assert "host" not in out and "device" not in out
    assert "<vendor name='v'/>" in out and "<path>/d</path>" in out


def test_sizes_are_never_read_at_define() -> None:
    out = pool_output("<pool type='dir'><name>d</name><capacity unit='G'>3</capacity>"
                      "<target><path>/d</path></target></pool>")
    assert "<capacity unit='bytes'>0</capacity>" in out


def test_namespaced_mount_options_round_trip() -> None:
    text = (DATA / "pool" / "sto-fs-mount-opts.xml").read_text()
    pool = StoragePool.from_xml(text)
    assert pool.mount_opts == [("noatime",), ("nodiratime",)]
    out = pool_output(text)
    assert out.startswith("<pool type='fs' xmlns:fs='http://libvirt.org/schemas/"
                          "storagepool/fs/1.0'>\n")
    assert out.endswith("  <fs:mount_opts>\n    <fs:option name='noatime'/>\n"
                        "    <fs:option name='nodiratime'/>\n  </fs:mount_opts>\n</pool>\n")


@pytest.mark.parametrize(("path", "clean"), [
    ("/a//b/", "/a/b"), ("//srv/x", "//srv/x"), ("///srv", "/srv"), ("/", "/")])
def test_paths_are_sanitized_like_libvirt(path: str, clean: str) -> None:
    assert sanitize_path(path) == clean


@pytest.mark.parametrize(("value", "unit", "size"), [
    (1, None, 1), (1, "bytes", 1), (1, "k", 1024), (1, "KiB", 1024), (1, "KB", 1000),
    (2, "G", 2 * 1024**3), (1, "TB", 10**12), (1, "e", 1024**6)])
def test_units_scale_like_virScaleInteger(value: int, unit: str | None, size: int) -> None:
    assert scale_size(value, unit) == size


@pytest.mark.parametrize("path", BAD_POOLS, ids=lambda p: p.stem)
def test_invalid_pools_fail_with_libvirts_message(path: Path) -> None:
    assert error_of(StoragePool, path.read_text()) == expected_error(path)


@pytest.mark.parametrize("path", BAD_VOLUMES, ids=lambda p: p.stem)
def test_invalid_volumes_fail_with_libvirts_message(path: Path) -> None:
    assert error_of(StorageVol, path.read_text()) == expected_error(path)


@pytest.mark.compat
def test_every_pool_matches_libvirtd_and_its_output_round_trips() -> None:
    texts = [p.read_text() for p in POOLS]
    for path, text, result in zip(POOLS, texts, oracle.define_and_dump("pool", texts),
                                  strict=True):
        assert "xml" in result, f"{path.name}: libvirtd refused it: {result.get('error')}"
        libvirt = str(result["xml"])
        assert oracle.normalize(pool_output(text)) == oracle.normalize(libvirt), path.name
        assert pool_output(libvirt) == libvirt, path.name


CANONICAL_VOLUMES = [p for p in VOLUMES if not p.name.startswith("sto-in-")]


@pytest.mark.parametrize("path", CANONICAL_VOLUMES, ids=lambda p: p.stem)
def test_libvirt_volume_output_round_trips_byte_for_byte(path: Path) -> None:
    text = path.read_text()
    assert StorageVol.from_xml(text).to_xml() == text


def test_volume_input_is_normalized_as_libvirt_parses_it() -> None:
    vol = StorageVol.from_xml((DATA / "volume" / "sto-in-units.xml").read_text())
    assert vol.to_xml() == """<volume type='file'>
  <name>corpus-sto-units.img</name>
  <capacity unit='bytes'>1099511627776</capacity>
  <allocation unit='bytes'>3000000000</allocation>
  <target>
    <path>/ignored/by/pool</path>
    <format type='raw'/>
  </target>
</volume>
"""
    assert vol.target is not None and vol.target.nocow is True


def test_volume_allocation_defaults_to_capacity_and_features_imply_compat() -> None:
    vol = StorageVol.from_xml("<volume><name>v</name><capacity unit='M'>1</capacity>"
                              "<target><format type='qcow2'/><features><lazy_refcounts/>"
                              "</features><clusterSize unit='KiB'>64</clusterSize></target>"
                              "</volume>")
    assert vol.allocation == vol.capacity == 1048576
    out = vol.to_xml()
    assert "<compat>1.1</compat>\n    <clusterSize unit='B'>65536</clusterSize>\n" in out
    assert "<features>\n      <lazy_refcounts/>\n    </features>" in out


@pytest.mark.compat
@pytest.mark.parametrize("path", POOLS, ids=lambda p: p.stem)
def test_emitted_pools_validate(path: Path, tmp_path: Path) -> None:
    assert schema_errors(pool_output(path.read_text()), "storagepool", tmp_path) == ""


@pytest.mark.compat
@pytest.mark.parametrize("path", VOLUMES, ids=lambda p: p.stem)
def test_emitted_volumes_validate(path: Path, tmp_path: Path) -> None:
    out = StorageVol.from_xml(path.read_text()).to_xml()
    assert schema_errors(out, "storagevol", tmp_path) == ""


# Pool types whose backends Debian's libvirtd lacks (so no corpus file can be defined there):
# their rules come from storage_conf.c's poolTypeInfo table.

def test_rbd_pool_has_no_target_and_keeps_its_config_options() -> None:
    out = pool_output(
        "<pool type='rbd' xmlns:rbd='http://libvirt.org/schemas/storagepool/rbd/1.0'>"
        "<name>r</name><source><host name='mon1' port='6789'/><name>rbdpool</name>"
        "<auth type='ceph' username='admin'><secret uuid='2ec115d7-3a88-3ceb-bc12-"
        "0ac909a6fd87'/></auth></source><target><path>/ignored</path></target>"
        "<rbd:config_opts><rbd:option name='client_mount_timeout' value='45'/>"
        "</rbd:config_opts></pool>")
    assert oracle.normalize(out) == """<pool type='rbd' xmlns:rbd='http://libvirt.org/schemas/storagepool/rbd/1.0'>
  <name>r</name>
  <uuid>UUID</uuid>
  <capacity unit='bytes'>0</capacity>
  <allocation unit='bytes'>0</allocation>
  <available unit='bytes'>0</available>
  <source>
    <host name='mon1' port='6789'/>
    <name>rbdpool</name>
    <auth type='ceph' username='admin'>
      <secret uuid='UUID'/>
    </auth>
  </source>
  <rbd:config_opts>
    <rbd:option name='client_mount_timeout' value='45'/>
  </rbd:config_opts>
</pool>
"""


def test_rbd_pool_needs_a_source_name() -> None:
    assert error_of(StoragePool, "<pool type='rbd'><name>r</name><source><host name='m'/>"
                    "</source></pool>") == "XML error: element 'name' is mandatory for RBD pool"


def test_gluster_pool_directory_defaults_to_root() -> None:
    out = pool_output("<pool type='gluster'><name>g</name><source><host name='h'/>"
                      "<name>vol</name></source></pool>")
    assert "<host name='h'/>\n    <dir path='/'/>\n    <name>vol</name>\n  </source>\n</pool>" \
        in out


def test_zfs_pool_target_is_the_zvol_directory() -> None:
    out = pool_output("<pool type='zfs'><name>tank</name><source><device path='/dev/sdb'/>"
                      "</source></pool>")
    assert "<name>tank</name>\n  </source>" in out and "<path>/dev/zvol/tank</path>" in out


def test_iscsi_direct_pool_needs_an_initiator() -> None:
    assert error_of(StoragePool, "<pool type='iscsi-direct'><name>d</name><source>"
                    "<host name='h'/><device path='iqn.x'/></source></pool>") == (
        "unsupported configuration: missing initiator IQN")


def test_running_pool_output_round_trips_until_defined() -> None:
    """A running pool's sizes are kept when read (qvirt's client reads libvirtd's answers);
    defining it zeroes them, as libvirt does."""
    text = (DATA / "pool" / "sto-live-dir.xml").read_text()
    pool = StoragePool.from_xml(text)
    assert pool.to_xml() == text
    assert "<capacity unit='bytes'>0</capacity>" in pool_output(text)


@pytest.mark.parametrize(("pool_type", "given", "written"), [
    ("dir", None, "raw"), ("netfs", "qcow2", "qcow2"), ("disk", None, "none"),
    ("disk", "linux-lvm", "linux-lvm"), ("logical", "qcow2", None), ("iscsi", None, None)])
def test_volume_format_follows_its_pool_type(pool_type: str, given: str | None,
                                             written: str | None) -> None:
    fmt = f"<format type='{given}'/>" if given else ""
    vol = StorageVol.from_xml(f"<volume><name>v</name><capacity>1</capacity>"
                              f"<target>{fmt}</target></volume>")
    apply_volume_defaults(vol, pool_type)
    assert vol.target is not None and vol.target.format == written


def test_volume_format_a_pool_type_lacks_is_refused() -> None:
    # As libvirtd answered vol-create in a dir pool.
    vol = StorageVol.from_xml("<volume><name>v</name><capacity>1</capacity><target>"
                              "<format type='ntfs'/></target></volume>")
    with pytest.raises(QvirtError) as info:
        apply_volume_defaults(vol, "dir")
    assert info.value.message == "unsupported configuration: unknown volume format type ntfs"
