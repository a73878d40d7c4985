"""libvirt-python's default event loop, as far as domain events need it.

libvirt delivers events from the loop the application runs (virEventRunDefaultImpl). Drivers
here report events from the thread that caused them; once a script registers the default
implementation, those are queued and delivered by its loop, so callbacks run where the script
expects them. Without a registered loop they are delivered at once.
"""

from __future__ import annotations

import queue
from collections.abc import Callable

Delivery = Callable[[], None]

_queue: queue.SimpleQueue[Delivery] | None = None


def register_default_impl() -> None:
    global _queue
    if _queue is None:
        _queue = queue.SimpleQueue()


def registered() -> bool:
    """Whether an event loop is there to run callbacks that must wait for one (streams')."""
    return _queue is not None


def run_default_impl() -> None:
    """One loop iteration: wait for an event, then deliver every one pending."""
    if _queue is None:
        return
    pending = [_queue.get()]
    while not _queue.empty():
        pending.append(_queue.get())
    for deliver in pending:
        deliver()


def dispatch(deliver: Delivery) -> None:
    if _queue is None:
        deliver()
    else:
        _queue.put(deliver)
