"""The QEMU driver's XML namespace: <qemu:commandline> and friends, libvirt's escape hatches
for passing QEMU what the domain XML cannot say.

Elements are matched by namespace URI, whatever prefix the input used; libvirt writes them
back with the ``qemu`` prefix and declares it on <domain>.
"""

from __future__ import annotations

from qvirt.conf.xmlobject import Attr, Child, Choice, XMLObject
from qvirt.conf.xmltree import Node

NAMESPACE = "http://libvirt.org/schemas/domain/qemu/1.0"
PREFIX = "qemu"


class QemuObject(XMLObject):
    """Parsed under its namespaced tag, written with libvirt's ``qemu:`` prefix."""

    def to_node(self) -> Node:
        node = super().to_node()
        node.tag = PREFIX + ":" + node.tag.split("}", 1)[1]
        return node


class Arg(QemuObject):
    TAG = f"{{{NAMESPACE}}}arg"
    ORDER = ("value",)
    value = Attr("@value")


class Env(QemuObject):
    TAG = f"{{{NAMESPACE}}}env"
    ORDER = ("name", "value")
    name = Attr("@name")
    value = Attr("@value")


class Commandline(QemuObject):
    TAG = f"{{{NAMESPACE}}}commandline"
    ORDER = ("args", "envs")
    args = Child(Arg, single=False)
    envs = Child(Env, single=False)


class CapabilityAdd(QemuObject):
    TAG = f"{{{NAMESPACE}}}add"
    ORDER = ("capability",)
    capability = Attr("@capability")


class CapabilityDel(QemuObject):
    TAG = f"{{{NAMESPACE}}}del"
    ORDER = ("capability",)
    capability = Attr("@capability")


class Capabilities(QemuObject):
    TAG = f"{{{NAMESPACE}}}capabilities"
    ORDER = ("add", "delete")
    add = Child(CapabilityAdd, single=False)
    delete = Child(CapabilityDel, single=False)


class Deprecation(QemuObject):
    TAG = f"{{{NAMESPACE}}}deprecation"
    ORDER = ("behavior",)
    behavior = Attr("@behavior", Choice("none", "omit", "reject", "crash"))
