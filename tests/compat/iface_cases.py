"""The guest-interface command lines of the compat harness: attach-interface (its XML for every
option, and the test driver's refusal), detach-interface, domiflist, domif-getlink,
domif-setlink and domifstat on test:///default's `test` domain (one NIC, testnet0 on the
default network, MAC aa:bb:cc:dd:ee:ff). domifstat's counters come from the clock, so only its
refusals are compared."""

from __future__ import annotations

COMMANDS = ("attach-interface", "detach-interface", "domiflist", "domifstat", "domif-getlink",
            "domif-setlink")
MAC = "aa:bb:cc:dd:ee:ff"
# attach-interface option sets, each printed with --print-xml.
PRINTED = [
    ("network", ["network", "default"]),
    ("bridge", ["bridge", "br0"]),
    ("direct", ["direct", "eth0", "--managed"]),
    ("hostdev", ["hostdev", "0000:00:19.0"]),
    ("hostdev-short", ["hostdev", "0:0:1f.7"]),
    ("hostdev-hex", ["hostdev", "0x0:0x0:0x19.0"]),
    ("hostdev-wide", ["hostdev", "10000:100:19.8"]),
    ("hostdev-bad", ["hostdev", "00:19.0"]),
    ("vhostuser", ["vhostuser", "/tmp/sock", "--source-mode", "server"]),
    ("vhostuser-client", ["vhostuser", "/tmp/sock", "--source-mode", "client", "--managed"]),
    ("vhostuser-no-mode", ["vhostuser", "/tmp/sock"]),
    ("bad-mode", ["network", "default", "--source-mode", "bogus"]),
    ("ignored-mode", ["network", "default", "--source-mode", "client"]),
    ("user", ["user", "x"]),
    ("ethernet", ["ethernet", "x"]),
    ("bogus", ["bogus", "x", "--inbound", "a"]),
    ("everything", ["network", "default", "--target", "vnet9", "--mac", "52:54:00:11:22:33",
                    "--script", "/bin/true", "--model", "virtio", "--alias", "ua-net1",
                    "--inbound", "100,200,300,400", "--outbound", "10,20,30", "--managed"]),
    ("inbound-average", ["network", "default", "--inbound", "100"]),
    ("inbound-floor", ["network", "default", "--inbound", ",,,5"]),
    ("inbound-gap", ["network", "default", "--inbound", "100,,50"]),
    ("inbound-space", ["network", "default", "--inbound", " 5"]),
    ("inbound-max", ["network", "default", "--inbound", "18446744073709551615"]),
    ("inbound-overflow", ["network", "default", "--inbound", "18446744073709551616"]),
    ("inbound-zero", ["network", "default", "--inbound", "0"]),
    ("inbound-word", ["network", "default", "--inbound", "a"]),
    ("inbound-negative", ["network", "default", "--inbound", "-1"]),
    ("inbound-peak-bad", ["network", "default", "--inbound", "1,b"]),
    ("inbound-too-many", ["network", "default", "--inbound", "1,2,3,4,5"]),
    ("inbound-empty", ["network", "default", "--inbound", ""]),
    ("outbound-zero", ["network", "default", "--outbound", "0"]),
    ("outbound-floor", ["network", "default", "--outbound", "1,2,3,4"]),
    ("outbound-no-average", ["network", "default", "--outbound", ",2"]),
    ("hostdev-rate-first", ["hostdev", "bogus", "--inbound", "a"]),
    ("persistent-current", ["network", "default", "--persistent", "--current"]),
    ("live-current", ["network", "default", "--live", "--current"]),
    ("config-current", ["network", "default", "--config", "--current"]),
]

IFACE_CASES: list[tuple[str, list[str]]] = [
    *((f"help-{name}", ["help", name]) for name in COMMANDS),
    *((f"attach-interface-{name}", ["attach-interface", "test", *args, "--print-xml"])
      for name, args in PRINTED),
    ("attach-interface-no-domain-printed", ["attach-interface", "nosuch", "network", "default",
                                            "--print-xml"]),
    ("attach-interface-no-domain", ["attach-interface", "nosuch", "network", "default"]),
    ("attach-interface", ["attach-interface test network default; "
                          "attach-interface test network default --config; "
                          "attach-interface test network default --persistent; "
                          "attach-interface test network default --current"]),
    ("attach-interface-no-source", ["attach-interface", "test", "network"]),
    ("detach-interface-printed", ["detach-interface test network --print-xml; "
                                  "detach-interface test network --config --print-xml; "
                                  "detach-interface test network --persistent --print-xml"]),
    ("detach-interface-mac", [f"detach-interface test network --mac {MAC.upper()} --print-xml; "
                              "detach-interface test network --mac aa:bb:cc:dd:ee:00 "
                              "--print-xml; detach-interface test network --mac bogus "
                              "--print-xml"]),
    ("detach-interface-type", ["detach-interface", "test", "bridge", "--print-xml"]),
    ("detach-interface-quote", ["detach-interface", "test", "a'b", "--print-xml"]),
    ("detach-interface", ["detach-interface test network; detach-interface test network "
                          "--live; detach-interface test network --current"]),
    ("detach-interface-no-domain", ["detach-interface", "nosuch", "network"]),
    ("detach-interface-exclusive", ["detach-interface", "test", "network", "--persistent",
                                    "--current"]),
    ("domiflist", ["domiflist", "test"]),
    ("domiflist-inactive", ["domiflist", "test", "--inactive"]),
    ("domiflist-no-nics", ["define {xml}; domiflist guest1"]),
    ("domiflist-no-domain", ["domiflist", "nosuch"]),
    ("domif-getlink", [f"domif-getlink test testnet0; domif-getlink test {MAC}; "
                       f"domif-getlink test {MAC.upper()} --config"]),
    ("domif-getlink-missing", ["domif-getlink test nosuch; "
                               "domif-getlink test 00:11:22:33:44:55"]),
    ("domif-setlink-printed", [f"domif-setlink test testnet0 down --print-xml; "
                               f"domif-setlink test {MAC.upper()} up --print-xml"]),
    ("domif-setlink", ["domif-setlink test testnet0 up; "
                       "domif-setlink test testnet0 down --config"]),
    ("domif-setlink-bad-state", ["domif-setlink", "test", "testnet0", "bogus"]),
    ("domif-setlink-missing", ["domif-setlink", "test", "nosuch", "up"]),
    ("domif-setlink-inactive", ["define {xml}; domif-setlink guest1 x up"]),
    ("domifstat-missing", ["domifstat test nosuch; domifstat test aa:bb:cc:dd:ee:00"]),
    ("domifstat-inactive", ["destroy test; domifstat test testnet0"]),
    ("domifstat-no-domain", ["domifstat", "nosuch", "testnet0"]),
]
