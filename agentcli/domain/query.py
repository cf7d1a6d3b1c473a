"""The inbox query language: parse a line such as

    status:open,pending assignee:me priority:>=high tag:破损 -tag:vip sla:<30m "外包装破损" sort:sla

into a frozen `InboxQuery`. Pure: no I/O and no clock; relative times stay relative
(`Duration`) until the store compiles them against `now`.

Grammar (whitespace separates terms; every term may start with `-` to negate it):

    term   := ['-'] (field ':' value (',' value)* | word | '"' phrase '"')
    value  := bare | '"' chars '"'          (inside quotes: \\" and \\\\ are escapes)

Commas OR values within a term; terms AND together (so `tag:a tag:b` needs both tags).
Bare words and quoted phrases are full-text terms, handed on as strings (a phrase keeps its
quotes so the search layer can tell it from loose words).

Sorting: `sort:sla|updated|created|priority`. A bare key uses its natural direction (sla
ascending = most urgent first; updated, created and priority descending = newest or highest
first); `-key` / `key-desc` force descending and `+key` / `key-asc` ascending. With no
sort term the inbox is sorted by `updated`, newest first (`DEFAULT_SORT`), because that is the
one order that suits every view; built-in triage views ask for `sort:sla` explicitly.

Every malformed input raises `QuerySyntaxError` (never anything else) with `.position`,
a 0-based character offset into the text, and `.expected`, what would have been accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from agentcli.domain.cases import CaseState, CaseType
from agentcli.domain.vocabulary import LANGUAGES, Channel, Priority, Status

# Bounds keep every compiled number inside SQLite's signed 64-bit integers.
MAX_DURATION = 200 * 366 * 86400  # 200 years, in seconds
MAX_ID = 2**63 - 1
COMPARISON_OPS = ("<=", ">=", "<", ">")  # longest first, so "<=" is not read as "<"


class QuerySyntaxError(ValueError):
    """A query that does not parse; `position` is a 0-based offset into the query text."""

    def __init__(self, position: int, expected: str, got: str | None) -> None:
        self.position = position
        self.expected = expected
        self.got = got
        found = "end of query" if got is None else f'"{got}"'
        super().__init__(f"position {position}: expected {expected}, got {found}")


class Field(StrEnum):
    STATUS = "status"
    ASSIGNEE = "assignee"
    QUEUE = "queue"
    CHANNEL = "channel"
    PRIORITY = "priority"
    TAG = "tag"
    LANG = "lang"
    CASE = "case"
    STATE = "state"
    SLA = "sla"
    CREATED = "created"
    UPDATED = "updated"
    ID = "id"
    REQUESTER = "requester"
    IS = "is"


# Alternative spellings people type; they parse to the canonical field.
_FIELD_ALIASES = {"language": Field.LANG, "assigned": Field.ASSIGNEE, "type": Field.CASE}


class Who(StrEnum):
    """Assignee keywords; a quoted value (`assignee:"me"`) is always a literal login."""

    ME = "me"
    NOBODY = "none"


class CasePresence(StrEnum):
    NONE = "none"  # no after-sale case on the ticket
    ANY = "any"  # some case, whatever its type


class SlaState(StrEnum):
    BREACHED = "breached"  # a running SLA target is past due
    NONE = "none"  # no SLA clock running (paused, solved, closed)
    ANY = "any"  # some SLA clock running


class Flag(StrEnum):
    PENDING = "pending"  # local changes not yet settled by the server
    SNOOZED = "snoozed"  # snoozed until a time still in the future


class SortKey(StrEnum):
    SLA = "sla"
    UPDATED = "updated"
    CREATED = "created"
    PRIORITY = "priority"


# Natural direction of each key: True = descending.
NATURAL_DESCENDING = {
    SortKey.SLA: False,
    SortKey.UPDATED: True,
    SortKey.CREATED: True,
    SortKey.PRIORITY: True,
}


@dataclass(frozen=True, slots=True)
class Sort:
    key: SortKey
    descending: bool


DEFAULT_SORT = Sort(SortKey.UPDATED, descending=True)


@dataclass(frozen=True, slots=True)
class Compare:
    """An absolute comparison: a priority rank, a ticket id, or Unix seconds for a date.

    A date names a span of `span` seconds (a UTC day, or a minute when a time is given):
    `created:2026-11-01` is that whole day, `>2026-11-01` after it, `<=2026-11-01` up to its end.
    """

    op: str
    value: int
    span: int = 1


@dataclass(frozen=True, slots=True)
class Duration:
    """A comparison against a time relative to now, in seconds.

    For created/updated it compares the age (`>7d` = older than 7 days); for sla it compares
    the time left before the due time (`<30m` = due within 30 minutes, not yet breached).
    """

    op: str
    seconds: int


Value = (
    Status
    | Channel
    | Priority
    | CaseType
    | CaseState
    | Who
    | CasePresence
    | SlaState
    | Flag
    | Compare
    | Duration
    | str
    | int
)


@dataclass(frozen=True, slots=True)
class Term:
    """One `field:v1,v2` term: true when any value matches (or none, when negated)."""

    field: Field
    values: tuple[Value, ...]
    negated: bool = False
    position: int = 0


@dataclass(frozen=True, slots=True)
class InboxQuery:
    terms: tuple[Term, ...] = ()
    text: tuple[str, ...] = ()  # full-text terms every ticket must match
    excluded_text: tuple[str, ...] = ()  # full-text terms no ticket may match
    sort: Sort = DEFAULT_SORT
    explicit_sort: bool = field(default=False, compare=False)

    def fields(self) -> frozenset[Field]:
        return frozenset(term.field for term in self.terms)


@dataclass(frozen=True, slots=True)
class _Raw:
    """A value as typed: its text (quotes removed), where it starts, and whether it was quoted."""

    text: str
    position: int
    quoted: bool


# ---------------------------------------------------------------- lexing


def _is_space(char: str) -> bool:
    return char.isspace()


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    """Read a quoted string starting at the `"` at `start`; return (content, index after it)."""
    out: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in '"\\':
            out.append(text[i + 1])
            i += 2
            continue
        if char == '"':
            return "".join(out), i + 1
        out.append(char)
        i += 1
    raise QuerySyntaxError(start, 'a closing quote (") for this quote', None)


def _read_bare(text: str, start: int, stops: str) -> int:
    """Index of the first whitespace or `stops` character at or after `start`."""
    i = start
    while i < len(text) and not _is_space(text[i]) and text[i] not in stops:
        i += 1
    return i


def _expect_separator(text: str, i: int) -> None:
    """After a term, only whitespace or the end may follow."""
    if i < len(text) and not _is_space(text[i]):
        raise QuerySyntaxError(i, "a space between terms", text[i])


def _read_values(text: str, start: int) -> tuple[list[_Raw], int]:
    """Read `v1,v2,...` after a field's colon; return the values and the index after them."""
    values: list[_Raw] = []
    i = start
    while True:
        if i < len(text) and text[i] == '"':
            opening = i
            content, i = _read_quoted(text, i)
            values.append(_Raw(content, opening + 1, True))
        else:
            end = _read_bare(text, i, ',"')
            if end == i:
                got = text[i] if i < len(text) else None
                raise QuerySyntaxError(i, "a value", got)
            values.append(_Raw(text[i:end], i, False))
            i = end
        if i < len(text) and text[i] == ",":
            i += 1
            continue
        _expect_separator(text, i)
        return values, i


