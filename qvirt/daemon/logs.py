"""qvirtd's own log: log_level and log_outputs as libvirt's virlog.c reads them.

log_level is the lowest priority logged at all (1 debug, 2 info, 3 warning, 4 error); each
output ("3:stderr", "1:file:/path", "2:syslog:ident", space separated) has its own lowest
priority on top. Without outputs the daemon logs to stderr in the foreground and to its log
file with --daemon, as virDaemonSetupLogging picks when there is no journald. Lines look like
libvirt's: "2024-05-01 10:00:00.000+0000: 1234: warning : qvirt.daemon : text".
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import threading
import time
from pathlib import Path

from qvirt.daemon.conffile import system_error
from qvirt.errors import ConfigUnsupported, InvalidArg

PRIORITIES = {1: logging.DEBUG, 2: logging.INFO, 3: logging.WARNING, 4: logging.ERROR}
DEFAULT_PRIORITY = 3
_NAMES = {logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warning",
          logging.ERROR: "error", logging.CRITICAL: "error"}
# Destinations and how many ':'-separated fields an output for each has.
_FIELDS = {"stderr": 2, "file": 3, "syslog": 3, "journald": 2}
LOGGER = "qvirt"


class LibvirtFormatter(logging.Formatter):
    """virLogFormatString's layout: time with milliseconds in UTC, thread id, priority."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(record.created))
        millis = int(record.msecs)
        text = (f"{stamp}.{millis:03d}+0000: {threading.get_native_id()}: "
                f"{_NAMES.get(record.levelno, 'error')} : {record.name} : {record.getMessage()}")
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def check_priority(level: int) -> int:
    """The log_level itself (0: the default), or virLogSetDefaultPriority's refusal."""
    if level == 0:
        return DEFAULT_PRIORITY
    if level not in PRIORITIES:
        raise InvalidArg(f"Failed to set logging priority, argument '{level}' is invalid")
    return level


def parse_output(text: str) -> tuple[tuple[str, str], logging.Handler]:
    """One output: its identity (destination, name) and a handler at its priority."""
    fields = text.split(":")
    if len(fields) < 2:
        raise InvalidArg(f"Malformed format for log output '{text}'")
    prio, dest = fields[0], fields[1]
    if not prio.isdigit() or int(prio) not in PRIORITIES:
        raise InvalidArg(f"Invalid log priority '{prio}' for log output '{text}'")
    if dest not in _FIELDS:
        raise InvalidArg(f"Invalid log destination '{dest}' for log output '{text}'")
    if len(fields) != _FIELDS[dest]:
        raise InvalidArg(f"Log output '{text}' does not meet the format requirements for "
                         f"destination type '{dest}'")
    name = fields[2] if len(fields) > 2 else ""
    handler: logging.Handler
    if dest == "stderr":
        handler = logging.StreamHandler()
    elif dest == "file":
        name = os.path.abspath(name)
        try:
            handler = logging.FileHandler(name, mode="a")
        except OSError as err:
            raise system_error(f"failed to open {name}", err) from err
    elif dest == "syslog":
        try:
            handler = logging.handlers.SysLogHandler("/dev/log")
        except OSError as err:
            raise system_error("failed to connect to syslog", err) from err
        handler.ident = f"{name}: "
    else:
        raise ConfigUnsupported(f"log output '{text}': qvirtd has no journald output")
    handler.setLevel(PRIORITIES[int(prio)])
    return (dest, name), handler


def parse_outputs(text: str) -> list[logging.Handler]:
    """virLogParseOutputs: space-separated outputs; a later one replaces an earlier one of
    the same destination and name."""
    handlers: dict[tuple[str, str], logging.Handler] = {}
    for item in text.split(" "):
        if item:
            key, handler = parse_output(item)
            old = handlers.pop(key, None)
            if old is not None:
                old.close()
            handlers[key] = handler
    return list(handlers.values())


def default_outputs(level: int, daemon: bool, log_file: Path) -> str:
    return f"{level}:file:{log_file}" if daemon else f"{level}:stderr"


def setup_logging(level: int, outputs: str) -> None:
    """Route the ``qvirt`` loggers to ``outputs`` at ``level`` and above (already checked)."""
    handlers = parse_outputs(outputs)
    logger = logging.getLogger(LOGGER)
    for old in list(logger.handlers):
        logger.removeHandler(old)
        old.close()
    formatter = LibvirtFormatter()
    for handler in handlers:
        handler.setFormatter(formatter)
        logger.addHandler(handler)
    logger.setLevel(PRIORITIES[level])
    logger.propagate = False
