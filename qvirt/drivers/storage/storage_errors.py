"""The storage driver's errors as libvirt words and files them (most from the storage
domain; libvirt's file utilities report from none)."""

from __future__ import annotations

import os

from qvirt.errors import ErrorDomain, ErrorNumber, InvalidArg, QvirtError


def storage_error(cls: type[QvirtError], detail: str) -> QvirtError:
    return cls(detail, domain=ErrorDomain.STORAGE)


def no_pool(detail: str) -> QvirtError:
    return QvirtError(detail, code=ErrorNumber.NO_STORAGE_POOL, domain=ErrorDomain.STORAGE)


def no_vol(detail: str) -> QvirtError:
    return QvirtError(detail, code=ErrorNumber.NO_STORAGE_VOL, domain=ErrorDomain.STORAGE)


def system_error(message: str, err: OSError,
                 domain: int = ErrorDomain.STORAGE) -> QvirtError:
    """virReportSystemError: the message, a colon and strerror; reported from the storage
    code (or, ``domain`` NONE, from libvirt's file utilities, as its virfile.c errors are)."""
    return QvirtError(f"{message}: {os.strerror(err.errno or 0)}",
                      code=ErrorNumber.SYSTEM_ERROR, domain=domain)


def invalid_arg(text: str) -> QvirtError:
    """virReportInvalidArg's error (virCheckFlags, VIR_EXCLUSIVE_FLAGS_RET): raised with
    virRaiseErrorFull, so its message is the text alone, without the "invalid argument: "
    of the code."""
    err = InvalidArg(domain=ErrorDomain.STORAGE)
    err.message = text
    err.args = (text,)
    return err


def exclusive_flags(first: str, second: str) -> QvirtError:
    return invalid_arg(f"Flags '{first}' and '{second}' are mutually exclusive")


def unsupported_flags(flags: int, allowed: int, function: str) -> None:
    """virCheckFlags: the flags ``function`` does not take, named."""
    unknown = flags & ~allowed
    if unknown:
        raise invalid_arg(f"unsupported flags (0x{unknown:x}) in function {function}")
