"""The server side of libvirt's keepalive (src/rpc/virkeepalive.c), one per client.

It starts when the client asks CONNECT_SUPPORTS_FEATURE about the keepalive program, as
remoteDispatchConnectSupportsFeature starts it: only a client that said it understands PINGs
gets them. Any message from the client proves it alive. After ``interval`` seconds of
silence the server sends a PING, and another each ``interval`` while silence lasts; when
``count`` PINGs have gone unanswered and one more interval passes, the client is closed.
An interval of 0 or less turns keepalive off, as in libvirtd.conf.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from qvirt.daemon.dispatch import FEATURE_PROGRAM_KEEPALIVE
from qvirt.errors import QvirtError
from qvirt.rpc.keepalive import KeepaliveProc, keepalive_frame
from qvirt.rpc.packet import REMOTE_PROGRAM, Message, MessageType
from qvirt.rpc.remote import BY_NAME, decode_call

log = logging.getLogger("qvirt.daemon.keepalive")

SUPPORTS_FEATURE = BY_NAME["CONNECT_SUPPORTS_FEATURE"].number


def asks_for_keepalive(message: Message) -> bool:
    """Whether ``message`` is the CALL by which a client advertises keepalive support."""
    header = message.header
    if (header.prog != REMOTE_PROGRAM or header.type != MessageType.CALL
            or header.proc != SUPPORTS_FEATURE):
        return False
    try:
        _, args = decode_call(message)
    except QvirtError:
        return False
    return bool(args["feature"] == FEATURE_PROGRAM_KEEPALIVE)


class KeepAlive:
    """virKeepAlive: the timer and counters of one client.

    ``send`` writes a frame to the client and ``close`` drops it; both run on the loop.
    """

    def __init__(self, interval: int, count: int, send: Callable[[bytes], None],
                 close: Callable[[], None]) -> None:
        self.interval, self.count = interval, count
        self._send, self._close = send, close
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._last_received = self._interval_start = self._loop.time()
        self._left = count

    def watch(self, message: Message) -> None:
        """Called with every message the client sends (virKeepAliveCheckMessage)."""
        now = self._loop.time()
        self._last_received = self._interval_start = now
        self._left = self.count
        if self._timer is None and self.interval > 0 and asks_for_keepalive(message):
            self._arm(self.interval)

    def _arm(self, delay: float) -> None:
        self._timer = self._loop.call_later(delay, self._tick)

    def _tick(self) -> None:
        now = self._loop.time()
        since = now - self._interval_start
        if since < self.interval:
            self._arm(self.interval - since)
            return
        if self._left == 0:
            log.warning("No response from client after %d keepalive messages in %d seconds",
                        self.count, int(now - self._last_received))
            self._timer = None
            self._close()
            return
        self._left -= 1
        self._interval_start = now
        self._send(keepalive_frame(KeepaliveProc.PING))
        self._arm(self.interval)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
