"""Pool event delivery: lifecycle and refresh events to the callbacks registered for them,
each callback filtered to one pool if it asked for one. Callbacks run on a thread of their
own, in the order events happened, so a callback may call back into the driver."""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from dataclasses import dataclass

from qvirt.drivers.base import PoolEventCallback, StoragePoolRef
from qvirt.errors import ErrorDomain, InvalidArg

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Registration:
    since: int                     # events emitted before it: it sees none of those
    pool_uuid: str | None
    event_id: int
    callback: PoolEventCallback


class PoolEventHub:
    def __init__(self) -> None:
        self._callbacks: dict[int, _Registration] = {}
        self._ids = itertools.count(1)
        self._emitted = 0
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[tuple[int, StoragePoolRef, int, int, int] | None] = \
            queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def register(self, pool: StoragePoolRef | None, event_id: int,
                 callback: PoolEventCallback) -> int:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._deliver, daemon=True,
                                                name="qvirt-storage-events")
                self._thread.start()
            callback_id = next(self._ids)
            self._callbacks[callback_id] = _Registration(
                self._emitted, pool.uuid if pool is not None else None, event_id, callback)
            return callback_id

    def deregister(self, callback_id: int) -> None:
        with self._lock:
            if self._callbacks.pop(callback_id, None) is None:
                raise InvalidArg(f"could not find event callback {callback_id} for deletion",
                                 domain=ErrorDomain.EVENT)

    def emit(self, pool: StoragePoolRef, event_id: int, event: int = 0, detail: int = 0) -> None:
        with self._lock:
            self._emitted += 1
            if self._callbacks:
                self._queue.put((self._emitted, pool, event_id, event, detail))

    def close(self) -> None:
        with self._lock:
            thread = self._thread
        if thread is None:
            return
        self._queue.put(None)
        if threading.current_thread() is not thread:
            thread.join(timeout=10)

    def _deliver(self) -> None:
        while (item := self._queue.get()) is not None:
            number, pool, event_id, event, detail = item
            with self._lock:
                wanted = [r.callback for r in self._callbacks.values()
                          if r.since < number and r.event_id == event_id
                          and r.pool_uuid in (None, pool.uuid)]
            for callback in wanted:
                try:
                    callback(pool, event_id, event, detail)
                except Exception:  # a caller's bug must not stop delivery to the others
                    log.exception("storage pool event callback failed")
