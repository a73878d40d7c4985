"""Handler makers for the procedures of a driver part (storage, network): a procedure's
arguments by field name, each turned from its wire shape into what the driver takes by the
part's converters, and its reply as one field. One maker per part, not a copy per module."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qvirt.daemon.dispatch import Handler, Session

Convert = Callable[[Any], Any]


class Adapters:
    """``convert``: wire field name -> converter; fields not named pass as they are."""

    def __init__(self, convert: dict[str, Convert]) -> None:
        self._convert = convert

    def _args(self, args: Any, names: tuple[str, ...]) -> list[Any]:
        return [self._convert.get(n, _same)(args[n]) for n in names]

    def void(self, api: str, *names: str) -> Handler:
        """A procedure with no reply body."""
        def handler(s: Session, args: Any) -> None:
            s.api(api, *self._args(args, names))
        return handler

    def value(self, api: str, key: str, *names: str, convert: Convert = int) -> Handler:
        """A procedure replying one field ``key``."""
        def handler(s: Session, args: Any) -> dict[str, Any]:
            return {key: convert(s.api(api, *self._args(args, names)))}
        return handler


def _same(value: Any) -> Any:
    return value
