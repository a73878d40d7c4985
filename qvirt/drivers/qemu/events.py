"""Lifecycle event delivery: callbacks run on their own thread, in the order events happened,
so a callback may call back into the driver (as libvirt-python scripts do) without waiting on
the driver's event loop, which is the one producing the events. A callback sees only the
events that happened after it was registered, however late their delivery."""

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
        # callback id -> (the number of events emitted before it, the callback)
        self._callbacks: dict[int, tuple[int, LifecycleCallback]] = {}
        self._ids = itertools.count(1)
        self._emitted = 0
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[tuple[int, DomainRef, int, int] | None] = \
            queue.SimpleQueue()
        self._thread = threading.Thread(target=self._deliver, name="qvirt-qemu-events",
                                        daemon=True)
        self._thread.start()

    def register(self, callback: LifecycleCallback) -> int:
        with self._lock:
            callback_id = next(self._ids)
            self._callbacks[callback_id] = (self._emitted, callback)
            return callback_id

    def deregister(self, callback_id: int) -> None:
        with self._lock:
            if self._callbacks.pop(callback_id, None) is None:
                raise InvalidArg(f"could not find event callback {callback_id} for deletion",
                                 domain=ErrorDomain.EVENT)

    def emit(self, dom: DomainRef, event: int, detail: int) -> None:
        with self._lock:
            self._emitted += 1
            # No callback now means none will ever see this event: the delivery thread is
            # not woken for it (a define or start is not kept waiting behind that wake-up).
            if self._callbacks:
                self._queue.put((self._emitted, dom, int(event), int(detail)))

    def close(self) -> None:
        self._queue.put(None)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=10)

    def _deliver(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            number, dom, event, detail = item
            with self._lock:
                callbacks = [cb for since, cb in self._callbacks.values() if since < number]
            for callback in callbacks:
                try:
                    callback(dom, event, detail)
                except Exception:  # a caller's bug must not stop delivery to the others
                    log.exception("domain event callback failed")
