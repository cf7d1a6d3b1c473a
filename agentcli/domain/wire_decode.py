"""A change page decoded and checked in one pass: msgspec checks the types as it decodes, in C.

A first sync decodes and checks ~400k changes; json.loads and the checks of
agentcli.domain.wire took a fifth of its CPU. The msgspec types are built from wire.SCHEMAS, so
the two cannot drift apart. This path is stricter than wire.parse_changes, never looser, and
gives the same values: a page it does not take whole (a wrong type, an unknown kind, an
integer past 64 bits, a time in a form fromisoformat does not read as given, a cursor going
back, ...) is None, and the caller checks it the step-by-step way, which accepts it or raises
the error naming the problem.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal, Union

import msgspec

from agentcli.domain.wire import (  # the checks whose msgspec types are known here
    _RANKS,
    INT64_MAX,
    INT64_MIN,
    SCHEMAS,
    Change,
    Check,
    _bool,
    _int,
    _json,
    _priority_rank,
    _str,
    _str_list,
    parse_time,
)

_Int64 = Annotated[int, msgspec.Meta(ge=INT64_MIN, le=INT64_MAX)]


# Times already converted: a page repeats many (a new ticket's created and updated times, its
# opening message's). Emptied when full, so it stays small; only whole results are stored.
_TIMES: dict[str, int] = {}
_TIMES_KEPT = 50_000


def _time(value: str) -> int:
    """parse_time for a string fromisoformat reads as it is (since 3.11 a `Z` too)."""
    seconds = _TIMES.get(value)
    if seconds is None:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("expected a time with a timezone")
        seconds = int(moment.timestamp())
        if len(_TIMES) >= _TIMES_KEPT:
            _TIMES.clear()
        _TIMES[value] = seconds
    return seconds


_PLAIN: dict[Check, Any] = {_int: _Int64, _str: str, _bool: bool, _str_list: list[str], _json: Any}


def _field(check: Check) -> tuple[Any, Callable[[Any], Any] | None]:
    """A checked field's msgspec type, and what still runs on its decoded value (or None)."""
    inner = getattr(check, "inner", None)
    if inner is not None:
        kind, then = _field(inner)
        return Union[kind, None], then  # noqa: UP007  # a runtime type, built from a variable
    if check in _PLAIN:
        return _PLAIN[check], None
    if check is parse_time:
        return str, _time
    if check is _priority_rank:
        return Literal[tuple(_RANKS)], _RANKS.__getitem__
    values = getattr(check, "values", None)  # an enum's
    if values is not None:
        return Literal[values], None
    return str, check  # a string with a rule of its own (a field name, a non-empty string)


def _converter(kind: str, schema: dict[str, Check]) -> Callable[[Any], dict[str, Any]]:
    """One generated function per kind: a decoded struct -> the dict parse_changes would give."""
    env: dict[str, Any] = {}
    items = []
    for i, (name, check) in enumerate(schema.items()):
        value = f"s.{name}"
        then = _field(check)[1]
        if then is not None:
            env[f"then{i}"] = then
            if getattr(check, "inner", None) is None:
                value = f"then{i}({value})"
            else:
                value = f"(None if {value} is None else then{i}({value}))"
        items.append(f"{name!r}: {value}")
    exec(f"def convert_{kind}(s):\n    return {{{', '.join(items)}}}", env)  # from SCHEMAS
    return env[f"convert_{kind}"]


def _change_type(kind: str, schema: dict[str, Check]) -> type:
    data = msgspec.defstruct(
        f"{kind}_data", [(name, _field(check)[0]) for name, check in schema.items()], gc=False
    )
    return msgspec.defstruct(
        f"{kind}_change", [("seq", _Int64), ("data", data)], tag_field="kind", tag=kind, gc=False
    )


_KINDS: dict[type, tuple[str, Callable[[Any], dict[str, Any]]]] = {
    _change_type(kind, schema): (kind, _converter(kind, schema)) for kind, schema in SCHEMAS.items()
}
_PAGE = msgspec.json.Decoder(
    msgspec.defstruct(
        "page",
        [("changes", list[Union[tuple(_KINDS)]]), ("next", int), ("more", bool)],  # noqa: UP007
    )
)


def decode_page(body: bytes, *, after: int) -> tuple[list[Change], int, bool] | None:
    """A page body (`{"changes": [...], "next": n, "more": b}`) following cursor `after`, as
    (changes, next, more) exactly as parse_changes would check them; None: check it that way."""
    try:
        page = _PAGE.decode(body)
        changes: list[Change] = []
        last = after
        kinds = _KINDS
        for item in page.changes:
            seq = item.seq
            if seq <= last:
                return None
            kind, convert = kinds[type(item)]
            changes.append(Change(seq, kind, convert(item.data)))
            last = seq
    except (msgspec.DecodeError, ValueError):
        return None
    if page.next < last or (page.more and not changes):
        return None
    return changes, page.next, page.more
