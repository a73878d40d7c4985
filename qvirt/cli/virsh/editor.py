"""virsh's editing helpers (vsh.c's vshEdit*, vshAskReedit) and the commands built on them:
edit (virsh-edit.c's loop as cmdEdit includes it) and desc. A document goes to a temporary
file, $VISUAL or $EDITOR (vi by default) edits it, and what comes back is compared and
defined; a definition that fails asks, on a terminal, whether to edit again."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
import termios
import tty
from collections.abc import Callable

from lxml import etree

import qvirt
from qvirt import constants as C
from qvirt.cli.virsh.control import Abort, Control
from qvirt.cli.virsh.grammar import DOMAIN_OPT, Args, Command, Opt, OptType
from qvirt.errors import ErrorNumber, InternalError, QvirtError

# vshEditFile: an editor named only with these runs directly, any other through sh -c.
ACCEPTED_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:@/")
STDIN = 0


def write_temp(ctl: Control, doc: str) -> str:
    """vshEditWriteToTempFile: $TMPDIR/virshXXXXXX.xml, the document in it."""
    tmpdir = os.environ.get("TMPDIR") or "/tmp"
    try:
        fd, path = tempfile.mkstemp(prefix="virsh", suffix=".xml", dir=tmpdir)
    except OSError as err:
        raise ctl.fail(f"g_mkstemp_full: failed to create temporary file: "
                       f"{os.strerror(err.errno or 0)}") from err
    with os.fdopen(fd, "w") as file:
        file.write(doc)
    return path


def run_editor(ctl: Control, path: str) -> None:
    """vshEditFile: the editor on the terminal virsh has; its failure is libvirt's error."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    if set(editor) <= ACCEPTED_CHARS:
        argv = [editor, path]
    else:
        if not set(path) <= ACCEPTED_CHARS:
            raise ctl.fail(f"{path}: temporary filename contains shell meta or other "
                           "unacceptable characters (is $TMPDIR wrong?)")
        argv = ["sh", "-c", f"{editor} {path}"]
    ctl.out.flush()
    try:
        status = subprocess.run(argv, check=False).returncode
    except OSError as err:
        ctl.last_error = InternalError(f"Cannot run program '{argv[0]}': "
                                       f"{os.strerror(err.errno or 0)}")
        ctl.report_error()
        raise Abort from err
    if status != 0:
        what = f"fatal signal {-status}" if status < 0 else f"exit status {status}"
        ctl.last_error = InternalError(
            f"Child process ({shlex.join(argv)}) unexpected {what}")
        ctl.report_error()
        raise Abort


def read_back(ctl: Control, path: str) -> str:
    """vshEditReadBackFile."""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as file:
            return file.read()
    except OSError as err:
        raise ctl.fail(f"{path}: failed to read temporary file: "
                       f"{os.strerror(err.errno or 0)}") from err


HELP_LINES = (("", "y - yes, start editor again", "n - no, throw away my changes"),
              ("i - turn off validation and try to redefine again",),
              ("f - force, try to redefine again", "? - print this help"))


def ask_reedit(ctl: Control, msg: str, relax_avail: bool) -> str | None:
    """vshAskReedit: the libvirt error, then one key on the raw terminal; None without a
    terminal."""
    if not os.isatty(STDIN):
        return None
    ctl.report_error()
    saved = termios.tcgetattr(STDIN)
    tty.setraw(STDIN)
    try:
        while True:
            choices = "[y,n,i,f,?]" if relax_avail else "[y,n,f,?]"
            ctl.print(f"\r{msg} Try again? {choices}: ")
            ctl.out.flush()
            key = os.read(STDIN, 1).decode(errors="replace").lower()
            if key == "?":
                for i, lines in enumerate(HELP_LINES):
                    if i != 1 or relax_avail:
                        ctl.print("".join(f"{line}\r\n" for line in lines))
                continue
            if key in ("y", "n", "f") or (relax_avail and key == "i"):
                break
    finally:
        termios.tcsetattr(STDIN, termios.TCSAFLUSH, saved)
    ctl.print("\r\n")
    return key


def edit_loop(ctl: Control, name: str, doc: str, reread: Callable[[], str],
              define: Callable[[str, bool], str], label: str, *, relax: bool,
              validate: bool = True) -> bool:
    """virsh-edit.c's loop, which virsh includes once per object kind: ``doc`` to the
    editor, back, compared with what the object says now (``reread``) and defined
    (``define(xml, validate)`` answers the defined object's name). ``label`` formats a name
    as virsh's messages do ("Domain '{}'", "Pool {}"); ``relax`` offers the 'i' answer
    (turn validation off), which only the domain's loop has."""
    path = write_temp(ctl, doc)
    try:
        edited = _edit_once(ctl, path)
        if edited == doc:
            ctl.print_extra(f"{label.format(name)} XML configuration not "
                            "changed.\n")
            return True
        while True:
            msg = None
            now = reread()
            if now != doc:
                msg = "The XML configuration was changed by another user."
                doc = now
            if msg is None:
                try:
                    name = define(edited, validate)
                except QvirtError as err:
                    ctl.last_error = err
                    msg = "Failed."
                else:
                    ctl.print_extra(f"{label.format(name)} XML configuration edited.\n")
                    return True
            key = ask_reedit(ctl, msg, relax)
            if key == "y":
                edited = _edit_once(ctl, path)
                if edited == doc:
                    ctl.print_extra(f"{label.format(name)} XML configuration "
                                    "not changed.\n")
                    return True
            elif key == "i" and relax:
                validate = relax = False
            elif key == "f":
                continue
            elif key in ("n", "i"):
                return False
            else:
                # No terminal to ask on: virsh 9.0 says why, then leaves the loop by the
                # success path with nothing defined, and so says so (and exits 0).
                ctl.error(msg)
                ctl.last_error = None
                ctl.print_extra(f"{label.format('(null)')} XML configuration edited.\n")
                return True
    finally:
        os.unlink(path)


