"""The wire schema of the change feed: validating a page of changes before anything is applied.

A page from the server is untrusted input. `parse_changes` checks every change and field and
raises WireError naming the change index and field on the first problem, so a malformed page
is rejected whole rather than half-applied. Unknown extra fields are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

from agentcli.domain.cases import CaseState, CaseType
from agentcli.domain.vocabulary import (
    AuthorKind,
    Channel,
    MessageKind,
    Priority,
    Role,
    Status,
    Tier,
)


class WireError(ValueError):
    """A change page that does not match the schema; nothing from it may be applied."""


Check = Callable[[Any], Any]


# What SQLite can store: a larger integer would fail the apply (or turn into a float in its JSON).
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("expected an integer")
    if not INT64_MIN <= value <= INT64_MAX:
        raise ValueError("expected an integer within 64 bits")
    return value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("expected true or false")
    return value


def parse_time(value: Any) -> int:
    """ISO 8601 with a timezone -> Unix seconds."""
    moment = datetime.fromisoformat(_str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("expected a time with a timezone")
    return int(moment.timestamp())


def _str_list(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise TypeError("expected a list of strings")
    return [_str(item) for item in value]


def _json(value: Any) -> Any:
    return value


def _enum(kind: type) -> Check:
    # A dict hit for the valid values (most of a page's checks); anything else goes through
    # the enum itself, so errors read exactly as before.
    known = {str(member.value): str(member) for member in kind}  # type: ignore[attr-defined]

    def check(value: Any) -> str:
        if type(value) is str and value in known:
            return known[value]
        return str(kind(_str(value)))

    check.values = tuple(known)  # type: ignore[attr-defined]  # read by wire_decode
    return check


def _optional(check: Check) -> Check:
    def optional(value: Any) -> Any:
        return None if value is None else check(value)

    optional.inner = check  # type: ignore[attr-defined]  # read by _compile_checker, wire_decode
    return optional


_FIELD_NAME = re.compile(r"[a-z_]{1,32}")


def _name(value: Any) -> str:
    """A non-empty identifier (an audit event's field): lowercase letters and underscores.

    Not a fixed list, so an event about a field a newer server tracks still applies."""
    if not _FIELD_NAME.fullmatch(_str(value)):
        raise ValueError("expected a lowercase field name")
    return value


def _nonempty(value: Any) -> str:
    if not _str(value):
        raise ValueError("expected a non-empty string")
    return value


_RANKS = {str(member.value): member.rank for member in Priority}


def _priority_rank(value: Any) -> int:
    if type(value) is str and value in _RANKS:
        return _RANKS[value]
    return Priority(_str(value)).rank


# Field name -> check, per change kind. Checks return the value as the local store keeps it.
SCHEMAS: dict[str, dict[str, Check]] = {
    "ticket": {
        "id": _int,
        "subject": _str,
        "status": _enum(Status),
        "priority": _priority_rank,
        "channel": _enum(Channel),
        "queue": _str,
        "assignee": _optional(_str),
        "requester_id": _int,
        "language": _str,
        "tags": _str_list,
        "order_id": _optional(_int),
        "case_type": _optional(_enum(CaseType)),
        "case_state": _optional(_enum(CaseState)),
        "created_at": parse_time,
        "updated_at": parse_time,
        "first_reply_due": _optional(parse_time),
        "next_reply_due": _optional(parse_time),
        "resolution_due": _optional(parse_time),
        "snoozed_until": _optional(parse_time),
        "version": _int,
    },
    "message": {
        "id": _int,
        "ticket_id": _int,
        "kind": _enum(MessageKind),
        "author_kind": _enum(AuthorKind),
        "author": _str,
        "channel": _enum(Channel),
        "body": _str,
        "created_at": parse_time,
    },
    "customer": {
        "id": _int,
        "name": _str,
        "locale": _str,
        "tier": _enum(Tier),
        "email": _optional(_str),
        "phone": _optional(_str),
        "handles": _json,
    },
    "order": {
        "id": _int,
        "number": _str,
        "customer_id": _int,
        "items": _json,
        "total": _str,
        "currency": _str,
        "placed_at": parse_time,
        "carrier": _optional(_str),
        "tracking_number": _optional(_str),
        "shipped_at": _optional(parse_time),
        "delivered_at": _optional(parse_time),
    },
    "agent": {
        "login": _str,
        "name": _str,
        "role": _enum(Role),
        "languages": _str_list,
        "capacity": _int,
        "queues": _str_list,
        "active": _bool,
    },
    # One line of a ticket's audit trail (agentcli.server.audit).
    "event": {
        "id": _int,
        "ticket_id": _int,
        "at": parse_time,
        "actor": _nonempty,
        "client": _optional(_str),
        "field": _name,
        "old": _optional(_str),
        "new": _optional(_str),
    },
}


class Change(NamedTuple):  # a tuple: half the cost of a frozen dataclass (~400k per first sync)
    seq: int
    kind: str
    data: dict[str, Any]


# Tests the compiled checkers inline instead of calling _int/_str/_bool ({} is the value). They
# are stricter than the checks (bool is not an int here, nor is a str subclass a str): anything
# they refuse is checked again the slow way, which accepts or explains it.
_INLINE_TYPES: dict[Check, str] = {
    _int: f"type({{0}}) is int and {INT64_MIN} <= {{0}} <= {INT64_MAX}",
    _str: "type({0}) is str",
    _bool: "type({0}) is bool",
}


def _compile_checker(kind: str, schema: dict[str, Check]) -> Callable[[dict[str, Any]], Any]:
    """One generated function per kind: the fields' checks without a call per field.

    A first sync validates ~400k changes; per-field calls and the loop around them were a
    third of applying a page. It raises (KeyError, TypeError, ValueError) on any problem,
    without saying which: parse_changes then rechecks that change field by field.
    """
    env: dict[str, Any] = {}
    lines = [f"def check_{kind}(data):"]
    values = []
    for i, (name, check) in enumerate(schema.items()):
        var = f"v{i}"
        lines.append(f"    {var} = data[{name!r}]")
        inner = getattr(check, "inner", None)
        if check in _INLINE_TYPES:
            lines.append(f"    if not ({_INLINE_TYPES[check].format(var)}): raise TypeError")
        elif inner in _INLINE_TYPES:
            lines.append(
                f"    if {var} is not None and not ({_INLINE_TYPES[inner].format(var)}):"
                " raise TypeError"
            )
        else:
            env[f"check{i}"] = check
            lines.append(f"    {var} = check{i}({var})")
        values.append(f"{name!r}: {var}")
    lines.append(f"    return {{{', '.join(values)}}}")
    exec("\n".join(lines), env)  # our own code, built from SCHEMAS above
    return env[f"check_{kind}"]


_CHECKERS = {kind: _compile_checker(kind, schema) for kind, schema in SCHEMAS.items()}


def parse_changes(raw: Any, *, after: int) -> list[Change]:
    """Validate a page of changes that must all come after cursor `after`, in seq order."""
    if not isinstance(raw, list):
        raise WireError("changes: expected a list")
    changes: list[Change] = []
    last = after
    checkers = _CHECKERS
    for index, item in enumerate(raw):
        # Fast path for a well-formed change; anything else goes the slow way, which either
        # accepts it (the fast path is stricter) or raises the WireError that explains it.
        try:
            seq, kind, data = item["seq"], item["kind"], item["data"]
            if type(seq) is not int or seq <= last or type(data) is not dict:
                raise TypeError
            checked = checkers[kind](data)
        except (KeyError, TypeError, ValueError):
            seq, kind, checked = _parse_one(index, item, last)
        changes.append(Change(seq, kind, checked))
        last = seq
    return changes


def _parse_one(index: int, item: Any, last: int) -> tuple[int, str, dict[str, Any]]:
    """One change checked step by step, naming the first problem."""
    where = f"changes[{index}]"
    if not isinstance(item, dict):
        raise WireError(f"{where}: expected an object")
    try:
        seq = _int(item.get("seq"))
    except (TypeError, ValueError) as error:
        raise WireError(f"{where}.seq: {error}") from None
    if seq <= last:
        raise WireError(f"{where}.seq: {seq} does not come after {last} (cursor went back)")
    kind = item.get("kind")
    schema = SCHEMAS.get(kind) if isinstance(kind, str) else None
    if schema is None:
        raise WireError(f"{where}.kind: unknown change kind {kind!r}")
    data = item.get("data")
    if not isinstance(data, dict):
        raise WireError(f"{where}.data: expected an object")
    return seq, kind, _check_fields(where, schema, data)


def _check_fields(where: str, schema: dict[str, Check], data: dict[str, Any]) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    for name, check in schema.items():
        if name not in data:
            raise WireError(f"{where}.data.{name}: missing")
        try:
            checked[name] = check(data[name])
        except (TypeError, ValueError) as error:
            raise WireError(f"{where}.data.{name}: {error} (got {data[name]!r:.80})") from None
    return checked
