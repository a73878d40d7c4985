"""Metadata on the QEMU driver, by virDomainObjSetMetadata's rules: on a running domain the
live and the persistent definitions change apart (CURRENT is the live one), each kept where
it is saved; an inactive domain has no live definition."""

from __future__ import annotations

from pathlib import Path

import pytest

from qvirt import constants as C
from qvirt.drivers.qemu.driver import QemuDriver
from qvirt.drivers.qemu.state import CreateFlags, XMLFlags
from qvirt.errors import OperationInvalid, QvirtError
from tests.drivers.qemu.conftest import tiny_xml

pytestmark = pytest.mark.integration

TITLE, DESC, ELEMENT = (C.VIR_DOMAIN_METADATA_TITLE, C.VIR_DOMAIN_METADATA_DESCRIPTION,
                        C.VIR_DOMAIN_METADATA_ELEMENT)
LIVE, CONFIG = C.VIR_DOMAIN_AFFECT_LIVE, C.VIR_DOMAIN_AFFECT_CONFIG
NS = "http://example.org/q"


def test_live_and_config_apart(driver: QemuDriver, tiny_image: Path, tmp_path: Path) -> None:
    xml, _ = tiny_xml(tiny_image, tmp_path / "g")
    ref = driver.domain_define_xml_flags(xml)
    with pytest.raises(OperationInvalid, match="domain is not running"):
        driver.domain_set_metadata(ref, TITLE, "t", None, None, LIVE)
    driver.domain_set_metadata(ref, DESC, "defined", None, None, 0)
    ref = driver.domain_create_with_flags(ref, CreateFlags.START_PAUSED)
    driver.domain_set_metadata(ref, TITLE, "live only", None, None, 0)
    driver.domain_set_metadata(ref, ELEMENT, "<x a='1'/>", "q", NS, LIVE | CONFIG)
    live = driver.domain_get_xml_desc(ref)
    inactive = driver.domain_get_xml_desc(ref, XMLFlags.INACTIVE)
    assert "<title>live only</title>" in live and "<title>" not in inactive
    assert "<description>defined</description>" in live and "defined" in inactive
    assert f'<q:x xmlns:q="{NS}" a="1"/>' in live and f'<q:x xmlns:q="{NS}" a="1"/>' in inactive
    assert driver.domain_get_metadata(ref, TITLE, None, 0) == "live only"
    with pytest.raises(QvirtError) as err:
        driver.domain_get_metadata(ref, TITLE, None, CONFIG)
    assert str(err.value) == "metadata not found: Requested metadata element is not present"
    assert driver.domain_get_metadata(ref, ELEMENT, NS, CONFIG) == '<x a="1"/>'
    driver.domain_destroy_flags(ref)
    assert "<title>" not in driver.domain_get_xml_desc(ref)
    assert driver.domain_get_metadata(ref, DESC, None, 0) == "defined"
