"""Volume streams (drivers/storage/volstream.py) on real files: bytes and holes both ways."""

from __future__ import annotations

import os
import select
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from qvirt.client.fdstream import FDStream
from qvirt.client.stream import AT_HOLE
from qvirt.drivers.storage import volstream
from qvirt.drivers.storage.volstream import VolumeStream
from qvirt.errors import QvirtError

MIB = 1 << 20


def _drain(stream: VolumeStream) -> list[bytes | int]:
    """Every segment, waiting on the descriptor as the daemon's loop does."""
    segments: list[bytes | int] = []
    while True:
        select.select([stream.fileno()], [], [])
        try:
            segment = stream.read_segment(volstream.CHUNK)
        except BlockingIOError:
            continue
        if segment == b"":
            return segments
        segments.append(segment)


def _feed(stream: VolumeStream, segments: list[bytes | int]) -> None:
    for segment in segments:
        while True:
            select.select([], [stream.fileno()], [])
            try:
                if isinstance(segment, int):
                    stream.write_hole(segment)
                    break
                segment = segment[stream.write(segment):]
                if not segment:
                    break
            except BlockingIOError:
                continue


def _sparse_file(path: Path) -> bytes:
    """1 MiB data, a 3 MiB hole, 1 MiB data, a 2 MiB hole at the end."""
    with path.open("wb") as f:
        f.write(os.urandom(MIB))
        f.seek(4 * MIB)
        f.write(os.urandom(MIB))
        f.truncate(7 * MIB)
    return path.read_bytes()


def _joined(segments: list[bytes | int]) -> bytes:
    return b"".join(bytes(s) if isinstance(s, int) else s for s in segments)


def test_download_whole_file_and_on_close_once(tmp_path: Path) -> None:
    path = tmp_path / "vol"
    content = _sparse_file(path)
    closed: list[int] = []
    stream = volstream.download(str(path), 0, 0, sparse=False,
                                on_close=lambda: closed.append(1))
    got = _drain(stream)
    assert all(isinstance(s, bytes) for s in got)
    assert _joined(got) == content
    stream.close()
    stream.close()
    assert closed == [1]


def test_sparse_download_sends_holes(tmp_path: Path) -> None:
    path = tmp_path / "vol"
    content = _sparse_file(path)
    stream = volstream.download(str(path), 0, 0, sparse=True, on_close=lambda: None)
    got = _drain(stream)
    stream.close()
    assert [s for s in got if isinstance(s, int)] == [3 * MIB, 2 * MIB]
    assert _joined(got) == content


