"""Command lines on which qvirt is known to differ from virsh, each with the reason (the
reasons are also printed in docs/compat.md)."""

from __future__ import annotations

HELP_LISTS_IMPLEMENTED = ("qvirt's help lists only the commands qvirt implements; virsh's "
                          "lists every command it has")

KNOWN: dict[str, str] = {
    "help-group-monitor": HELP_LISTS_IMPLEMENTED,
    "help-group-name": HELP_LISTS_IMPLEMENTED,
    "define-untyped": ("qvirt's domain parser reports the missing type attribute before the "
                       "missing name; libvirt reports the name first"),
}
