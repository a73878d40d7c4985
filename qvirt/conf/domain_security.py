"""Domain security: <seclabel> (one per security driver) and <keywrap> (s390 key wrapping)."""

from __future__ import annotations

from qvirt.conf.xmlobject import Attr, Child, Choice, XMLObject, YesNo
from qvirt.errors import ConfigUnsupported, XMLError


class SecLabel(XMLObject):
    TAG = "seclabel"
    ORDER = ("type", "model", "relabel", "label", "baselabel", "imagelabel")
    type = Attr("@type", Choice("dynamic", "static", "none"))
    model = Attr("@model")
    relabel = Attr("@relabel", YesNo)
    label = Attr("label")
    baselabel = Attr("baselabel")
    imagelabel = Attr("imagelabel")

    def post_parse(self) -> None:
        # <imagelabel> is output only: libvirt computes it, and drops one given on input.
        self.imagelabel = None
        if self.type is None:
            self.type = "dynamic"
        if self.type == "static" and self.model is None:
            raise XMLError("missing security model in domain seclabel")
        if self.type == "dynamic":
            if self.relabel is False:
                raise ConfigUnsupported("dynamic label type must use resource relabeling")
            self.relabel = True
            self.label = None
        elif self.type == "static":
            if self.relabel is None:
                self.relabel = False
            if self.label is None:
                raise XMLError("security label is missing")
        else:
            self.relabel = self.label = self.baselabel = None


class Cipher(XMLObject):
    TAG = "cipher"
    ORDER = ("name", "state")
    name = Attr("@name", Choice("aes", "dea"), required=True)
    state = Attr("@state", Choice("on", "off"), required=True)


class KeyWrap(XMLObject):
    TAG = "keywrap"
    ORDER = ("ciphers",)
    ciphers = Child(Cipher, single=False)