def cmd_edit(ctl: Control, args: Args) -> bool:
    dom = ctl.lookup_domain(args)
    conn = ctl.connection()
    query_flags = C.VIR_DOMAIN_XML_SECURE | C.VIR_DOMAIN_XML_INACTIVE

    def reread() -> str:
        with ctl.failing(None):
            return dom.XMLDesc(query_flags)

    def define(xml: str, validate: bool) -> str:
        flags = C.VIR_DOMAIN_DEFINE_VALIDATE if validate else 0
        return str(conn.defineXMLFlags(xml, flags).name())

    return edit_loop(ctl, dom.name(), reread(), reread, define, "Domain '{}'", relax=True,
                     validate=not args.get("skip-validate"))


def _edit_once(ctl: Control, path: str) -> str:
    run_editor(ctl, path)
    return read_back(ctl, path)


def cmd_desc(ctl: Control, args: Args) -> bool:
    live, config, current = (bool(args.get(n)) for n in ("live", "config", "current"))
    title, edit = bool(args.get("title")), bool(args.get("edit"))
    ctl.exclusive(args, "current", "live")
    ctl.exclusive(args, "current", "config")
    flags = (C.VIR_DOMAIN_AFFECT_CONFIG if config else 0) | \
        (C.VIR_DOMAIN_AFFECT_LIVE if live else 0)
    query_flags = C.VIR_DOMAIN_XML_INACTIVE if config else 0
    del current
    dom = ctl.lookup_domain(args)
    kind = C.VIR_DOMAIN_METADATA_TITLE if title else C.VIR_DOMAIN_METADATA_DESCRIPTION
    what = "title" if title else "description"
    words = args.get("new-desc")
    given = " ".join(words).rstrip(" ") if isinstance(words, list) and words else None
    if not edit and given is None:
        text = _description(ctl, dom, title, query_flags)
        if text:
            ctl.print(text)
        else:
            ctl.print_extra(f"No {what} for domain: {dom.name()}")
        return True
    current_text = _description(ctl, dom, title, query_flags)
    new = current_text if given is None else given
    if edit:
        path = write_temp(ctl, new)
        try:
            edited = _edit_once(ctl, path)
        finally:
            os.unlink(path)
        if title and edited.endswith("\n"):
            edited = edited[:-1]
        if edited == current_text:
            ctl.print_extra(f"Domain {what} not changed\n")
            return True
        new = edited
    with ctl.failing(f"Failed to set new domain {what}"):
        dom.setMetadata(kind, new, None, None, flags)
    ctl.print_extra(f"Domain {what} updated successfully")
    return True


def _description(ctl: Control, dom: qvirt.virDomain, title: bool, flags: int) -> str:
    """virshGetDomainDescription: the metadata API, "" where there is none, and the XML where
    the driver has no such API."""
    kind = C.VIR_DOMAIN_METADATA_TITLE if title else C.VIR_DOMAIN_METADATA_DESCRIPTION
    try:
        return dom.metadata(kind, None, flags)
    except QvirtError as err:
        if err.code == ErrorNumber.NO_DOMAIN_METADATA:
            return ""
        if err.code != ErrorNumber.NO_SUPPORT:
            ctl.last_error = err
            raise Abort from err
    with ctl.failing(None):
        xml = dom.XMLDesc(flags)
    found = etree.fromstring(xml.encode()).findtext("title" if title else "description")
    return found or ""


DESC = Command("desc", cmd_desc, "show or set domain's description or title",
               "Allows setting or modifying the description or title of a domain.", (
                   DOMAIN_OPT,
                   Opt("live", OptType.BOOL, "modify/get running state"),
                   Opt("config", OptType.BOOL, "modify/get persistent configuration"),
                   Opt("current", OptType.BOOL, "modify/get current state configuration"),
                   Opt("title", OptType.BOOL, "modify/get the title instead of description"),
                   Opt("edit", OptType.BOOL, "open an editor to modify the description"),
                   Opt("new-desc", OptType.ARGV, "message")))


EDIT = Command("edit", cmd_edit, "edit XML configuration for a domain",
               "Edit the XML configuration for a domain.", (
                   DOMAIN_OPT,
                   Opt("skip-validate", OptType.BOOL,
                       "skip validation of the XML against the schema")))
