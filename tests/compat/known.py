"""Command lines on which qvirt is known to differ from virsh, each with the reason (the
reasons are also printed in docs/compat.md)."""

from __future__ import annotations

HELP_LISTS_IMPLEMENTED = ("qvirt's help lists only the commands qvirt implements; virsh's "
                          "lists every command it has")

KNOWN: dict[str, str] = {
    "help-group-monitor": HELP_LISTS_IMPLEMENTED,
    "help-group-name": HELP_LISTS_IMPLEMENTED,
    "vol-info-physical": ("qvirt's entry table sends virStorageVolGetInfo and "
                          "virStorageVolGetInfoFlags to one driver method, so qvirt's test "
                          "driver answers vol-info --physical; libvirt's test driver has no "
                          "virStorageVolGetInfoFlags"),
    "define-untyped": ("qvirt's domain parser reports the missing type attribute before the "
                       "missing name; libvirt reports the name first"),
}

# The commands a known difference is about, where its case runs others to set the scene
# (by default, every command the case runs).
ABOUT: dict[str, tuple[str, ...]] = {
    "vol-info-physical": ("vol-info",),
}
