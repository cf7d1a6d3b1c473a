"""The inbox query language: what parses to what, and where errors point."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentcli.domain.cases import CaseState, CaseType
from agentcli.domain.query import (
    DEFAULT_SORT,
    CasePresence,
    Compare,
    Duration,
    Field,
    Flag,
    InboxQuery,
    QuerySyntaxError,
    SlaState,
    Sort,
    SortKey,
    Term,
    Who,
    parse_query,
    quote_value,
)
from agentcli.domain.vocabulary import Channel, Priority, Status

EXAMPLE = (
    "status:open,pending assignee:me queue:returns channel:email,chat priority:>=high "
    'tag:破损 -tag:vip lang:uk sla:<30m case:refund-only created:>7d "外包装破损" sort:sla'
)


def only_term(text: str) -> Term:
    (term,) = parse_query(text).terms
    return term


def test_the_example_from_the_issue() -> None:
    q = parse_query(EXAMPLE)
    fields = [(t.field, t.values, t.negated) for t in q.terms]
    assert fields == [
        (Field.STATUS, (Status.OPEN, Status.PENDING), False),
        (Field.ASSIGNEE, (Who.ME,), False),
        (Field.QUEUE, ("returns",), False),
        (Field.CHANNEL, (Channel.EMAIL, Channel.CHAT), False),
        (Field.PRIORITY, (Compare(">=", Priority.HIGH.rank),), False),
        (Field.TAG, ("破损",), False),
        (Field.TAG, ("vip",), True),
        (Field.LANG, ("uk",), False),
        (Field.SLA, (Duration("<", 1800),), False),
        (Field.CASE, (CaseType.REFUND_ONLY,), False),
        (Field.CREATED, (Duration(">", 7 * 86400),), False),
    ]
    assert q.text == ('"外包装破损"',)
    assert q.sort == Sort(SortKey.SLA, descending=False)


def test_empty_and_blank_queries_match_everything_newest_first() -> None:
    for text in ("", "   ", "\t\n"):
        assert parse_query(text) == InboxQuery()
    assert parse_query("").sort == DEFAULT_SORT == Sort(SortKey.UPDATED, descending=True)


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("assignee:me", (Who.ME,)),
        ("assignee:none", (Who.NOBODY,)),
        ("assignee:unassigned", (Who.NOBODY,)),
        ("assignee:olena", ("olena",)),
        ('assignee:"me"', ("me",)),  # quoted: a literal login, not the keyword
        ("assignee:ME,li.wei", (Who.ME, "li.wei")),
    ],
)
def test_assignee_values(text: str, values: tuple) -> None:
    assert only_term(text).values == values


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("priority:high", (Priority.HIGH,)),
        ("priority:=high", (Priority.HIGH,)),
        ("priority:<normal", (Compare("<", 1),)),
        ("priority:<=normal,urgent", (Compare("<=", 1), Priority.URGENT)),
        ("priority:>low", (Compare(">", 0),)),
        ("case:none", (CasePresence.NONE,)),
        ("case:any,repair", (CasePresence.ANY, CaseType.REPAIR)),
        ("state:awaiting-return", (CaseState.AWAITING_RETURN,)),
        ("sla:breached,none", (SlaState.BREACHED, SlaState.NONE)),
        ("sla:>=1h30m", (Duration(">=", 5400),)),
        ("updated:<2h", (Duration("<", 7200),)),
        ("created:>=2026-11-01", (Compare(">=", 1793491200, 86400),)),
        ("created:2026-11-01T09:30", (Compare("=", 1793491200 + 9 * 3600 + 1800, 60),)),
        ("id:42,>1000", (42, Compare(">", 1000))),
        ("requester:17", (17,)),
        ('requester:"Olena K."', ("Olena K.",)),
        ("is:pending,snoozed", (Flag.PENDING, Flag.SNOOZED)),
        ("lang:ZH-cn", ("zh-CN",)),
        ("language:uk", ("uk",)),
        ("tag:破损,破损", ("破损",)),  # duplicates collapse
        ("queue:повернення", ("повернення",)),
        ('tag:"two words"', ("two words",)),
        (r'tag:"say \"hi\" \\ bye"', ('say "hi" \\ bye',)),
        ('tag:"a,b",c', ("a,b", "c")),
    ],
)
def test_field_values(text: str, values: tuple) -> None:
    assert only_term(text).values == values


def test_negation_and_positions() -> None:
    q = parse_query("  -tag:vip  status:new")
    assert q.terms[0] == Term(Field.TAG, ("vip",), negated=True, position=2)
    assert q.terms[1].position == 12


def test_text_terms_keep_phrases_quoted() -> None:
    q = parse_query('refund 退款 "外包装 破损" -доставка status:open')
    assert q.text == ("refund", "退款", '"外包装 破损"')
    assert q.excluded_text == ("доставка",)


@pytest.mark.parametrize(
    ("text", "sort"),
    [
        ("sort:sla", Sort(SortKey.SLA, False)),
        ("sort:-sla", Sort(SortKey.SLA, True)),
        ("sort:updated", Sort(SortKey.UPDATED, True)),
        ("sort:+updated", Sort(SortKey.UPDATED, False)),
        ("sort:-updated", Sort(SortKey.UPDATED, True)),
        ("sort:created-asc", Sort(SortKey.CREATED, False)),
        ("sort:created:desc", Sort(SortKey.CREATED, True)),
        ("sort:priority", Sort(SortKey.PRIORITY, True)),
        ("sort:PRIORITY-asc", Sort(SortKey.PRIORITY, False)),
    ],
)
def test_sort(text: str, sort: Sort) -> None:
    q = parse_query(text)
    assert q.sort == sort and q.terms == ()


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        (
            "status:opne",
            7,
            "position 7: expected a status (new, open, pending, on-hold, solved, closed), "
            'got "opne"',
        ),
        ("status:open stauts:new", 12, "expected a field (status, assignee"),
        ('tag:"unbalanced', 4, 'expected a closing quote (") for this quote, got end of query'),
        ('"unbalanced phrase', 0, "closing quote"),
        ("tag:", 4, "expected a value, got end of query"),
        ("tag: vip", 4, 'expected a value, got " "'),
        ("tag:a,,b", 6, 'expected a value, got ","'),
        ("tag:a,", 6, "expected a value, got end of query"),
        ("priority:>>high", 10, 'expected a priority (low, normal, high, urgent), got ">high"'),
        ("priority:>=", 11, "expected a value after >=, got end of query"),
        ("priority:hihg", 9, "expected a priority"),
        ("sla:<30x", 5, "expected a duration"),
        ("sla:soon", 4, "expected an SLA state"),
        ("created:7d", 8, "expected a comparison"),
        ("created:>2026-02-30", 9, "expected a date"),
        ("id:abc", 3, "expected a ticket number"),
        ("id:99999999999999999999", 3, "expected a ticket number"),
        ("sla:<99999999999w", 5, "at most 200 years"),
        ("lang:fr", 5, "expected a language (zh-CN, zh-TW, en, uk)"),
        ("case:maybe", 5, "expected a case type or none/any"),
        ("is:urgent", 3, "expected a flag (pending, snoozed)"),
        ("sort:sla sort:updated", 9, "expected only one sort term"),
        ("-sort:sla", 0, "expected sort without a leading -"),
        ("sort:sla,updated", 9, "expected a single sort key"),
        ("sort:name", 5, "expected a sort (sla, updated, created, priority)"),
        ("-", 1, "expected a term after -, got end of query"),
        ("- tag:x", 1, 'expected a term after -, got " "'),
        (":x", 0, "expected a field name before :"),
        ('tag:"a"b', 7, 'expected a space between terms, got "b"'),
        ('ab"c"', 2, "expected a space between terms"),
        ("http://example.com", 0, 'got "http"'),
    ],
)
def test_errors_point_at_the_problem(text: str, position: int, message: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query(text)
    assert caught.value.position == position
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"position {position}: expected {caught.value.expected}")


@pytest.mark.parametrize("value", ["plain", "two words", 'say "hi"', "a,b", "back\\slash", ""])
def test_quote_value_round_trips(value: str) -> None:
    assert only_term(f"tag:{quote_value(value)}").values == (value,) or value == ""


# ---------------------------------------------------------------- properties

FIELD_WORDS = [f.value for f in Field] + ["sort", "language", "type", "bogus", ""]
VALUE_WORDS = [
    *(s.value for s in Status),
    *(c.value for c in Channel),
    *(p.value for p in Priority),
    *(c.value for c in CaseType),
    *(s.value for s in CaseState),
    "me", "none", "any", "breached", "pending", "snoozed", "zh-CN", "uk", "破损", "повернення",
    "30m", "7d", "1h30m", "2026-11-01", "2026-11-01T09:30", "2026-13-40", "42", "sla",
    "updated", "-updated", "created-asc", "",
]  # fmt: skip
OPS = ["", "<", "<=", ">", ">=", "=", ">>"]


@st.composite
def grammar_values(draw: st.DrawFn) -> str:
    word = draw(st.sampled_from(VALUE_WORDS) | st.text(max_size=4))
    value = draw(st.sampled_from(OPS)) + word
    if draw(st.booleans()):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value


@st.composite
def grammar_terms(draw: st.DrawFn) -> str:
    negate = draw(st.sampled_from(["", "", "-"]))
    if draw(st.integers(0, 4)) == 0:
        return negate + draw(st.sampled_from(['"外包装破损"', "refund", "退款", '"', "x:"]))
    values = draw(st.lists(grammar_values(), min_size=1, max_size=3))
    return f"{negate}{draw(st.sampled_from(FIELD_WORDS))}:{','.join(values)}"


grammar_queries = st.lists(grammar_terms(), max_size=6).map(" ".join)


def parses_or_points(text: str) -> None:
    try:
        parse_query(text)
    except QuerySyntaxError as error:
        assert 0 <= error.position <= len(text)
        assert str(error).startswith(f"position {error.position}: expected ")


@settings(max_examples=1000)
@given(st.text())
def test_any_text_parses_or_raises_query_syntax_error(text: str) -> None:
    parses_or_points(text)


@settings(max_examples=1000)
@given(grammar_queries)
def test_grammar_shaped_text_parses_or_raises_query_syntax_error(text: str) -> None:
    parses_or_points(text)


@given(st.text(min_size=1))
def test_any_quoted_tag_round_trips(value: str) -> None:
    assert only_term(f"tag:{quote_value(value)}").values == (value,)