# ---------------------------------------------------------------- values


def _choice(raw: _Raw, kind: str, options: dict[str, Value]) -> Value:
    found = options.get(raw.text.casefold())
    if found is None:
        listed = ", ".join(dict.fromkeys(str(o) for o in options.values()))
        raise QuerySyntaxError(raw.position, f"{kind} ({listed})", raw.text)
    return found


def _enum_options(enum: type[StrEnum]) -> dict[str, Value]:
    return {member.value.casefold(): member for member in enum}


_STATUS = _enum_options(Status)
_CHANNEL = _enum_options(Channel)
_PRIORITY = _enum_options(Priority)
_CASE_STATE = _enum_options(CaseState)
_CASE = {**_enum_options(CaseType), **_enum_options(CasePresence)}
_FLAG = _enum_options(Flag)
_SLA_STATE = _enum_options(SlaState)
_LANG = {code.casefold(): code for code in LANGUAGES}
_SORT_KEYS = _enum_options(SortKey)

_DURATION_RE = re.compile(r"(?:[0-9]{1,12}[smhdw])+", re.ASCII)
_DURATION_PART = re.compile(r"([0-9]+)([smhdw])", re.ASCII)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2})?", re.ASCII)
_DATE_START = re.compile(r"[0-9]{4}-", re.ASCII)
_INT_RE = re.compile(r"[0-9]{1,19}", re.ASCII)


