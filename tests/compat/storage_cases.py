"""The storage command lines of the compat harness: every pool-* and vol-* command of virsh on
test:///default (its default-pool, 100 GiB, nothing allocated), their help, the pool
lifecycle as ';'-separated sequences, and bad input. {pool} is a pool definition file, {vol}
a volume definition, {src} a source spec, {dir} a directory."""

from __future__ import annotations

POOL = """<pool type='dir'>
  <name>pool1</name>
  <uuid>0a6c6d3e-2a54-4f25-8a43-3f1f32b0a1c9</uuid>
  <target>
    <path>/pool1</path>
  </target>
</pool>
"""
VOL = """<volume>
  <name>vol1</name>
  <capacity unit='MiB'>16</capacity>
  <allocation unit='MiB'>4</allocation>
  <target>
    <format type='qcow2'/>
  </target>
</volume>
"""
SOURCE = "<source><host name='nfs.example.com'/></source>\n"

COMMANDS = ("pool-autostart", "pool-build", "pool-capabilities", "pool-create",
            "pool-create-as", "pool-define", "pool-define-as", "pool-delete", "pool-destroy",
            "pool-dumpxml", "pool-edit", "pool-event", "pool-info", "pool-list", "pool-name",
            "pool-refresh", "pool-start", "pool-undefine", "pool-uuid",
            "find-storage-pool-sources", "find-storage-pool-sources-as", "vol-clone",
            "vol-create", "vol-create-as", "vol-create-from", "vol-delete", "vol-download",
            "vol-dumpxml", "vol-info", "vol-key", "vol-list", "vol-name", "vol-path",
            "vol-pool", "vol-resize", "vol-upload", "vol-wipe")

DP = "default-pool"
UUID = "dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566"
# Two volumes in the default pool, for the commands that need some.
VOLS = f"vol-create-as {DP} v1 10M --allocation 1M; vol-create-as {DP} v2.qcow2 1G --format qcow2"
DEFINE_AS = "pool-define-as p2 dir --target /p2"
# A pool defined with a known UUID, for what prints it.
DEFINE = "pool-define {pool}"

