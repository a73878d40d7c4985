"""The <secret> document (virsh secret-define / secret-dumpxml): what a secret is for (its
<usage>), never its value, which travels separately (secret-set-value)."""

from __future__ import annotations

import uuid as uuidlib

from qvirt.conf.xmlobject import UUID, Attr, Child, XMLObject
from qvirt.errors import ConfigUnsupported, ErrorDomain, InternalError, XMLError

# usage type -> the child element that names the secret's user, and libvirt's words for the
# type and the element in its "usage specified, but ... is missing" message.
USAGES = {"volume": ("volume", "volume path", "volume"), "ceph": ("name", "name", "Ceph"),
          "iscsi": ("target", "target", "iSCSI"), "tls": ("name", "name", "TLS"),
          "vtpm": ("name", "name", "vTPM")}


class Usage(XMLObject):
    TAG = "usage"
    ORDER = ("type", "volume", "name", "target")
    type = Attr("@type")
    volume = Attr("volume")
    name = Attr("name")
    target = Attr("target")

    def post_parse(self) -> None:
        if self.type is None:
            raise XMLError("unknown secret usage type")
        if self.type not in USAGES:
            raise ConfigUnsupported(f"unknown secret usage type {self.type}")
        field, element, label = USAGES[self.type]
        for other in ("volume", "name", "target"):
            if other != field:
                setattr(self, other, None)
        if not getattr(self, field):
            raise InternalError(f"{label} usage specified, but {element} is missing")


class Secret(XMLObject):
    ERROR_DOMAIN = ErrorDomain.SECRET
    TAG = "secret"
    KEEP_EMPTY = True
    ORDER = ("ephemeral", "private", "uuid", "description", "usage")
    ephemeral = Attr("@ephemeral")
    private = Attr("@private")
    uuid = Attr("uuid")
    description = Attr("description")
    usage = Child(Usage)

    def post_parse(self) -> None:
        if not self.description:
            self.description = None
        for attr in ("ephemeral", "private"):
            value = getattr(self, attr)
            if value is not None and value not in ("yes", "no"):
                raise XMLError(f"invalid value of '{attr}'")
        if self.uuid is not None:
            try:
                self.uuid = UUID.parse(self.uuid)
            except ValueError:
                raise InternalError("malformed uuid element") from None


def apply_defaults(s: Secret) -> None:
    """libvirt always writes both flags, and gives a secret without one a UUID."""
    if s.ephemeral is None:
        s.ephemeral = "no"
    if s.private is None:
        s.private = "no"
    if s.uuid is None:
        s.uuid = str(uuidlib.uuid4())
