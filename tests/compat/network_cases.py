"""The network command lines of the compat harness: every net-* command of virsh on
test:///default (its `default` network, active, on virbr0), their help, lifecycles as
';'-separated sequences, every net-update section and command, and bad input. {net} is a
network definition file with a known UUID, {net2} a bridgeless one, {host} a DHCP host
element in a file."""

from __future__ import annotations

NET = """<network>
  <name>net1</name>
  <uuid>0a6c6d3e-2a54-4f25-8a43-3f1f32b0a1c9</uuid>
  <forward mode='route'/>
  <bridge name='virbr5'/>
  <domain name='example.com'/>
  <dns>
    <host ip='192.168.50.3'><hostname>h3</hostname></host>
    <txt name='t1' value='v1'/>
    <srv service='ldap' protocol='tcp' domain='example.com' target='.'/>
  </dns>
  <ip address='192.168.50.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.50.2' end='192.168.50.254'/>
      <host mac='52:54:00:00:00:05' name='five' ip='192.168.50.5'/>
    </dhcp>
  </ip>
  <portgroup name='pg1'/>
</network>
"""
NET2 = """<network>
  <name>net2</name>
  <uuid>5c3a3b8e-0d5e-4f0c-9f43-2b1f0e6d7a10</uuid>
  <ip address='192.168.60.1' prefix='24'/>
</network>
"""
HOST = "<host mac='52:54:00:00:00:07' ip='192.168.122.7'/>\n"

COMMANDS = ("net-autostart", "net-create", "net-define", "net-destroy", "net-dhcp-leases",
            "net-dumpxml", "net-edit", "net-event", "net-info", "net-list", "net-name",
            "net-start", "net-undefine", "net-update", "net-uuid", "net-port-list",
            "net-port-create", "net-port-dumpxml", "net-port-delete")

D = "default"
UUID = "dd8fe884-6c02-601e-7551-cca97df1c5df"
H = "<host mac='52:54:00:00:00:01' ip='192.168.122.11'/>"
# (section, command, element) triples run on net1 after net-define {net}.
UPDATES = [
    ("ip-dhcp-host", "add", "<host mac='52:54:00:00:00:06' ip='192.168.50.6'/>"),
    ("ip-dhcp-host", "add-first", "<host mac='52:54:00:00:00:08' name='eight' "
                                  "ip='192.168.50.8'/>"),
    ("ip-dhcp-host", "modify", "<host mac='52:54:00:00:00:05' name='cinq' ip='192.168.50.5'/>"),
    ("ip-dhcp-host", "delete", "<host mac='52:54:00:00:00:05'/>"),
    ("ip-dhcp-host", "delete", "<host mac='52:54:00:00:00:09'/>"),
    ("ip-dhcp-host", "add", "<host mac='52:54:00:00:00:05' ip='192.168.50.9'/>"),
    ("ip-dhcp-host", "add", "<host mac='52:54:00:00:00:0a' ip='10.0.0.1'/>"),
    ("ip-dhcp-range", "add", "<range start='192.168.50.2' end='192.168.50.3'/>"),
    ("ip-dhcp-range", "add-first", "<range start='192.168.50.2' end='192.168.50.254'/>"),
    ("ip-dhcp-range", "delete", "<range start='192.168.50.2' end='192.168.50.254'/>"),
    ("ip-dhcp-range", "modify", "<range start='192.168.50.2' end='192.168.50.3'/>"),
    ("dns-host", "add", "<host ip='192.168.50.4'><hostname>h4</hostname></host>"),
    ("dns-host", "delete", "<host ip='192.168.50.3'><hostname>h3</hostname></host>"),
    ("dns-host", "modify", "<host ip='192.168.50.3'><hostname>h3</hostname></host>"),
    ("dns-txt", "add", "<txt name='t2' value='v2'/>"),
    ("dns-txt", "delete", "<txt name='t1'/>"),
    ("dns-srv", "add-first", "<srv service='www' protocol='tcp'/>"),
    ("dns-srv", "delete", "<srv service='ldap' protocol='tcp'/>"),
    ("portgroup", "add", "<portgroup name='pg2' default='yes'/>"),
    ("portgroup", "modify", "<portgroup name='pg1' default='yes'/>"),
    ("portgroup", "delete", "<portgroup name='pg1'/>"),
    ("forward-interface", "add", "<interface dev='eth9'/>"),
    ("forward-interface", "delete", "<interface dev='eth9'/>"),
    ("bridge", "modify", "<bridge name='virbr9'/>"),
    ("domain", "modify", "<domain name='x.com'/>"),
    ("ip", "add", "<ip address='10.1.1.1' prefix='24'/>"),
    ("forward", "modify", "<forward mode='nat'/>"),
    ("forward-pf", "add", "<pf dev='eth0'/>"),
    ("ip-dhcp-host", "add", "<host mac='52:54:00:00:00:06' ip='192.168.50.6'"),
]

