"""Macros used on similar tickets: the "macros" payload rules, the store read (bounded, on the
(field, at) index) and how `suggest` scores it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from agentcli.demo.generator import TICKET_COLUMNS, generate
from agentcli.demo.macro_uses import CASE_MACROS, EVERY, macro_event_rows
from agentcli.domain.mutations import (
    MAX_MACRO_ID,
    MAX_MACROS,
    MutationType,
    applied_macros,
    macros_problem,
)
from agentcli.macros.glossary import Glossary
from agentcli.macros.loader import load_library
from agentcli.macros.preview import preview, to_mutations
from agentcli.macros.render import Renderer
from agentcli.macros.suggest import suggest, usage_points
from agentcli.store.db import open_store
from agentcli.store.macro_usage import DAY, USAGE_SQL, similar_macro_usage
from tests.test_macros import FIXTURES, context

NOW = 1_795_176_000


# --- The payload -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        [],
        ["refund-approved"],
        ["a", "b"],
        ["退款-已批准"],
        ["x" * MAX_MACRO_ID],
        ["m"] * MAX_MACROS,
    ],
)
def test_good_macros_values(value: Any) -> None:
    assert macros_problem(value) is None


@pytest.mark.parametrize(
    "value",
    [None, "refund-approved", {"a": 1}, [1], [None], [""], [" a"], ["a\tb"],
     ["x" * (MAX_MACRO_ID + 1)], ["m"] * (MAX_MACROS + 1)],
)  # fmt: skip
def test_bad_macros_values_name_the_field(value: Any) -> None:
    assert (macros_problem(value) or "").startswith("payload.macros must be a list")


def test_senders_send_each_macro_once_and_never_more_than_the_server_takes() -> None:
    stacked = ["b", "a", "b", "", "x" * (MAX_MACRO_ID + 1), *(f"m{i}" for i in range(20))]
    sent = applied_macros(stacked)
    assert sent == ["b", "a", *(f"m{i}" for i in range(MAX_MACROS - 2))]
    assert macros_problem(sent) is None


def test_a_macros_reply_names_its_macro(tmp_path: Path) -> None:
    library = load_library(shipped=FIXTURES, personal=None)
    renderer = Renderer(library.macros, library.terms)
    result = preview(
        library.macros["refund-approved"], context(), None, {"refund_amount": "5"},
        renderer=renderer,
    )  # fmt: skip
    mutations = to_mutations(result, 7, 3, "li")
    assert mutations[0].type is MutationType.REPLY
    assert mutations[0].payload["macros"] == ["refund-approved"]
    assert all("macros" not in m.payload for m in mutations[1:])  # actions name no macro


# --- Scoring (pure) --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "points"), [(-1, 0), (0, 0), (1, 1), (2, 2), (3, 2), (4, 3), (14, 3), (10**6, 3)]
)
def test_usage_points_double_per_point_up_to_three(count: int, points: int) -> None:
    assert usage_points(count) == points


@pytest.fixture(scope="module")
def library():
    return load_library(shipped=FIXTURES, personal=None)


def _scores(library: Any, ctx: dict, message: str, usage: dict | None) -> list[tuple]:
    glossary = Glossary(library.terms.values())
    found = suggest(library.macros.values(), ctx, message, glossary, "zh-CN", usage=usage)
    return [(s.macro.id, s.score, s.reasons) for s in found]


def test_usage_adds_a_capped_scored_reason(library) -> None:
    ctx = context(case_type="refund-only", case_state="requested")
    base = ("case type refund-only", "next step from requested", "term refund-only", "words: 退款")
    assert _scores(library, ctx, "我想申请仅退款", None) == [("refund-approved", 8, base)]
    used = {"refund-approved": 14, "unknown-macro": 3}
    assert _scores(library, ctx, "我想申请仅退款", used) == [
        ("refund-approved", 11, (*base, "used on 14 similar tickets (+3)"))
    ]
    assert _scores(library, ctx, "我想申请仅退款", {"refund-approved": 1})[0][1:] == (
        9,
        (*base, "used on 1 similar ticket (+1)"),
    )


def test_usage_alone_can_suggest_and_order(library) -> None:
    ctx = context()  # no case, nothing in the message: nothing fits on its own
    assert _scores(library, ctx, "", None) == []
    assert _scores(library, ctx, "", {"order-shipped": 2, "refund-approved": 5}) == [
        ("refund-approved", 3, ("used on 5 similar tickets (+3)",)),
        ("order-shipped", 2, ("used on 2 similar tickets (+2)",)),
    ]
    # A macro whose case step is impossible now gets nothing for habit: it could not apply.
    closed = context(case_type="refund-only", case_state="closed")
    assert _scores(library, closed, "", {"refund-approved": 1000}) == []


# --- The store read --------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> sqlite_utils.Database:
    db = open_store(tmp_path / "store.db")
    tickets = [
        # id, case type, language
        (1, "refund-only", "zh-CN"),  # the ticket we suggest for
        (2, "refund-only", "zh-CN"),
        (3, "refund-only", "zh-CN"),
        (4, "refund-only", "en"),  # other language
        (5, "exchange", "zh-CN"),  # other case type
        (6, None, "zh-CN"),  # no case
        (7, None, "zh-CN"),
    ]
    for ticket_id, case_type, language in tickets:
        db["tickets"].insert(
            {"id": ticket_id, "subject": "s", "status": "solved", "priority": 1,
             "channel": "chat", "queue": "q", "requester_id": 1, "language": language,
             "case_type": case_type, "case_state": case_type and "refunded",
             "created_at": NOW - 10 * DAY, "updated_at": NOW - DAY, "sla_due": 2**53}
        )  # fmt: skip
    events = [
        # ticket, days ago, field, new
        (1, 1, "macro", "refund-approved"),  # the ticket itself: not "similar"
        (2, 1, "macro", "refund-approved"),
        (2, 2, "macro", "refund-approved"),  # again on the same ticket: one ticket
        (2, 1, "macro", "refund-timing"),
        (3, 3, "macro", "refund-approved"),
        (3, 100, "macro", "refund-rejected"),  # outside the 90-day window
        (3, 1, "reply", "55"),  # not a macro event
        (4, 1, "macro", "refund-approved"),
        (5, 1, "macro", "exchange-approved"),
        (6, 1, "macro", "order-status"),
        (7, 2, "macro", "order-status"),
    ]
    db["ticket_events"].insert_all(
        {"ticket_id": t, "at": NOW - days * DAY, "actor": "li", "client": "c", "field": f,
         "old": None, "new": new}
        for t, days, f, new in events
    )  # fmt: skip
    return db


def test_counts_similar_tickets_in_the_window(store: sqlite_utils.Database) -> None:
    assert similar_macro_usage(store, 1, now=NOW) == {"refund-approved": 2, "refund-timing": 1}
    assert similar_macro_usage(store, 2, now=NOW) == {"refund-approved": 2}
    assert similar_macro_usage(store, 1, now=NOW, days=200) == {
        "refund-approved": 2, "refund-timing": 1, "refund-rejected": 1,
    }  # fmt: skip
    assert similar_macro_usage(store, 6, now=NOW) == {"order-status": 1}  # no case: like no case
    assert similar_macro_usage(store, 4, now=NOW) == {}
    assert similar_macro_usage(store, 999, now=NOW) == {}


def test_reads_only_the_newest_events(store: sqlite_utils.Database) -> None:
    # The 6 newest macro events are all a day old: ticket 3's use 3 days ago is not read.
    assert similar_macro_usage(store, 1, now=NOW, limit=6)["refund-approved"] == 1


def test_the_plan_seeks_the_field_index_and_ticket_keys(store: sqlite_utils.Database) -> None:
    params = (NOW - 90 * DAY, 2000, 1, "refund-only", "zh-CN")
    plan = [row[3] for row in store.conn.execute("EXPLAIN QUERY PLAN " + USAGE_SQL, params)]
    assert "SEARCH ticket_events USING INDEX ticket_events_by_field (field=? AND at>?)" in plan
    assert "SEARCH t USING INTEGER PRIMARY KEY (rowid=?)" in plan
    # The only scan is of the bounded subquery's own rows.
    assert [step for step in plan if step.startswith("SCAN")] == ["SCAN e"], plan


# --- Demo data -------------------------------------------------------------------------------


def test_demo_macro_uses_name_shipped_macros_on_solved_assigned_tickets() -> None:
    shipped = load_library(shipped=True, personal=False).macros
    assert {m for macros in CASE_MACROS.values() for m in macros} <= set(shipped)
    ticket_rows = [row for batch in generate(300, seed=1, now=NOW) for row in batch.tickets]
    events = macro_event_rows(ticket_rows)
    by_id = {row[0]: dict(zip(TICKET_COLUMNS, row, strict=True)) for row in ticket_rows}
    assert events == macro_event_rows(ticket_rows)  # from the rows alone: no random draw
    for ticket_id, at, actor, client, field, old, new in events:
        ticket = by_id[ticket_id]
        assert ticket["status"] in ("solved", "closed") and ticket_id % EVERY == 0
        assert (actor, client, field, old) == (ticket["assignee"], "demo", "macro", None)
        assert new in CASE_MACROS[ticket["case_type"]] and at < ticket["updated_at"]
    solved = [t for t in by_id.values() if t["status"] in ("solved", "closed") and t["assignee"]]
    assert len({e[0] for e in events}) == len([t for t in solved if t["id"] % EVERY == 0])
