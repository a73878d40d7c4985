"""Lifecycle event delivery: callbacks run on their own thread, in the order events happened,
so a callback may call back into the driver (as libvirt-python scripts do) without waiting on
the driver's event loop, which is the one producing the events."""

from __future__ import annotations

import itertools
import logging
import queue
import threading

from qvirt.drivers.base import DomainRef, LifecycleCallback
from qvirt.errors import ErrorDomain, InvalidArg

log = logging.getLogger(__name__)


class EventHub:
    def __init__(self) -> None:
        self._callbacks: dict[int, LifecycleCallback] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[tuple[DomainRef, int, int] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._deliver, name="qvirt-qemu-events",
                                        daemon=True)
        self._thread.start()

    def register(self, callback: LifecycleCallback) -> int:
        with self._lock:
            callback_id = next(self._ids)
            self._callbacks[callback_id] = callback
            return callback_id

    def deregister(self, callback_id: int) -> None:
        with self._lock:
            if self._callbacks.pop(callback_id, None) is None:
                raise InvalidArg(f"could not find event callback {callback_id} for deletion",
                                 domain=ErrorDomain.EVENT)

    def emit(self, dom: DomainRef, event: int, detail: int) -> None:
        self._queue.put((dom, int(event), int(detail)))

    def close(self) -> None:
        self._queue.put(None)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=10)

    def _deliver(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            with self._lock:
                callbacks = list(self._callbacks.values())
            for callback in callbacks:
                try:
                    callback(*item)
                except Exception:  # a caller's bug must not stop delivery to the others
                    log.exception("domain event callback failed")
