"""The declarative engine: one parser and one formatter driven by field tables."""

from __future__ import annotations

import pytest

from qvirt.conf.xmlobject import Attr, Child, Choice, Flag, Hex2, Raw, UInt, XMLObject, YesNo
from qvirt.errors import DevError, InvalidSchema, XMLDetail, XMLError


class Source(XMLObject):
    TAG = "source"
    ORDER = ("file", "index")
    file = Attr("@file")
    index = Attr("@index", UInt)


class Thing(XMLObject):
    TAG = "thing"
    ORDER = ("type", "name", "slot", "acpi", "boot", "source", "shared", "metadata")
    type = Attr("@type", Choice("a", "b"), required=True)
    name = Attr("name")
    slot = Attr("address/@slot", Hex2)
    acpi = Flag("features/acpi")
    boot = Attr("os/boot/@dev", multi=True)
    source = Child(Source)
    shared = Attr("address/@shared", YesNo)
    metadata = Raw("metadata")


DOC = """<thing type='a'>
  <name>x &amp; y</name>
  <address slot='0x05' shared='yes'/>
  <features>
    <acpi/>
  </features>
  <os>
    <boot dev='hd'/>
    <boot dev='cdrom'/>
  </os>
  <source file='/tmp/a&apos;b' index='3'/>
  <metadata>
    <app:foo xmlns:app="http://example.org/app">bar</app:foo>
  </metadata>
</thing>
"""


def test_round_trip_is_exact_in_libvirt_layout() -> None:
    thing = Thing.from_xml(DOC)
    assert thing.type == "a" and thing.name == "x & y" and thing.slot == 5
    assert thing.boot == ["hd", "cdrom"] and thing.acpi is True
    assert thing.source == Source(file="/tmp/a'b", index=3)
    assert thing.to_xml() == DOC
    assert Thing.from_xml(thing.to_xml()) == thing


def test_unknown_content_is_dropped_or_rejected_with_validate() -> None:
    doc = "<thing type='b' color='red'><name>n</name><wheel/></thing>"
    assert Thing.from_xml(doc).to_xml() == "<thing type='b'>\n  <name>n</name>\n</thing>\n"
    with pytest.raises(InvalidSchema) as caught:
        Thing.from_xml(doc.replace("<wheel/>", ""), validate=True)
    assert caught.value.message == (
        "XML document failed to validate against schema: Unable to validate doc against "
        "/usr/share/libvirt/schemas/thing.rng\nInvalid attribute color for element thing\n")
    with pytest.raises(InvalidSchema, match="Element thing has extra content: wheel\n"):
        Thing.from_xml("<thing type='b'><wheel/></thing>", validate=True)


@pytest.mark.parametrize(("doc", "message"), [
    ("<thing type='c'/>", "Invalid value for attribute 'type' in element 'thing': 'c'."),
    ("<thing/>", "Missing required attribute 'type' in element 'thing'"),
    ("<thing type='a'><source index='-1'/></thing>",
     "Invalid value for attribute 'index' in element 'source': '-1'. "
     "Expected non-negative integer value"),
    ("<thing type='a'><address shared='maybe'/></thing>",
     "Invalid value for attribute 'shared' in element 'address': 'maybe'."),
    ("<other/>", "expecting root element of 'thing', not 'other'"),
])
def test_bad_values_raise_xml_errors_naming_the_place(doc: str, message: str) -> None:
    with pytest.raises(XMLError) as caught:
        Thing.from_xml(doc)
    assert caught.value.message == "XML error: " + message


@pytest.mark.parametrize(("doc", "message"), [
    # As virsh printed them for the same documents (libvirt's catchXMLError).
    ("<domain type='qemu'><name>x</domain>\n",
     "(thing_definition):1: Opening and ending tag mismatch: name line 1 and domain\n"
     "<domain type='qemu'><name>x</domain>\n" + "-" * 36 + "^"),
    ("<domain type='qemu'>\n  <name>x</name>\n",
     "(thing_definition):3: Premature end of data in tag domain line 1\n(null)\n^"),
    ("", "(thing_definition):1: Document is empty\n(null)\n^"),
    ("<a x=1/>", "(thing_definition):1: AttValue: \" or ' expected\n<a x=1/>\n-----^"),
])
def test_malformed_text_is_a_parser_error_as_libvirt_prints_it(doc: str, message: str) -> None:
    with pytest.raises(XMLDetail) as caught:
        Thing.from_xml(doc)
    assert caught.value.message == message


def test_inconsistent_declarations_are_bugs_not_user_errors() -> None:
    with pytest.raises(DevError, match="leaves out fields"):
        type("Bad", (XMLObject,), {"TAG": "bad", "ORDER": ("a",), "a": Attr("@a"),
                                    "b": Attr("@b")})
    with pytest.raises(DevError, match="undeclared"):
        type("Bad", (XMLObject,), {"TAG": "bad", "ORDER": ("zz",)})


def test_a_default_list_is_the_objects_own() -> None:
    thing = Thing(type="a")
    thing.boot.append("hd")
    assert thing.boot == ["hd"]
    assert Thing(type="a").boot == []