STORAGE_CASES: list[tuple[str, list[str]]] = [
    ("help-pool-group", ["help", "pool"]),
    ("help-volume-group", ["help", "volume"]),
    *((f"help-{name}", ["help", name]) for name in COMMANDS),
    # pool-list
    ("pool-list", ["pool-list"]),
    ("pool-list-all", ["pool-list", "--all"]),
    ("pool-list-inactive", ["pool-list", "--inactive"]),
    ("pool-list-details", ["pool-list", "--details"]),
    ("pool-list-all-details", [f"{DEFINE_AS}; pool-list --all --details"]),
    ("pool-list-uuid", ["pool-list", "--uuid"]),
    ("pool-list-name", ["pool-list", "--name"]),
    ("pool-list-uuid-name", ["pool-list", "--uuid", "--name"]),
    ("pool-list-persistent", ["pool-list", "--persistent"]),
    ("pool-list-transient", ["pool-list", "--transient"]),
    ("pool-list-autostart", ["pool-list", "--autostart"]),
    ("pool-list-no-autostart", ["pool-list", "--no-autostart"]),
    ("pool-list-type", ["pool-list", "--type", "dir"]),
    ("pool-list-types", ["pool-list", "--type", "fs,logical"]),
    ("pool-list-type-bad", ["pool-list", "--type", "dir,bogus"]),
    ("pool-list-type-empty", ["pool-list", "--type", ""]),
    ("pool-list-type-commas", ["pool-list", "--type", "dir,,fs"]),
    ("pool-list-all-inactive", ["pool-list", "--all", "--inactive"]),
    ("pool-list-details-uuid", ["pool-list", "--details", "--uuid"]),
    ("pool-list-details-name", ["pool-list", "--details", "--name"]),
    ("pool-list-sorted", ["pool-define-as Zed dir --target /z; pool-define-as apple dir "
                          "--target /a; pool-start Zed; pool-list --all; pool-list --all "
                          "--details; pool-list --all --name"]),
    ("pool-list-transient-created", ["pool-create-as t1 dir --target /t1; pool-list "
                                     "--transient --details; pool-list --persistent"]),
    # pool-info, pool-dumpxml, pool-name, pool-uuid
    ("pool-info", ["pool-info", DP]),
    ("pool-info-bytes", ["pool-info", "--bytes", DP]),
    ("pool-info-uuid", ["pool-info", UUID]),
    ("pool-info-missing", ["pool-info", "nosuch"]),
    ("pool-info-missing-uuid", ["pool-info", "dfe224cb-28fb-8dd0-c4b2-64eb3f0f4567"]),
    ("pool-info-inactive", [f"{DEFINE}; pool-info pool1; pool-info --bytes pool1"]),
    ("pool-info-allocated", [f"{VOLS}; pool-info {DP}; pool-info --bytes {DP}"]),
    ("pool-dumpxml", ["pool-dumpxml", DP]),
    ("pool-dumpxml-inactive", ["pool-dumpxml", "--inactive", DP]),
    ("pool-dumpxml-xpath", ["pool-dumpxml", DP, "--xpath", "//target/path"]),
    ("pool-dumpxml-xpath-wrap", ["pool-dumpxml", DP, "--xpath", "//name", "--wrap"]),
    ("pool-dumpxml-missing", ["pool-dumpxml", "nosuch"]),
    ("pool-name", ["pool-name", UUID]),
    ("pool-name-by-name", ["pool-name", DP]),
    ("pool-uuid", ["pool-uuid", DP]),
    ("pool-uuid-by-uuid", ["pool-uuid", UUID]),
    ("pool-capabilities", ["pool-capabilities"]),
    # definition and lifecycle
    ("pool-define", ["pool-define {pool}; pool-list --all; pool-dumpxml pool1"]),
    ("pool-define-validate", ["pool-define", "--validate", "{pool}"]),
    ("pool-define-missing", ["pool-define", "/nonexistent/pool.xml"]),
    ("pool-define-dir", ["pool-define", "{dir}"]),
    ("pool-define-bad", ["pool-define", "{vol}"]),
    ("pool-define-twice", ["pool-define {pool}; pool-define {pool}; pool-list --all"]),
    ("pool-define-as-print", ["pool-define-as", "p2", "dir", "--target", "/p2", "--print-xml"]),
    ("pool-define-as-print-all", [
        "pool-define-as", "p2", "netfs", "--source-host", "h", "--source-path", "/export",
        "--source-dev", "/dev/sdb", "--source-name", "vg", "--source-format", "nfs",
        "--target", "/mnt", "--auth-type", "chap", "--auth-username", "u", "--secret-usage",
        "s", "--adapter-wwnn", "2000000012341234", "--adapter-wwpn", "1000000012341234",
        "--adapter-parent", "scsi_host1", "--source-protocol-ver", "4",
        "--source-initiator", "iqn.x", "--print-xml"]),
    ("pool-define-as-print-adapter", ["pool-define-as", "p2", "scsi", "--adapter-name",
                                      "host0", "--print-xml"]),
    ("pool-define-as-secret-both", ["pool-define-as", "p2", "dir", "--secret-usage", "a",
                                    "--secret-uuid", "b"]),
    ("pool-define-as", [f"{DEFINE_AS}; pool-list --all --details; pool-dumpxml p2 "
                        "--xpath //target"]),
    ("pool-define-as-no-target", ["pool-define-as", "p2", "dir"]),
    ("pool-define-as-bad-type", ["pool-define-as", "p2", "bogus", "--target", "/p2"]),
    ("pool-define-as-same-path", ["pool-define-as", "p2", "dir", "--target", "/default-pool"]),
    ("pool-define-as-slash", ["pool-define-as", "a/b", "dir", "--target", "/ab"]),
    ("pool-define-as-missing-type", ["pool-define-as", "p2"]),
    ("pool-create-as", ["pool-create-as t1 dir --target /t1; pool-list --all --details; "
                        "pool-destroy t1; pool-list --all"]),
    ("pool-create-as-print", ["pool-create-as", "t1", "dir", "--target", "/t1",
                              "--print-xml"]),
    ("pool-create-as-build", ["pool-create-as", "t1", "dir", "--target", "/t1", "--build"]),
    ("pool-create-as-overwrite-both", ["pool-create-as", "t1", "dir", "--target", "/t1",
                                       "--overwrite", "--no-overwrite"]),
    ("pool-create-as-existing", ["pool-create-as", DP, "dir", "--target", "/x"]),
    ("pool-create", ["pool-create {pool}; pool-info pool1; pool-autostart pool1"]),
    ("pool-create-missing", ["pool-create", "/nonexistent/pool.xml"]),
    ("pool-sequence", [f"{DEFINE}; pool-build pool1; pool-start pool1; pool-info pool1; "
                       "pool-refresh pool1; pool-destroy pool1; pool-delete pool1; "
                       "pool-undefine pool1; pool-list --all"]),
    ("pool-start-active", ["pool-start", DP]),
    ("pool-start-build", [f"{DEFINE_AS}; pool-start --build p2"]),
    ("pool-start-overwrite-both", ["pool-start", DP, "--overwrite", "--no-overwrite"]),
    ("pool-build-active", ["pool-build", DP]),
    ("pool-build-flags", [f"{DEFINE_AS}; pool-build --overwrite p2; "
                          "pool-build --no-overwrite p2"]),
    ("pool-delete-active", ["pool-delete", DP]),
    ("pool-undefine-active", ["pool-undefine", DP]),
    ("pool-destroy", [f"pool-destroy {DP}; pool-list --all --details; pool-info {DP}; "
                      f"vol-list {DP}; pool-refresh {DP}; pool-destroy {DP}"]),
    ("pool-destroy-missing", ["pool-destroy", "nosuch"]),
    ("pool-refresh", ["pool-refresh", DP]),
    ("pool-autostart", [f"pool-autostart {DP}; pool-list --autostart; pool-info {DP}; "
                        f"pool-autostart --disable {DP}; pool-list --autostart"]),
    ("pool-autostart-transient", ["pool-create-as t1 dir --target /t1; pool-autostart t1"]),
    ("pool-autostart-missing", ["pool-autostart", "nosuch"]),
    ("pool-edit-missing", ["pool-edit", "nosuch"]),
    ("pool-event-list", ["pool-event", "--list"]),
    ("pool-event-none", ["pool-event"]),
    ("pool-event-bad", ["pool-event", "--event", "bogus"]),
    ("pool-event-timeout-bad", ["pool-event", "--event", "lifecycle", "--timeout", "0"]),
    ("pool-event-timeout-large", ["pool-event", "--event", "lifecycle", "--timeout",
                                  "3000000"]),
    ("pool-event-timeout-word", ["pool-event", "--event", "lifecycle", "--timeout", "abc"]),
    ("pool-event-missing-pool", ["pool-event", "--event", "refresh", "--pool", "nosuch",
                                 "--timeout", "1"]),
    ("pool-event-timeout", ["pool-event", "--event", "refresh", "--pool", DP, "--timeout", "1"]),
    # source discovery
    ("find-sources-logical", ["find-storage-pool-sources", "logical"]),
    ("find-sources-netfs-spec", ["find-storage-pool-sources", "netfs", "{src}"]),
    ("find-sources-netfs", ["find-storage-pool-sources", "netfs"]),
    ("find-sources-dir", ["find-storage-pool-sources", "dir"]),
    ("find-sources-bogus", ["find-storage-pool-sources", "bogus"]),
    ("find-sources-missing-spec", ["find-storage-pool-sources", "netfs", "/nonexistent"]),
    ("find-sources-as-netfs", ["find-storage-pool-sources-as", "netfs", "nfs.example.com"]),
    ("find-sources-as-port", ["find-storage-pool-sources-as", "netfs", "--host", "h",
                              "--port", "2049", "--initiator", "iqn.x"]),
    ("find-sources-as-nohost", ["find-storage-pool-sources-as", "netfs"]),
    ("find-sources-as-disk", ["find-storage-pool-sources-as", "disk"]),
    # volumes
    ("vol-list-empty", ["vol-list", DP]),
    ("vol-list-details-empty", ["vol-list", "--details", DP]),
    ("vol-create-as", [f"{VOLS}; vol-list {DP}; vol-list {DP} --details"]),
    ("vol-create-as-print", ["vol-create-as", DP, "v1", "1G", "--allocation", "0",
                             "--format", "raw", "--print-xml"]),
    ("vol-create-as-units", [f"vol-create-as {DP} a 1KB; vol-create-as {DP} b 2MiB; "
                             f"vol-create-as {DP} c 3t --allocation 1b; vol-list {DP} "
                             f"--details; vol-info --bytes c {DP}"]),
    ("vol-create-as-bad-size", ["vol-create-as", DP, "v1", "abc"]),
    ("vol-create-as-bad-suffix", ["vol-create-as", DP, "v1", "10Q"]),
    ("vol-create-as-too-large", ["vol-create-as", DP, "v1", "99999999999999999999"]),
    ("vol-create-as-overflow", ["vol-create-as", DP, "v1", "20000000E"]),
    ("vol-create-as-bad-allocation", ["vol-create-as", DP, "v1", "1M", "--allocation", "x"]),
    ("vol-create-as-huge", ["vol-create-as", DP, "big", "200G"]),
    ("vol-create-as-twice", [f"vol-create-as {DP} v1 1M; vol-create-as {DP} v1 1M"]),
    ("vol-create-as-slash", [f"vol-create-as {DP} a/b 1M; vol-list {DP}"]),
    ("vol-create-as-odd-sizes", [f"vol-create-as {DP} a '10 M'; vol-create-as {DP} b ' 10M'; "
                                 f"vol-create-as {DP} c -10M; vol-create-as {DP} d +10M; "
                                 f"vol-create-as {DP} e 0x10; vol-create-as {DP} f 16EiB; "
                                 f"vol-create-as {DP} g 1M --allocation ''"]),
    ("vol-create-as-bad-format", ["vol-create-as", DP, "v1", "1M", "--format", "bogus"]),
    ("vol-create-as-backing", [f"{VOLS}; vol-create-as {DP} snap 1G --format qcow2 "
                               f"--backing-vol v2.qcow2 --backing-vol-format qcow2 "
                               f"--print-xml"]),
    ("vol-create-as-backing-missing", ["vol-create-as", DP, "snap", "1G", "--backing-vol",
                                       "nosuch"]),
    ("vol-create-as-no-pool", ["vol-create-as", "nosuch", "v1", "1M"]),
    ("vol-create-as-inactive", [f"{DEFINE_AS}; vol-create-as p2 v1 1M"]),
    ("vol-create", [f"vol-create {DP} {{vol}}; vol-info vol1 {DP}; vol-dumpxml vol1 {DP}"]),
    ("vol-create-missing", ["vol-create", DP, "/nonexistent/vol.xml"]),
    ("vol-create-bad", ["vol-create", DP, "{pool}"]),
    ("vol-create-from", [f"{VOLS}; vol-create-from {DP} {{vol}} v1; vol-list {DP} --details"]),
    ("vol-create-from-missing", ["vol-create-from", DP, "{vol}", "nosuch"]),
    ("vol-clone", [f"{VOLS}; vol-clone v2.qcow2 v3 --pool {DP}; vol-list {DP} --details; "
                   f"vol-dumpxml v3 {DP}"]),
    ("vol-clone-print", [f"{VOLS}; vol-clone v1 v3 --pool {DP} --print-xml"]),
    ("vol-clone-by-path", [f"{VOLS}; vol-clone /default-pool/v1 v3"]),
    ("vol-clone-missing", ["vol-clone", "nosuch", "v3"]),
    ("vol-info", [f"{VOLS}; vol-info v1 {DP}; vol-info --bytes v1 --pool {DP}; "
                  f"vol-info /default-pool/v2.qcow2"]),
    ("vol-info-physical", [f"{VOLS}; vol-info --physical v1 {DP}"]),
    ("vol-info-missing", ["vol-info", "nosuch"]),
    ("vol-info-missing-in-pool", ["vol-info", "nosuch", DP]),
    ("vol-info-missing-pool", ["vol-info", "v1", "--pool", "nosuch"]),
    ("vol-info-inactive-pool", [f"{DEFINE_AS}; vol-info v1 --pool p2"]),
    ("vol-info-other-pool", [f"pool-create-as t1 dir --target /t1; vol-create-as t1 x 1M; "
                             f"vol-info /t1/x --pool {DP}"]),
    ("vol-dumpxml", [f"{VOLS}; vol-dumpxml v1 {DP}; vol-dumpxml --pool {DP} v2.qcow2"]),
    ("vol-dumpxml-xpath", [f"{VOLS}; vol-dumpxml v1 {DP} --xpath //capacity"]),
    ("vol-dumpxml-xpath-empty", [f"{VOLS}; vol-dumpxml v1 {DP} --xpath ''"]),
    ("pool-dumpxml-xpath-empty", ["pool-dumpxml", DP, "--xpath", ""]),
    ("vol-key", [f"{VOLS}; vol-key v1 {DP}; vol-key /default-pool/v1"]),
    ("vol-path", [f"{VOLS}; vol-path v1 --pool {DP}; vol-path /default-pool/v2.qcow2"]),
    ("vol-name", [f"{VOLS}; vol-name /default-pool/v1; vol-name v1"]),
    ("vol-pool", [f"{VOLS}; vol-pool /default-pool/v1; vol-pool --uuid /default-pool/v1"]),
    ("vol-pool-missing", ["vol-pool", "nosuch"]),
    ("vol-delete", [f"{VOLS}; vol-delete v1 {DP}; vol-list {DP}; pool-info {DP}; "
                    f"vol-delete v1 {DP}"]),
    ("vol-delete-by-path", [f"{VOLS}; vol-delete /default-pool/v2.qcow2; vol-list {DP}"]),
    ("vol-delete-snapshots", [f"{VOLS}; vol-delete --delete-snapshots v1 {DP}"]),
    ("vol-delete-missing", ["vol-delete", "nosuch", DP]),
    ("vol-wipe", [f"{VOLS}; vol-wipe v1 {DP}"]),
    ("vol-wipe-algorithm", [f"{VOLS}; vol-wipe v1 {DP} --algorithm random"]),
    ("vol-wipe-bad-algorithm", [f"{VOLS}; vol-wipe v1 {DP} --algorithm bogus"]),
    ("vol-resize", [f"{VOLS}; vol-resize v1 20M --pool {DP}"]),
    ("vol-resize-delta", [f"{VOLS}; vol-resize v1 --delta 1M {DP}"]),
    ("vol-resize-negative", [f"{VOLS}; vol-resize v1 -- -1M {DP}"]),
    ("vol-resize-negative-shrink", [f"{VOLS}; vol-resize --shrink v1 -- -1M {DP}"]),
    ("vol-resize-bad", [f"{VOLS}; vol-resize v1 1X {DP}"]),
    ("vol-upload", [f"{VOLS}; vol-upload v1 {{pool}} {DP}"]),
    ("vol-upload-missing-file", [f"{VOLS}; vol-upload v1 /nonexistent/file {DP}"]),
    ("vol-upload-bad-offset", [f"{VOLS}; vol-upload v1 {{pool}} {DP} --offset -1"]),
    ("vol-upload-offsets", [f"{VOLS}; vol-upload v1 {{pool}} {DP} --offset "
                            f"18446744073709551616; vol-upload v1 {{pool}} {DP} --length -5"]),
    ("vol-download", [f"{VOLS}; vol-download v1 {{dir}}/out {DP}"]),
    ("vol-download-sparse", [f"{VOLS}; vol-download v1 {{dir}}/out {DP} --sparse"]),
    ("vol-download-bad-length", [f"{VOLS}; vol-download v1 {{dir}}/out {DP} --length x"]),
    ("vol-download-no-dir", [f"{VOLS}; vol-download v1 /nonexistent/out {DP}"]),
    ("storage-readonly", [f"{VOLS}; connect --readonly test:///default; pool-destroy {DP}; "
                          f"vol-create-as {DP} v 1M; pool-define-as p2 dir --target /p2; "
                          f"pool-autostart {DP}; find-storage-pool-sources logical; "
                          f"pool-list --all --details; vol-list {DP}"]),
    ("vol-list-missing", ["vol-list", "nosuch"]),
    ("vol-list-inactive", [f"{DEFINE_AS}; vol-list p2"]),
    ("vol-sequence", [f"{DEFINE}; pool-start pool1; vol-create-as pool1 a 1G; "
                      "vol-create-as pool1 B 2G --allocation 1G; vol-list pool1 --details; "
                      "pool-list --all --details; pool-destroy pool1; pool-start pool1; "
                      "vol-list pool1; vol-delete a pool1; pool-info pool1"]),
]
