"""Macros a reply was written with: one `macro` audit event each on the server, synced to
clients, where `agentcli macro suggest` ranks a macro used on a similar ticket higher."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select

from agentcli.cli.main import main
from agentcli.demo.macro_uses import CASE_MACROS
from agentcli.domain.mutations import MAX_MACRO_ID, MAX_MACROS
from agentcli.server.changelog import read_changes
from agentcli.server.db import read_tx
from agentcli.server.demo_seed import seed_demo
from agentcli.server.schema import messages, ticket_events
from agentcli.server.wire import to_wire
from agentcli.store.db import open_store
from agentcli.store.macro_usage import similar_macro_usage
from agentcli.sync.client import Client
from agentcli.sync.engine import Engine as SyncEngine
from tests.server.conftest import Live
from tests.server.test_demo_history import synced_client
from tests.server.test_history import FIELDS, events, feed_events
from tests.server.test_mutations import mutation, push

MACRO = """
id = "{id}"
category = "returns/{id}"
tags = ["return-and-refund"]
[title]
zh-CN = "退货标签"
en = "Return label"
uk = "Етикетка повернення"
[body]
zh-CN = "退货标签已发送。"
en = "Your return label is on its way."
uk = "Етикетку повернення надіслано."
"""


def test_a_reply_with_macros_records_one_event_per_macro(live: Live) -> None:
    ticket = live.ticket(queue="uk")
    used = ["return-label", "refund-timing", "return-label"]  # stacked twice: recorded once
    with live.client("olena") as olena:
        [reply] = push(olena, mutation("reply", ticket, None, body="Готово.", macros=used))
        [note] = push(olena, mutation("note", ticket, None, body="label sent", macros=["x"]))
        [plain] = push(olena, mutation("reply", ticket, None, body="Ще щось?"))
    assert [r["outcome"] for r in (reply, note, plain)] == ["applied"] * 3
    client = events(live.engine, ticket)[0]["client"]
    rows = [tuple(row[name] for name in FIELDS) for row in events(live.engine, ticket)]
    assert [row[3:] for row in rows] == [
        ("reply", None, str(reply["message_id"])),
        ("macro", None, "return-label"),
        ("macro", None, "refund-timing"),
        ("status", "new", "open"),
        ("note", None, str(note["message_id"])),
        ("macro", None, "x"),
        ("reply", None, str(plain["message_id"])),
    ]
    assert rows[1][:3] == (ticket, "olena", client)  # the reply's agent and client
    # Committed with the reply, and in the change feed like every other event.
    assert [e["field"] for e in feed_events(live.engine)].count("macro") == 3


@pytest.mark.parametrize(
    "bad",
    [
        "return-label",
        [1],
        [""],
        [" padded"],
        ["a\nb"],
        ["x" * (MAX_MACRO_ID + 1)],
        [f"m{i}" for i in range(MAX_MACROS + 1)],
        {"id": "return-label"},
    ],
)
def test_a_bad_macros_value_rejects_the_message(live: Live, bad: Any) -> None:
    ticket = live.ticket(queue="uk")
    with live.client("olena") as olena:
        [result] = push(olena, mutation("reply", ticket, None, body="Готово.", macros=bad))
    assert result["outcome"] == "rejected"
    assert "payload.macros" in result["reason"]
    with read_tx(live.engine) as conn:
        count = select(func.count()).select_from(messages).where(messages.c.ticket_id == ticket)
        assert conn.execute(count).scalar_one() == 0  # the reply is not half applied
    assert [row["field"] for row in events(live.engine, ticket)] == []


def _suggest(store: Path, ticket: int) -> dict[str, dict[str, Any]]:
    result = CliRunner().invoke(
        main, ["--db", str(store), "macro", "suggest", "--ticket", str(ticket), "--limit", "50",
               "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return {item["id"]: {**item, "rank": i} for i, item in enumerate(json.loads(result.output))}


def test_a_synced_client_ranks_a_macro_used_on_a_similar_ticket_higher(
    live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two identical macros (a tie), so only their use on a similar ticket can order them.
    personal = tmp_path / "macros" / "returns"
    personal.mkdir(parents=True)
    for macro_id in ("label-a", "label-b"):
        text = textwrap.dedent(MACRO).format(id=macro_id)
        (personal / f"{macro_id}.toml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("AGENTCLI_PERSONAL_MACROS", str(tmp_path / "macros"))
    monkeypatch.delenv("AGENTCLI_SHARED_MACROS", raising=False)
    monkeypatch.setenv("AGENTCLI_AGENT", "olena")
    used_on, similar, other = (live.ticket(queue="uk") for _ in range(3))
    with live.client("sup") as sup:
        for ticket in (used_on, similar):
            case = mutation("set-case", ticket, None, type="return-and-refund", state="requested")
            assert push(sup, case)[0]["outcome"] == "applied"
    path = tmp_path / "client.db"
    store = open_store(path)
    with Client(live.url, live.tokens["olena"]) as client:
        sync = SyncEngine(store, client)
        sync.sync_once()
        before = _suggest(path, similar)
        assert before["label-a"]["score"] == before["label-b"]["score"]
        # The CLI's `reply --macro` names its macro in the reply it queues; sync sends it.
        sent = CliRunner().invoke(
            main, ["--db", str(path), "reply", str(used_on), "--macro", "label-b"]
        )
        assert sent.exit_code == 0, sent.output
        queued = store.conn.execute("SELECT payload FROM outbox WHERE type = 'reply'").fetchone()
        assert json.loads(queued[0])["macros"] == ["label-b"]
        sync.sync_once()
    local = store.conn.execute(
        "SELECT ticket_id, actor, new FROM ticket_events WHERE field = 'macro'"
    ).fetchall()
    assert local == [(used_on, "olena", "label-b")]
    after = _suggest(path, similar)
    assert after["label-b"]["score"] == before["label-b"]["score"] + 1
    assert "used on 1 similar ticket (+1)" in after["label-b"]["reasons"]
    assert after["label-b"]["rank"] < after["label-a"]["rank"]
    assert after["label-a"] == {**before["label-a"], "rank": after["label-a"]["rank"]}
    # A ticket without the case is not similar; the ticket it was used on does not count.
    for ticket in (other, used_on):
        found = _suggest(path, ticket).get("label-b", {"reasons": []})
        assert not any("similar" in reason for reason in found["reasons"])


def test_the_demo_seeds_macro_uses_that_a_synced_client_ranks_by(
    engine: Engine, tmp_path: Path
) -> None:
    seed_demo(engine, ticket_count=60, seed=1)
    with read_tx(engine) as conn:
        ordered = select(ticket_events).order_by(ticket_events.c.id)
        rows = [dict(r) for r in conn.execute(ordered).mappings()]
        changes, _next, _more = read_changes(conn, 0, 100_000)
    # Beside the macros, the demo's status changes and ratings (agentcli.demo.ticket_history).
    fields = {row["field"] for row in rows}
    assert {"macro", "status"} <= fields <= {"macro", "status", "csat", "csat_comment"}
    assert {row["client"] for row in rows} == {"demo"}
    # Logged in id order (PostgreSQL once sorted them as text) after their tickets, with
    # the payload to_wire makes.
    logged = [c for c in changes if c["kind"] == "event"]
    assert [c["data"] for c in logged] == [to_wire("event", row) for row in rows]
    ticket_seq = {c["data"]["id"]: c["seq"] for c in changes if c["kind"] == "ticket"}
    assert all(c["seq"] > ticket_seq[c["data"]["ticket_id"]] for c in logged)
    store = synced_client(engine, tmp_path / "client.db")
    local = store.conn.execute("SELECT count(*) FROM ticket_events WHERE field = 'macro'")
    assert local.fetchone()[0] == sum(row["field"] == "macro" for row in rows)
    # A returns case in the seeded helpdesk: the returns macros are what it learns.
    [ticket] = store.conn.execute(
        "SELECT id FROM tickets WHERE case_type = 'return-and-refund' ORDER BY id LIMIT 1"
    ).fetchone()
    usage = similar_macro_usage(store, ticket)
    assert usage and set(usage) <= set(CASE_MACROS["return-and-refund"])