def _split_op(raw: _Raw) -> tuple[str | None, _Raw]:
    """Split a leading comparison operator off a value: (`>=`, rest) or (None, raw)."""
    for op in COMPARISON_OPS:
        if raw.text.startswith(op):
            rest = _Raw(raw.text[len(op) :], raw.position + len(op), raw.quoted)
            if not rest.text:
                raise QuerySyntaxError(rest.position, f"a value after {op}", None)
            return op, rest
    if raw.text.startswith("="):  # `=high` is the same as `high`
        rest = _Raw(raw.text[1:], raw.position + 1, raw.quoted)
        if not rest.text:
            raise QuerySyntaxError(rest.position, "a value after =", None)
        return None, rest
    return None, raw


def _duration(raw: _Raw) -> int:
    if not _DURATION_RE.fullmatch(raw.text):
        raise QuerySyntaxError(raw.position, "a duration such as 30m, 2h, 7d or 1h30m", raw.text)
    seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(raw.text))
    if seconds > MAX_DURATION:
        raise QuerySyntaxError(raw.position, "a duration of at most 200 years", raw.text)
    return seconds


def _date(raw: _Raw) -> tuple[int, int]:
    """Unix seconds of a UTC date (or date and minute), and the span it names."""
    if _DATE_RE.fullmatch(raw.text):
        has_time = "T" in raw.text
        pattern = "%Y-%m-%dT%H:%M" if has_time else "%Y-%m-%d"
        try:
            moment = datetime.strptime(raw.text, pattern).replace(tzinfo=UTC)
        except ValueError:
            pass  # e.g. 2026-02-30: right shape, no such day
        else:
            return int(moment.timestamp()), 60 if has_time else 86400
    raise QuerySyntaxError(raw.position, "a date such as 2026-11-01 or 2026-11-01T09:30", raw.text)


def _integer(raw: _Raw, kind: str) -> int:
    if not _INT_RE.fullmatch(raw.text) or int(raw.text) > MAX_ID:
        raise QuerySyntaxError(raw.position, kind, raw.text)
    return int(raw.text)


def _status(raw: _Raw) -> Value:
    return _choice(raw, "a status", _STATUS)


def _channel(raw: _Raw) -> Value:
    return _choice(raw, "a channel", _CHANNEL)


def _state(raw: _Raw) -> Value:
    return _choice(raw, "a case state", _CASE_STATE)


def _case(raw: _Raw) -> Value:
    return _choice(raw, "a case type or none/any", _CASE)


def _flag(raw: _Raw) -> Value:
    return _choice(raw, "a flag", _FLAG)


def _lang(raw: _Raw) -> Value:
    return _choice(raw, "a language", _LANG)


def _name(raw: _Raw) -> Value:
    """Free-form names (queues, tags): kept exactly as typed."""
    return raw.text


def _assignee(raw: _Raw) -> Value:
    if not raw.quoted:
        word = raw.text.casefold()
        if word == "me":
            return Who.ME
        if word in ("none", "unassigned", "nobody"):
            return Who.NOBODY
    return raw.text


def _priority(raw: _Raw) -> Value:
    op, rest = _split_op(raw)
    priority = Priority(_choice(rest, "a priority", _PRIORITY))
    return priority if op is None else Compare(op, priority.rank)


def _sla(raw: _Raw) -> Value:
    op, rest = _split_op(raw)
    if op is None:
        return _choice(rest, "an SLA state or a time left such as <30m", _SLA_STATE)
    return Duration(op, _duration(rest))


def _time(raw: _Raw) -> Value:
    """created/updated: `>7d` (older than), `<2h` (newer than), `>=2026-11-01`, `2026-11-01`."""
    op, rest = _split_op(raw)
    if _DATE_START.match(rest.text):
        seconds, span = _date(rest)
        return Compare(op or "=", seconds, span)
    if op is None:
        raise QuerySyntaxError(
            raw.position, "a comparison (<2h newer than, >7d older than) or a date", raw.text
        )
    return Duration(op, _duration(rest))


def _id(raw: _Raw) -> Value:
    op, rest = _split_op(raw)
    number = _integer(rest, "a ticket number")
    return number if op is None else Compare(op, number)


def _requester(raw: _Raw) -> Value:
    """A customer id (digits) or an exact email / name."""
    if not raw.quoted and _INT_RE.fullmatch(raw.text) and int(raw.text) <= MAX_ID:
        return int(raw.text)
    return raw.text


