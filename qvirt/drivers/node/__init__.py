"""The host itself: node info, host facts for the capabilities document (read from /proc and
sysfs, as libvirt's virhostcpu.c and virhostmem.c read them)."""

from qvirt.drivers.node.hostinfo import node_info

__all__ = ["node_info"]
