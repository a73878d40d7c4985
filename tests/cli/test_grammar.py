"""The command table checks itself as vshCmddefCheckInternals does, and the parser reads what
virsh's reads (the byte comparisons with virsh are in tests/compat)."""

from __future__ import annotations

import pytest

from qvirt.cli.virsh.grammar import ParseError, argv_tokens, check_table, parse, string_tokens
from qvirt.cli.virsh.registry import GROUPS, find_command


def test_table_is_sound() -> None:
    assert check_table(GROUPS) == []


def words(line: str) -> list[str | None]:
    return list(string_tokens(line))


def test_tokenizer_quotes_comments_separators() -> None:
    assert words("a 'b c' \"d\\\"e\" f\\ g") == ["a", "b c", 'd"e', "f g"]
    assert words("a;b\nc # rest ; of line\nd") == ["a", None, "b", None, "c", None, "d"]
    assert words("'a\\b'") == ["a\\b"]
    with pytest.raises(ParseError, match="dangling"):
        words("a\\")
    with pytest.raises(ParseError, match='missing "'):
        words('"a')


def test_positionals_options_and_separators() -> None:
    [first, second] = parse(string_tokens("shutdown test acpi; domstate --domain=t --reason"),
                            find_command)
    assert (first.command.name, first.args) == ("shutdown", {"domain": "test", "mode": "acpi"})
    assert second.args == {"domain": "t", "reason": True}


def test_all_missing_required_options_are_reported() -> None:
    with pytest.raises(ParseError) as err:
        parse(argv_tokens(["dominfo"]), find_command)
    assert err.value.args == ("command 'dominfo' requires <domain> option",)


def test_help_option_becomes_help_command() -> None:
    [inv] = parse(argv_tokens(["dominfo", "--help"]), find_command)
    assert (inv.command.name, inv.args) == ("help", {"command": "dominfo"})


def test_keyword_only_option_takes_no_bare_word() -> None:
    with pytest.raises(ParseError, match="unexpected data '/x'"):
        parse(argv_tokens(["dumpxml", "test", "/x"]), find_command)