_VALUE_PARSERS = {
    Field.STATUS: _status,
    Field.ASSIGNEE: _assignee,
    Field.QUEUE: _name,
    Field.CHANNEL: _channel,
    Field.PRIORITY: _priority,
    Field.TAG: _name,
    Field.LANG: _lang,
    Field.CASE: _case,
    Field.STATE: _state,
    Field.SLA: _sla,
    Field.CREATED: _time,
    Field.UPDATED: _time,
    Field.ID: _id,
    Field.REQUESTER: _requester,
    Field.IS: _flag,
}

_FIELD_NAMES = ", ".join([*(f.value for f in Field), "sort"])


def _sort(raw: _Raw) -> Sort:
    text = raw.text.casefold()
    descending: bool | None = None
    if text[:1] in "-+" and text:
        descending = text[0] == "-"
        text = text[1:]
    for suffix, desc in (("-desc", True), (":desc", True), ("-asc", False), (":asc", False)):
        if descending is None and text.endswith(suffix):
            descending, text = desc, text[: -len(suffix)]
    key = _SORT_KEYS.get(text)
    if not isinstance(key, SortKey):
        raise QuerySyntaxError(raw.position, "a sort (sla, updated, created, priority)", raw.text)
    return Sort(key, NATURAL_DESCENDING[key] if descending is None else descending)


# ---------------------------------------------------------------- parsing


@dataclass
class _Builder:
    terms: list[Term] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    sort: Sort | None = None

    def build(self) -> InboxQuery:
        return InboxQuery(
            terms=tuple(self.terms),
            text=tuple(self.text),
            excluded_text=tuple(self.excluded),
            sort=self.sort or DEFAULT_SORT,
            explicit_sort=self.sort is not None,
        )


def parse_query(text: str) -> InboxQuery:
    """Parse an inbox query; raise QuerySyntaxError pointing at the first problem."""
    builder = _Builder()
    i = 0
    while True:
        while i < len(text) and _is_space(text[i]):
            i += 1
        if i >= len(text):
            return builder.build()
        i = _parse_term(text, i, builder)


def _parse_term(text: str, start: int, builder: _Builder) -> int:
    """Parse one term at `start` into `builder`; return the index after it."""
    negated = text[start] == "-"
    i = start + 1 if negated else start
    if i >= len(text) or _is_space(text[i]):
        got = None if i >= len(text) else text[i]
        raise QuerySyntaxError(i, "a term after -", got)
    if text[i] == '"':
        content, end = _read_quoted(text, i)
        _expect_separator(text, end)
        _add_text(builder, '"' + content.replace('"', " ") + '"', negated)
        return end
    end = _read_bare(text, i, ':"')
    if end < len(text) and text[end] == ":":
        return _parse_field_term(text, i, end, negated, builder)
    _expect_separator(text, end)
    _add_text(builder, text[i:end], negated)
    return end


def _add_text(builder: _Builder, words: str, negated: bool) -> None:
    (builder.excluded if negated else builder.text).append(words)


def _parse_field_term(text: str, start: int, colon: int, negated: bool, builder: _Builder) -> int:
    name = text[start:colon].casefold()
    if not name:
        raise QuerySyntaxError(start, "a field name before :", ":")
    values, end = _read_values(text, colon + 1)
    if name == "sort":
        _set_sort(builder, values, negated, start)
        return end
    try:
        field_ = _FIELD_ALIASES.get(name) or Field(name)
    except ValueError:
        raise QuerySyntaxError(start, f"a field ({_FIELD_NAMES})", text[start:colon]) from None
    parse_value = _VALUE_PARSERS[field_]
    parsed = tuple(dict.fromkeys(parse_value(raw) for raw in values))
    builder.terms.append(Term(field_, parsed, negated, start - (1 if negated else 0)))
    return end


def _set_sort(builder: _Builder, values: list[_Raw], negated: bool, start: int) -> None:
    if negated:
        raise QuerySyntaxError(start - 1, "sort without a leading -", "-sort")
    if builder.sort is not None:
        raise QuerySyntaxError(start, "only one sort term", "sort")
    if len(values) > 1:
        raise QuerySyntaxError(values[1].position, "a single sort key", values[1].text)
    builder.sort = _sort(values[0])


def quote_value(value: str) -> str:
    """`value` as it must be written in a query: bare when safe, else quoted with escapes."""
    if value and not any(c.isspace() or c in ',"\\' for c in value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