NETWORK_CASES: list[tuple[str, list[str]]] = [
    ("help-network-group", ["help", "network"]),
    *((f"help-{name}", ["help", name]) for name in COMMANDS),
    # net-list
    ("net-list", ["net-list"]),
    ("net-list-all", ["net-list", "--all"]),
    ("net-list-inactive", ["net-list", "--inactive"]),
    ("net-list-table", ["net-list", "--table"]),
    ("net-list-uuid", ["net-list", "--uuid"]),
    ("net-list-name", ["net-list", "--name", "--all"]),
    ("net-list-uuid-name", ["net-list", "--uuid", "--name"]),
    ("net-list-table-uuid", ["net-list", "--table", "--uuid"]),
    ("net-list-persistent", ["net-list", "--persistent"]),
    ("net-list-transient", ["net-list", "--transient"]),
    ("net-list-autostart", ["net-list", "--autostart"]),
    ("net-list-no-autostart", ["net-list", "--no-autostart"]),
    ("net-list-all-inactive", ["net-list", "--all", "--inactive"]),
    ("net-list-sorted", ["net-define {net}; net-create {net2}; net-autostart net1; "
                         "net-list --all; net-list --inactive; net-list --transient; "
                         "net-list --all --autostart; net-list --all --name; "
                         "net-list --all --no-autostart --persistent"]),
    # net-info, net-dumpxml, net-name, net-uuid
    ("net-info", ["net-info", D]),
    ("net-info-uuid", ["net-info", UUID]),
    ("net-info-missing", ["net-info", "nosuch"]),
    ("net-info-missing-uuid", ["net-info", "dd8fe884-6c02-601e-7551-cca97df1c5d0"]),
    ("net-info-transient-no-bridge", ["net-create {net2}; net-info net2; net-dumpxml net2"]),
    ("net-dumpxml", ["net-dumpxml", D]),
    ("net-dumpxml-inactive", ["net-dumpxml", "--inactive", D]),
    ("net-dumpxml-xpath", ["net-dumpxml", D, "--xpath", "//ip"]),
    ("net-dumpxml-xpath-wrap", ["net-dumpxml", D, "--xpath", "//@address", "--wrap"]),
    ("net-dumpxml-xpath-empty", ["net-dumpxml", D, "--xpath", ""]),
    ("net-dumpxml-missing", ["net-dumpxml", "nosuch"]),
    ("net-name", ["net-name", UUID]),
    ("net-name-by-name", ["net-name", D]),
    ("net-uuid", ["net-uuid", D]),
    ("net-uuid-by-uuid", ["net-uuid", UUID]),
    # lifecycle
    ("net-define", ["net-define {net}; net-list --all; net-dumpxml net1; net-info net1"]),
    ("net-define-validate", ["net-define --validate {net}; net-uuid net1"]),
    ("net-define-missing-file", ["net-define", "/nonexistent"]),
    ("net-define-bad", ["net-define", "{bad}"]),
    ("net-define-twice", ["net-define {net}; net-define {net}; net-start net1; "
                          "net-define {net}; net-dumpxml net1"]),
    ("net-create", ["net-create {net}; net-list --all; net-info net1; net-destroy net1; "
                    "net-list --all"]),
    ("net-create-validate", ["net-create", "--validate", "{net}"]),
    ("net-create-active", ["net-create", "{net}", ";", "net-create", "{net}"]),
    ("net-start", ["net-define {net}; net-start net1; net-start net1; net-list --all"]),
    ("net-start-missing", ["net-start", "nosuch"]),
    ("net-destroy", ["net-destroy default; net-destroy default; net-list --all; "
                     "net-info default"]),
    ("net-undefine-active", ["net-undefine", D]),
    ("net-undefine", ["net-destroy default; net-undefine default; net-list --all"]),
    ("net-undefine-uuid", ["net-define {net}; net-undefine 0a6c6d3e-2a54-4f25-8a43-3f1f32b0a1c9"]),
    ("net-autostart", ["net-autostart default; net-list --autostart; net-info default; "
                       "net-autostart --disable default; net-list --autostart"]),
    ("net-autostart-transient", ["net-create {net2}; net-autostart net2; net-list --all"]),
    ("net-autostart-missing", ["net-autostart", "nosuch"]),
    ("net-edit-missing", ["net-edit", "nosuch"]),
    ("net-dhcp-leases", ["net-dhcp-leases", D]),
    ("net-dhcp-leases-mac", ["net-dhcp-leases", D, "--mac", "52:54:00:00:00:01"]),
    ("net-dhcp-leases-missing", ["net-dhcp-leases", "nosuch"]),
    # net-event
    ("net-event-list", ["net-event", "--list"]),
    ("net-event-none", ["net-event"]),
    ("net-event-bad", ["net-event", "--event", "bogus"]),
    ("net-event-timeout-bad", ["net-event", "--event", "lifecycle", "--timeout", "0"]),
    ("net-event-missing-net", ["net-event", "--event", "lifecycle", "--network", "nosuch",
                               "--timeout", "1"]),
    ("net-event-timeout", ["net-event", "--event", "lifecycle", "--network", D,
                           "--timeout", "1"]),
    # net-update
    ("net-update-live", [f'net-update {D} add ip-dhcp-host "{H}"; net-dumpxml {D}']),
    ("net-update-file", [f"net-update {D} add-last ip-dhcp-host {{host}}; net-dumpxml {D}"]),
    ("net-update-config", [f'net-update {D} add ip-dhcp-host "{H}" --config; net-dumpxml {D}; '
                           f'net-destroy {D}; net-dumpxml {D}']),
    ("net-update-both", [f'net-update {D} add ip-dhcp-host "{H}" --config --live; '
                         f'net-dumpxml {D}']),
    ("net-update-current", [f'net-update {D} add ip-dhcp-host "{H}" --current; '
                            f'net-destroy {D}; net-update {D} delete ip-dhcp-host "{H}"; '
                            f'net-dumpxml {D}']),
    ("net-update-live-inactive", [f'net-destroy {D}; net-update {D} add ip-dhcp-host "{H}" '
                                  f'--live']),
    ("net-update-transient-config", [f'net-create {{net2}}; net-update net2 add ip-dhcp-host '
                                     f'"{H}" --config']),
    ("net-update-current-live", ["net-update", D, "add", "ip-dhcp-host", H, "--current",
                                 "--live"]),
    ("net-update-current-config", ["net-update", D, "add", "ip-dhcp-host", H, "--current",
                                   "--config"]),
    ("net-update-bad-command", ["net-update", D, "bogus", "ip-dhcp-host", H]),
    ("net-update-none-command", ["net-update", D, "none", "ip-dhcp-host", H]),
    ("net-update-bad-section", ["net-update", D, "add", "bogus", H]),
    ("net-update-none-section", ["net-update", D, "add", "none", H]),
    ("net-update-missing-file", ["net-update", D, "add", "ip-dhcp-host", "nofile"]),
    ("net-update-bad-index", ["net-update", D, "add", "ip-dhcp-host", H, "--parent-index",
                              "x"]),
    ("net-update-index", ["net-update", D, "add", "ip-dhcp-host", H, "--parent-index", "0"]),
    ("net-update-bad-parent", ["net-update", D, "add", "ip-dhcp-host", H, "--parent-index",
                               "3"]),
    ("net-update-missing-net", ["net-update", "nosuch", "add", "ip-dhcp-host", H]),
    *((f"net-update-{section}-{command}-{i}",
       [f'net-define {{net}}; net-update net1 {command} {section} "{xml}"; net-dumpxml net1'])
      for i, (section, command, xml) in enumerate(UPDATES)),
    # ports, which the test driver lacks
    ("net-port-list", ["net-port-list", D]),
    ("net-port-list-uuid", ["net-port-list", D, "--uuid"]),
    ("net-port-list-both", ["net-port-list", D, "--table", "--uuid"]),
    ("net-port-list-missing", ["net-port-list", "nosuch"]),
    ("net-port-create", ["net-port-create", D, "{net}"]),
    ("net-port-create-validate", ["net-port-create", D, "{net}", "--validate"]),
    ("net-port-create-missing-file", ["net-port-create", D, "/nonexistent"]),
    ("net-port-dumpxml", ["net-port-dumpxml", D, UUID]),
    ("net-port-dumpxml-bad", ["net-port-dumpxml", D, "xyz"]),
    ("net-port-delete", ["net-port-delete", D, UUID]),
    ("net-port-delete-missing-net", ["net-port-delete", "nosuch", UUID]),
    ("net-update-portgroup-vlan", ["net-update", D, "add", "portgroup",
                                   "<portgroup name='pg'><vlan><tag id='5'/></vlan>"
                                   "</portgroup>"]),
    # read-only
    ("network-readonly", ["connect --readonly test:///default; net-destroy default; "
                          "net-define {net}; net-autostart default; net-update default add "
                          f'ip-dhcp-host "{H}"; net-info default; net-dumpxml default']),
]
