"""<clock>: the guest's RTC offset from the host and its timer devices."""

from __future__ import annotations

from qvirt.conf.xmlobject import Attr, Child, Choice, Int, UInt, XMLObject, YesNo
from qvirt.errors import ConfigUnsupported, XMLError

TIMER_NAMES = ("platform", "pit", "rtc", "hpet", "tsc", "kvmclock", "hypervclock",
               "armvtimer")


class Catchup(XMLObject):
    TAG = "catchup"
    ORDER = ("threshold", "slew", "limit")
    threshold = Attr("@threshold", UInt)
    slew = Attr("@slew", UInt)
    limit = Attr("@limit", UInt)


class Timer(XMLObject):
    TAG = "timer"
    ORDER = ("name", "present", "tickpolicy", "track", "frequency", "mode", "catchup")
    name = Attr("@name", Choice(*TIMER_NAMES), required=True)
    present = Attr("@present", YesNo)
    tickpolicy = Attr("@tickpolicy", Choice("delay", "catchup", "merge", "discard"))
    track = Attr("@track", Choice("boot", "guest", "wall", "realtime"))
    frequency = Attr("@frequency", UInt)
    mode = Attr("@mode", Choice("auto", "native", "emulate", "paravirt", "smpsafe"))
    catchup = Child(Catchup)

    def post_parse(self) -> None:
        if self.name == "platform":
            raise ConfigUnsupported("unsupported timer type (name) 'platform'")
        if self.name == "rtc" and self.tickpolicy == "merge":
            raise ConfigUnsupported("unsupported rtc timer tickpolicy 'merge'")
        if self.track is not None and self.name != "rtc":
            raise ConfigUnsupported(
                f"timer {self.name} doesn't support setting of timer track")


class Clock(XMLObject):
    TAG = "clock"
    KEEP_EMPTY = True
    ORDER = ("offset", "timezone", "adjustment", "basis", "timers")
    offset = Attr("@offset")
    timezone = Attr("@timezone")
    adjustment = Attr("@adjustment")
    basis = Attr("@basis", Choice("utc", "localtime"))
    timers = Child(Timer, single=False)

    def post_parse(self) -> None:
        if self.offset is None:
            self.offset = "utc"
        if self.offset not in ("utc", "localtime", "timezone", "variable"):
            raise ConfigUnsupported(f"unknown clock offset '{self.offset}'")
        if self.offset in ("utc", "localtime") and self.adjustment not in (None, "reset"):
            # A numeric adjustment on utc/localtime is a variable clock based on it.
            self._variable(self.adjustment, self.offset)
        elif self.offset == "variable":
            self._variable(self.adjustment or "0", self.basis or "utc")

    def _variable(self, adjustment: str | None, basis: str) -> None:
        try:
            value = Int.parse(adjustment or "")
        except ValueError:
            raise XMLError("unknown clock adjustment "
                           f"'{adjustment}'") from None
        self.offset, self.adjustment, self.basis = "variable", str(value), basis
