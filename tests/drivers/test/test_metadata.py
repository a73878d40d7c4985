"""The test driver's title and description (virDomainGetMetadata, virDomainSetMetadata) as
python3-libvirt shows libvirt's test driver keeping them: live and persistent apart, the
errors of flags, types and transient or stopped domains."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.oracle import SYSTEM_PYTHON

XML = ("<domain type='test'><name>t2</name><memory>1024</memory>"
       "<os><type>hvm</type></os></domain>")

CALLS = (
    "dom.metadata(0, None)", "dom.metadata(1, None)",
    "dom.setMetadata(1, 'A title', None, None)", "dom.metadata(1, None)",
    "dom.metadata(1, None, 2)", "dom.setMetadata(0, 'live words', None, None, 1)",
    "dom.metadata(0, None, 1)", "dom.metadata(0, None, 2)",
    "dom.setMetadata(0, 'both', None, None, 3)", "dom.metadata(0, None, 2)",
    "dom.metadata(0, None, 3)", "dom.setMetadata(1, 'two\\nlines', None, None)",
    "dom.setMetadata(1, '', None, None)", "dom.metadata(1, None)",
    "dom.metadata(7, None)", "dom.metadata(0, None, 4)",
    "conn.createXML(XML).metadata(0, None, 2)",
    "conn.lookupByName('t2').setMetadata(0, 'x', None, None, 2)",
    "conn.lookupByName('t2').destroy()",
    "conn.defineXML(XML).metadata(0, None, 1)",
)

SCRIPT = """
import json, sys, {module} as lib
lib.registerErrorHandler(lambda *a: None, None)
conn = lib.open("test:///default")
dom = conn.lookupByName("test")
XML = sys.argv[1]
out = []
for call in sys.argv[2:]:
    try:
        out.append(["ok", eval(call)])
    except lib.libvirtError as err:
        out.append(["error", err.get_error_code(), err.get_error_domain(),
                    err.get_error_message()])
print(json.dumps(out))
"""


def run(module: str, python: str) -> object:
    proc = subprocess.run([python, "-c", SCRIPT.format(module=module), XML, *CALLS],
                          capture_output=True, text=True, check=True, timeout=60)
    return json.loads(proc.stdout)


def test_title_and_description_as_libvirt() -> None:
    assert run("qvirt", sys.executable) == run("libvirt", SYSTEM_PYTHON)
