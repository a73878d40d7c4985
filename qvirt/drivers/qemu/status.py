"""The status XML of a running domain (libvirt's <domstatus>): what a new driver needs to
take the QEMU process back, with the live definition inside."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from qvirt.drivers.qemu.state import STATE_NAMES, State, parse_state, reason_name
from qvirt.util.fileio import atomic_write


@dataclass
class Status:
    state: State
    reason: int
    pid: int
    monitor: Path
    runtime_dir: Path
    live_xml: str
    autodestroy: bool = False

    def to_xml(self) -> str:
        """Laid out as libvirt writes its status files: single quotes, the domain indented."""
        lines = [f"<domstatus state={_attr(STATE_NAMES[self.state])} "
                 f"reason={_attr(reason_name(self.state, self.reason))} pid='{self.pid}'>",
                 f"  <monitor path={_attr(str(self.monitor))} type='unix'/>",
                 f"  <rundir path={_attr(str(self.runtime_dir))}/>"]
        if self.autodestroy:
            lines.append("  <autodestroy/>")
        lines += ["  " + line for line in self.live_xml.rstrip("\n").splitlines()]
        lines.append("</domstatus>")
        return "\n".join(lines) + "\n"

    @classmethod
    def from_xml(cls, text: str) -> Status:
        root = etree.fromstring(text.encode())
        state, reason = parse_state(root.get("state", ""), root.get("reason", ""))
        monitor = root.find("monitor")
        rundir = root.find("rundir")
        dom = root.find("domain")
        if monitor is None or rundir is None or dom is None:
            raise ValueError("status XML lacks monitor, rundir or domain")
        return cls(state=state, reason=reason, pid=int(root.get("pid", "0")),
                   monitor=Path(monitor.get("path", "")), runtime_dir=Path(rundir.get("path", "")),
                   live_xml=str(etree.tostring(dom, encoding="unicode")),
                   autodestroy=root.find("autodestroy") is not None)

    def save(self, path: Path) -> None:
        atomic_write(path, self.to_xml())


def _attr(value: str) -> str:
    escaped = (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
               .replace("'", "&apos;"))
    return f"'{escaped}'"


def live_id(xml: str) -> int:
    return int(etree.fromstring(xml.encode()).get("id", "-1"))
