"""virConnectGetStoragePoolCapabilities: every pool type libvirt knows, whether this host
serves it (a backend in BACKENDS), its source formats and its volume formats, in the layout
libvirtd 9.0 prints (virStoragePoolCapsFormat)."""

from __future__ import annotations

from qvirt.conf.storage_pool import POOL_TYPES
from qvirt.conf.storage_vol import FILE_FORMATS
from qvirt.drivers.storage.backend import BACKENDS

# Volume formats as the capabilities list them: libvirt's enum with its "none" (0) first; rbd
# names none (its volOptions have no formatToString), logical, scsi and friends have none.
_FILE_VOLUMES = ("none", *FILE_FORMATS)
_VOLUME_OPTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    **dict.fromkeys(("dir", "fs", "netfs", "gluster", "vstorage"), ("raw", _FILE_VOLUMES)),
    "rbd": ("raw", ()),
    "disk": ("none", ("none", "linux", "fat16", "fat32", "linux-swap", "linux-lvm",
                      "linux-raid", "extended")),
}


def _enum(name: str, values: tuple[str, ...], indent: str) -> list[str]:
    return ([f"{indent}<enum name='{name}'>"]
            + [f"{indent}  <value>{value}</value>" for value in values]
            + [f"{indent}</enum>"])


def pool_capabilities_xml() -> str:
    lines = ["<storagepoolCapabilities>"]
    for pool_type, info in POOL_TYPES.items():
        supported = "yes" if pool_type in BACKENDS else "no"
        lines.append(f"  <pool type='{pool_type}' supported='{supported}'>")
        if info.formats:
            lines.append("    <poolOptions>")
            lines.append(f"      <defaultFormat type='{info.default_format}'/>")
            lines += _enum("sourceFormatType", info.formats, "      ")
            lines.append("    </poolOptions>")
        if pool_type in _VOLUME_OPTIONS:
            default, formats = _VOLUME_OPTIONS[pool_type]
            lines.append("    <volOptions>")
            lines.append(f"      <defaultFormat type='{default}'/>")
            lines += _enum("targetFormatType", formats, "      ")
            lines.append("    </volOptions>")
        lines.append("  </pool>")
    lines.append("</storagepoolCapabilities>")
    return "\n".join(lines) + "\n"
