"""Run by Debian's /usr/bin/python3 (python3-libvirt), never imported: the one client both
daemons are timed with. argv: URI and the name prefix of the domains it defines.

One command per stdin line, "OP COUNT": the helper does OP COUNT times and prints "ok"
(after "undefine": the number undefined). Ops: define (the next COUNT domains PREFIXn),
version, lookup, info, xml (cycling over the domains defined), list (listAllDomains),
undefine (every domain this helper defined, COUNT ignored).
"""

import sys

import libvirt  # python3-libvirt: the peer's client, benchmarks only

XML = ("<domain type='qemu'><name>{name}</name><memory unit='KiB'>65536</memory>"
       "<os><type arch='x86_64'>hvm</type></os></domain>")


def main():
    uri, prefix = sys.argv[1], sys.argv[2]
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    conn = libvirt.open(uri)
    names = []
    doms = []
    turn = 0

    def domains(count):
        nonlocal turn
        for _ in range(count):
            yield doms[turn % len(doms)]
            turn += 1

    for line in sys.stdin:
        op, count = line.split()
        count = int(count)
        if op == "define":
            for _ in range(count):
                name = f"{prefix}{len(names)}"
                doms.append(conn.defineXML(XML.format(name=name)))
                names.append(name)
        elif op == "version":
            for _ in range(count):
                conn.getVersion()
        elif op == "lookup":
            for dom in domains(count):
                conn.lookupByName(dom.name())
        elif op == "info":
            for dom in domains(count):
                dom.info()
        elif op == "xml":
            for dom in domains(count):
                dom.XMLDesc(0)
        elif op == "list":
            for _ in range(count):
                found = conn.listAllDomains(0)
            assert len(found) >= len(doms), (len(found), len(doms))
        elif op == "undefine":
            for name in names:
                conn.lookupByName(name).undefine()
            print(len(names), flush=True)
            names.clear()
            doms.clear()
            continue
        else:
            raise ValueError(op)
        print("ok", flush=True)


if __name__ == "__main__":
    main()
