"""virStorageVolWipePattern on a local volume (storageBackendVolWipeLocal): zeros and random
data written here, the other algorithms by scrub. A sparse file wiped with zeros stays sparse
(libvirt truncates it to nothing and back), so wiping never allocates what was a hole."""

from __future__ import annotations

import os
import stat

from qvirt import constants as C
from qvirt.drivers.storage.runner import Runner
from qvirt.drivers.storage.storage_errors import system_error
from qvirt.drivers.storage.volume_file import DEV_BSIZE
from qvirt.errors import ErrorDomain, ErrorNumber, InvalidArg, QvirtError

# algorithm -> scrub's pattern name (scrub -p NAME)
SCRUB_PATTERNS: dict[int, str] = {
    C.VIR_STORAGE_VOL_WIPE_ALG_NNSA: "nnsa",
    C.VIR_STORAGE_VOL_WIPE_ALG_DOD: "dod",
    C.VIR_STORAGE_VOL_WIPE_ALG_BSI: "bsi",
    C.VIR_STORAGE_VOL_WIPE_ALG_GUTMANN: "gutmann",
    C.VIR_STORAGE_VOL_WIPE_ALG_SCHNEIER: "schneier",
    C.VIR_STORAGE_VOL_WIPE_ALG_PFITZNER7: "pfitzner7",
    C.VIR_STORAGE_VOL_WIPE_ALG_PFITZNER33: "pfitzner33",
}
_CHUNK = 1 << 20


def check_algorithm(algorithm: int) -> None:
    """What storageVolWipePattern refuses before touching the volume."""
    if algorithm < 0 or algorithm > C.VIR_STORAGE_VOL_WIPE_ALG_TRIM:
        raise InvalidArg(f"wiping algorithm {algorithm} not supported",
                         domain=ErrorDomain.STORAGE)


def wipe(runner: Runner, path: str, length: int, algorithm: int) -> None:
    """Overwrite the volume at ``path``. ``length`` is what libvirt writes: the volume's
    allocation (so a qcow2 image, allocated a little past its end, ends as that many zeros)."""
    if algorithm == C.VIR_STORAGE_VOL_WIPE_ALG_TRIM:
        raise QvirtError("'trim' algorithm not supported",
                         code=ErrorNumber.ARGUMENT_UNSUPPORTED, domain=ErrorDomain.STORAGE)
    if algorithm in SCRUB_PATTERNS:
        runner.run(["scrub", "-f", "-p", SCRUB_PATTERNS[algorithm], path])
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except OSError as err:
        raise system_error(f"Failed to open storage volume with path '{path}'", err) from err
    try:
        st = os.fstat(fd)
        if (algorithm == C.VIR_STORAGE_VOL_WIPE_ALG_ZERO and stat.S_ISREG(st.st_mode)
                and st.st_blocks < st.st_size // DEV_BSIZE):
            _zero_sparse(fd, path, st.st_size)
        else:
            _overwrite(fd, path, length, algorithm == C.VIR_STORAGE_VOL_WIPE_ALG_RANDOM)
    finally:
        os.close(fd)


def _zero_sparse(fd: int, path: str, size: int) -> None:
    """storageBackendVolZeroSparseFileLocal."""
    try:
        os.ftruncate(fd, 0)
        os.ftruncate(fd, size)
    except OSError as err:
        raise system_error(f"Failed to truncate volume with path '{path}' to 0 bytes",
                           err) from err


def _overwrite(fd: int, path: str, length: int, random: bool) -> None:
    zeros = bytes(_CHUNK)
    pos = 0
    try:
        while pos < length:
            count = min(_CHUNK, length - pos)
            block = os.urandom(count) if random else zeros[:count]
            pos += os.pwrite(fd, block, pos)
        os.fsync(fd)
    except OSError as err:
        raise system_error(f"Failed to write {length} bytes to storage volume with path "
                           f"'{path}'", err) from err
