"""The heap while volume streams run: glibc keeps a few MiB of free heap top instead of
handing it back after every frame, and hands it all back once the last stream is done.

A stream moves 256 KiB frames through the daemon's buffers one after another; with glibc's
trim threshold (128 KiB) each one freed shrinks the heap and the next grows it again, so the
frame's pages are faulted in and zeroed afresh: most of a volume upload's time. At idle the
threshold is glibc's again, so a daemon's RSS is what it holds. Called on the loop only.
"""

from __future__ import annotations

import contextlib
import ctypes

# glibc's M_TRIM_THRESHOLD (malloc.h), its initial value, and the value while streams run.
M_TRIM_THRESHOLD = -1
TRIM_IDLE = 128 * 1024
TRIM_STREAMING = 4 << 20

_streams = 0


def _libc() -> ctypes.CDLL | None:
    with contextlib.suppress(OSError):
        return ctypes.CDLL(None)
    return None


def stream_opened() -> None:
    global _streams
    _streams += 1
    if _streams == 1 and (libc := _libc()) is not None:
        with contextlib.suppress(AttributeError):
            libc.mallopt(M_TRIM_THRESHOLD, TRIM_STREAMING)


def stream_closed() -> None:
    global _streams
    _streams -= 1
    if _streams == 0 and (libc := _libc()) is not None:
        with contextlib.suppress(AttributeError):
            libc.mallopt(M_TRIM_THRESHOLD, TRIM_IDLE)
            libc.malloc_trim(0)
