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

from qvirt import constants as C
from qvirt.cli.virsh.control import Abort, Control
from qvirt.cli.virsh.grammar import DOMAIN_OPT, Args, Command, Opt, OptType
from qvirt.errors import InternalError, QvirtError

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


def cmd_edit(ctl: Control, args: Args) -> bool:
    dom = ctl.lookup_domain(args)
    conn = ctl.connection()
    query_flags = C.VIR_DOMAIN_XML_SECURE | C.VIR_DOMAIN_XML_INACTIVE
    define_flags = 0 if args.get("skip-validate") else C.VIR_DOMAIN_DEFINE_VALIDATE
    with ctl.failing(None):
        doc = dom.XMLDesc(query_flags)
    path = write_temp(ctl, doc)
    relax_avail = True
    try:
        edited = _edit_once(ctl, path)
        if edited == doc:
            ctl.print_extra(f"Domain '{dom.name()}' XML configuration not changed.\n")
            return True
        while True:
            msg = None
            with ctl.failing(None):
                reread = dom.XMLDesc(query_flags)
            if reread != doc:
                msg = "The XML configuration was changed by another user."
                doc = reread
            if msg is None:
                try:
                    defined = conn.defineXMLFlags(edited, define_flags)
                except QvirtError as err:
                    ctl.last_error = err
                    msg = "Failed."
                else:
                    ctl.print_extra(f"Domain '{defined.name()}' XML configuration edited.\n")
                    return True
            key = ask_reedit(ctl, msg, relax_avail)
            if key == "y":
                edited = _edit_once(ctl, path)
                if edited == doc:
                    ctl.print_extra(f"Domain '{dom.name()}' XML configuration not changed.\n")
                    return True
            elif key == "i" and relax_avail:
                define_flags &= ~C.VIR_DOMAIN_DEFINE_VALIDATE
                relax_avail = False
            elif key == "f":
                continue
            elif key in ("n", "i"):
                return False
            else:
                # No terminal to ask on: virsh 9.0 says why, then leaves the loop by the
                # success path with no domain defined, and so says so (and exits 0).
                ctl.error(msg)
                ctl.last_error = None
                ctl.print_extra("Domain '(null)' XML configuration edited.\n")
                return True
    finally:
        os.unlink(path)


def _edit_once(ctl: Control, path: str) -> str:
    run_editor(ctl, path)
    return read_back(ctl, path)


EDIT = Command("edit", cmd_edit, "edit XML configuration for a domain",
               "Edit the XML configuration for a domain.", (
                   DOMAIN_OPT,
                   Opt("skip-validate", OptType.BOOL,
                       "skip validation of the XML against the schema")))
