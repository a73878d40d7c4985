"""The protocol layer's errors, as libvirt's RPC code reports them (VIR_ERR_RPC, VIR_FROM_RPC).

Every failure to decode bytes from the wire ends up here, so the daemon can answer or drop a
connection on one exception type and never on a stray IndexError or struct.error.
"""

from __future__ import annotations

from qvirt.errors import RPCError

__all__ = ["FrameError", "RPCError", "XDRError"]


class XDRError(RPCError):
    """A value that does not fit its XDR type, or bytes that do not decode as it.

    ``str(err)`` is libvirt's text ("Unable to decode message payload"); ``reason`` says what
    exactly was wrong, for logs and tests, since libvirt's text alone does not.
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class FrameError(RPCError):
    """A frame whose length word or header is unacceptable: the connection must be dropped."""
