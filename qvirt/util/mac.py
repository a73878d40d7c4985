"""MAC addresses as libvirt reads them (virMacAddrParse): six hex bytes of one or two digits,
colon-separated, any case; compared as bytes, so 'AA:BB:...' and 'aa:bb:...' are one MAC."""

from __future__ import annotations

import re

_MAC = re.compile(r"[0-9a-fA-F]{1,2}(?::[0-9a-fA-F]{1,2}){5}")


def parse_mac(text: str | None) -> bytes | None:
    """The address's six bytes, or None for text that is not a MAC."""
    if text is None or not _MAC.fullmatch(text):
        return None
    return bytes(int(part, 16) for part in text.split(":"))