def test_download_range(tmp_path: Path) -> None:
    path = tmp_path / "vol"
    content = _sparse_file(path)
    stream = volstream.download(str(path), MIB // 2, 4 * MIB, sparse=True,
                                on_close=lambda: None)
    got = _drain(stream)
    stream.close()
    assert [s for s in got if isinstance(s, int)] == [3 * MIB]
    assert _joined(got) == content[MIB // 2:MIB // 2 + 4 * MIB]


def test_sparse_upload_punches_holes(tmp_path: Path) -> None:
    source = tmp_path / "src"
    content = _sparse_file(source)
    target = tmp_path / "vol"
    target.write_bytes(os.urandom(8 * MIB))      # old data where the holes go
    down = volstream.download(str(source), 0, 0, sparse=True, on_close=lambda: None)
    segments = _drain(down)
    down.close()
    closed: list[int] = []
    up = volstream.upload(str(target), 0, 0, sparse=True, on_close=lambda: closed.append(1))
    _feed(up, segments)
    up.close()
    assert closed == [1]
    assert target.read_bytes()[:7 * MIB] == content
    assert os.stat(target).st_blocks * 512 <= 3 * MIB    # 2 MiB uploaded, 1 MiB old tail


def test_upload_takes_its_length_then_refuses(tmp_path: Path) -> None:
    """As virFDStreamWrite: a write is cut at the bound, the next one refused."""
    target = tmp_path / "vol"
    target.write_bytes(bytes(MIB))
    up = volstream.upload(str(target), 0, 1000, sparse=False, on_close=lambda: None)
    assert up.write(b"x" * 4096) == 1000
    with pytest.raises(OSError, match="No space left"):
        up.write(b"y")
    up.finish()
    assert target.read_bytes()[:1001] == b"x" * 1000 + b"\0"


def test_open_failure_is_libvirts(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="Unable to open stream for"):
        volstream.download(str(tmp_path / "missing"), 0, 0, sparse=False,
                           on_close=lambda: None)


def test_finish_reports_a_failed_write() -> None:
    up = volstream.upload("/dev/full", 0, 0, sparse=False, on_close=lambda: None)
    up.write(b"x" * 11)     # taken by the socket; the thread's write fails
    with pytest.raises(OSError, match="No space left"):
        up.finish()


def test_local_fd_stream_reads_holes_as_holes_or_zeros(tmp_path: Path) -> None:
    """The in-process drivers' stream (client/fdstream.py) over a sparse volume stream."""
    path = tmp_path / "vol"
    content = _sparse_file(path)
    stream = FDStream(volstream.download(str(path), 0, 0, sparse=True, on_close=lambda: None))
    got: list[bytes | int] = []
    while (chunk := stream.recv_flags(1000, nonblock=False, stop_at_hole=True)) != b"":
        assert chunk is not None
        got.append(stream.recv_hole() if chunk == AT_HOLE else chunk)
    stream.finish()
    assert [g for g in got if isinstance(g, int)] == [3 * MIB, 2 * MIB]
    assert _joined(got) == content
    zeros = FDStream(volstream.download(str(path), MIB, MIB, sparse=True,
                                        on_close=lambda: None))
    assert zeros.recv(10, nonblock=False) == bytes(10)
    zeros.abort()


def test_local_fd_stream_uploads_holes(tmp_path: Path) -> None:
    target = tmp_path / "vol"
    target.write_bytes(os.urandom(2 * MIB))
    stream = FDStream(volstream.upload(str(target), 0, 0, sparse=True, on_close=lambda: None))
    stream.send(b"abc", nonblock=False)
    stream.send_hole(MIB)
    stream.send(b"def", nonblock=False)
    stream.finish()
    data = target.read_bytes()
    assert data[:MIB + 6] == b"abc" + bytes(MIB) + b"def"
    plain = FDStream(volstream.upload(str(target), 0, 0, sparse=False, on_close=lambda: None))
    with pytest.raises(QvirtError, match="Skipping is not supported"):
        plain.send_hole(1)
    plain.abort()


@pytest.fixture
def loop_device(tmp_path: Path) -> Iterator[str]:
    """A 8 MiB block device over a sparse file."""
    image = tmp_path / "disk.img"
    with image.open("wb") as f:
        f.truncate(8 * MIB)
    device = subprocess.run(["losetup", "-f", "--show", str(image)], capture_output=True,
                            text=True, check=True).stdout.strip()
    try:
        yield device
    finally:
        subprocess.run(["losetup", "-d", device], check=False)


def test_block_device_holes_are_its_zero_runs(loop_device: str) -> None:
    """A block device has no holes to ask about: a sparse upload writes a hole's zeros, a
    sparse download sends its zero runs as holes."""
    head, tail = os.urandom(MIB), os.urandom(MIB)
    with open(loop_device, "r+b") as dev:
        dev.write(os.urandom(8 * MIB))     # old data where the hole goes
    up = volstream.upload(loop_device, 0, 0, sparse=True, on_close=lambda: None)
    _feed(up, [head, 3 * MIB, tail])
    up.finish()
    down = volstream.download(loop_device, 0, 5 * MIB, sparse=True, on_close=lambda: None)
    got = _drain(down)
    down.close()
    assert [s for s in got if isinstance(s, int)] == [3 * MIB]
    assert _joined(got) == head + bytes(3 * MIB) + tail
