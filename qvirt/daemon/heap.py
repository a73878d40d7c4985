"""The heap while volume streams run: their buffers come from the heap, which keeps a few MiB
of free top instead of handing it back after every frame; once the last stream is done, the
daemon's settings are back (main.py: large blocks mapped) and the free memory handed back.

A stream moves 256 KiB frames (and 1 MiB reads) through the daemon one after another. Mapped
afresh, or from a heap that shrinks after each is freed and grows again for the next, each
frame's pages are faulted in and zeroed anew: most of a volume upload's time. Called on the
loop only.
"""

from __future__ import annotations

import contextlib
import ctypes

# glibc's M_MMAP_THRESHOLD and M_TRIM_THRESHOLD (malloc.h), each at its initial value (the
# daemon fixes the first: main.py), and what both are while streams run.
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 128 * 1024
M_TRIM_THRESHOLD = -1
TRIM_THRESHOLD = 128 * 1024
STREAMING_MMAP_THRESHOLD = 2 << 20
STREAMING_TRIM_THRESHOLD = 4 << 20

_streams = 0


def _tune(mmap_threshold: int, trim_threshold: int, trim: bool) -> None:
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None)
        libc.mallopt(M_MMAP_THRESHOLD, mmap_threshold)
        libc.mallopt(M_TRIM_THRESHOLD, trim_threshold)
        if trim:
            libc.malloc_trim(0)


def stream_opened() -> None:
    global _streams
    _streams += 1
    if _streams == 1:
        _tune(STREAMING_MMAP_THRESHOLD, STREAMING_TRIM_THRESHOLD, trim=False)


def stream_closed() -> None:
    global _streams
    _streams -= 1
    if _streams == 0:
        _tune(MMAP_THRESHOLD, TRIM_THRESHOLD, trim=True)
