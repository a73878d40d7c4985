"""<tpm>: a TPM passed through from the host or emulated by swtpm."""

from __future__ import annotations

from qvirt.conf.devices.base import DeviceDef
from qvirt.conf.xmlobject import UUID, Attr, Choice, Flag, YesNo


class TPM(DeviceDef):
    TAG = "tpm"
    ORDER = ("model", "backend_type", "backend_version", "backend_persistent_state",
             "device_path", "source_type", "source_mode", "source_path", "encryption_secret",
             "pcr_sha1", "pcr_sha256", "pcr_sha384", "pcr_sha512", "alias", "address")
    model = Attr("@model", Choice("tpm-tis", "tpm-crb", "tpm-spapr", "spapr-tpm-proxy"))
    backend_type = Attr("backend/@type", Choice("passthrough", "emulator", "external"))
    backend_version = Attr("backend/@version", Choice("1.2", "2.0"))
    backend_persistent_state = Attr("backend/@persistent_state", YesNo)
    device_path = Attr("backend/device/@path")
    source_type = Attr("backend/source/@type", Choice("unix"))
    source_mode = Attr("backend/source/@mode", Choice("connect"))
    source_path = Attr("backend/source/@path")
    encryption_secret = Attr("backend/encryption/@secret", UUID)
    pcr_sha1 = Flag("backend/active_pcr_banks/sha1")
    pcr_sha256 = Flag("backend/active_pcr_banks/sha256")
    pcr_sha384 = Flag("backend/active_pcr_banks/sha384")
    pcr_sha512 = Flag("backend/active_pcr_banks/sha512")
