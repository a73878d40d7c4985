"""<smartcard> devices: a CCID card backed by the host's reader, by three NSS certificates, or
by a character device tunnelled to a third-party emulator (mode='passthrough')."""

from __future__ import annotations

from qvirt.conf.devices.chardev import CharDevice
from qvirt.conf.xmlobject import Attr, Choice
from qvirt.errors import XMLError


class Smartcard(CharDevice):
    TAG = "smartcard"
    ORDER = ("mode", "type", "certificates", "database", "sources", "protocol", "alias",
             "address")
    mode = Attr("@mode", Choice("host", "host-certificates", "passthrough"), required=True)
    certificates = Attr("certificate", multi=True)
    database = Attr("database")

    def post_parse(self) -> None:
        if self.mode == "passthrough":
            if self.type is None:
                raise XMLError("passthrough mode requires a character device type "
                               "attribute")
            super().post_parse()
            return
        self.type, self.sources, self.protocol = None, [], None
        if self.mode == "host-certificates":
            if len(self.certificates) != 3:
                raise XMLError("host-certificates mode needs exactly three certificates")
        else:
            self.certificates, self.database = [], None
