"""Pushing mutations: applied, duplicate, conflict, rejected; and the role rules (403-style)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import func, select

from agentcli.server.db import read_tx
from agentcli.server.schema import change_log, messages, tickets
from tests.server.conftest import Live


def mutation(kind: str, ticket_id: int, base: int | None = None, **payload: Any) -> dict:
    return {
        "client_id": str(uuid.uuid4()),
        "type": kind,
        "ticket_id": ticket_id,
        "base_version": base,
        "payload": payload,
    }


def push(http: httpx.Client, *batch: dict) -> list[dict]:
    response = http.post("/api/v1/mutations", json={"mutations": list(batch)})
    assert response.status_code == 200, response.text
    return response.json()["results"]


def snapshot(live: Live) -> tuple[list, int, int]:
    """Everything a forbidden mutation must leave untouched."""
    with read_tx(live.engine) as conn:
        rows = [tuple(r) for r in conn.execute(select(tickets).order_by(tickets.c.id))]
        n_messages = conn.execute(select(func.count()).select_from(messages)).scalar_one()
        n_changes = conn.execute(select(func.count()).select_from(change_log)).scalar_one()
    return rows, n_messages, n_changes


def test_reply_applies_and_a_retry_is_a_duplicate(live: Live) -> None:
    ticket = live.ticket()
    reply = mutation("reply", ticket, 1, body="Посилка вже в дорозі.")
    with live.client("olena") as http:
        [first] = push(http, reply)
        assert first["outcome"] == "applied"
        assert first["version"] == 2 and first["seq"] > 0 and first["message_id"] > 0
        before = snapshot(live)
        [again] = push(http, reply)
        assert again == {**first, "outcome": "duplicate"}
        assert snapshot(live) == before  # no second effect
        page = http.get("/api/v1/changes", params={"after": first["seq"] - 2}).json()
        kinds = [c["kind"] for c in page["changes"]]
        # The audit trail follows the ticket: the reply, then the status it moved.
        assert kinds == ["message", "ticket", "event", "event"]
        assert page["changes"][1]["data"]["status"] == "open"  # answered: new -> open
        assert [c["data"]["field"] for c in page["changes"][2:]] == ["reply", "status"]


def test_compare_and_set_conflict_returns_current_state(live: Live) -> None:
    ticket = live.ticket()
    with live.client("sup") as sup, live.client("olena") as olena:
        [taken] = push(olena, mutation("assign", ticket, 1, assignee="olena"))
        assert taken["outcome"] == "applied"
        # The supervisor saw version 1 and tries to give it to someone else.
        [lost] = push(sup, mutation("assign", ticket, 1, assignee="li"))
        assert lost["outcome"] == "conflict"
        assert lost["current"]["assignee"] == "olena" and lost["version"] == 2
        # A field that is not compare-and-set, or an unrelated one, does not conflict.
        [tagged] = push(sup, mutation("tag", ticket, 1, add=["vip"]))
        assert tagged["outcome"] == "applied"
        [status] = push(olena, mutation("set-status", ticket, 1, status="pending"))
        assert status["outcome"] == "applied"
        # Messages never conflict, whatever version they were written against.
        [note] = push(olena, mutation("note", ticket, 1, body="checked the carrier"))
        assert note["outcome"] == "applied"


def test_one_winner_when_many_grab_one_ticket(live: Live) -> None:
    import threading

    ticket = live.ticket(queue="uk")
    results: list[dict] = []
    lock = threading.Lock()

    def grab() -> None:
        with live.client("sup") as http:
            [result] = push(http, mutation("assign", ticket, 1, assignee="olena"))
        with lock:
            results.append(result)

    threads = [threading.Thread(target=grab) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r["outcome"] for r in results) == ["applied"] + ["conflict"] * 11


def test_case_state_machine_and_invalid_payloads_are_rejected(live: Live) -> None:
    ticket = live.ticket()
    with live.client("olena") as http:
        ok, bad_start = push(
            http,
            mutation("set-case", ticket, None, type="return-and-refund", state="requested"),
            mutation("set-case", ticket, None, type="exchange", state="approved"),
        )
        assert ok["outcome"] == "applied"
        assert bad_start["outcome"] == "rejected"
        before = snapshot(live)
        [skip] = push(http, mutation("set-case", ticket, None, state="refunded"))
        assert skip["outcome"] == "rejected" and "cannot go from requested" in skip["reason"]
        [bad_status] = push(http, mutation("set-status", ticket, None, status="frozen"))
        assert bad_status["outcome"] == "rejected"
        [unknown] = push(http, mutation("reply", 999_999, None, body="hi"))
        assert unknown["outcome"] == "rejected" and "unknown ticket" in unknown["reason"]
        [empty] = push(http, mutation("reply", ticket, None, body=""))
        assert empty["outcome"] == "rejected"
        assert snapshot(live)[0] == before[0]
        [approved] = push(http, mutation("set-case", ticket, None, state="approved"))
        assert approved["outcome"] == "applied"
        bad = http.post("/api/v1/mutations", json={"mutations": [{"client_id": "nope"}]})
        assert bad.status_code == 422


def test_all_mutation_types_apply(live: Live) -> None:
    ticket = live.ticket()
    with live.client("sup") as http:
        results = push(
            http,
            mutation("set-priority", ticket, None, priority="urgent"),
            mutation("set-queue", ticket, None, queue="vip"),
            mutation("tag", ticket, None, add=["退款", "late"]),
            mutation("tag", ticket, None, remove=["late"]),
            mutation("snooze", ticket, None, until="2030-01-01T08:00:00Z"),
            mutation("assign", ticket, None, assignee="li"),
            mutation("set-status", ticket, None, status="solved"),
        )
        assert [r["outcome"] for r in results] == ["applied"] * 7
        assert [r["version"] for r in results] == list(range(2, 9))
        last = http.get("/api/v1/changes", params={"after": results[-1]["seq"] - 1}).json()
        data = last["changes"][0]["data"]
        assert data["priority"] == "urgent" and data["queue"] == "vip"
        assert data["tags"] == ["退款"] and data["assignee"] == "li"
        assert data["snoozed_until"] == "2030-01-01T08:00:00Z" and data["status"] == "solved"


# --- Role rules: each forbidden case changes nothing. -----------------------------------


def assert_forbidden(live: Live, login: str, m: dict) -> None:
    before = snapshot(live)
    with live.client(login) as http:
        [result] = push(http, m)
    assert result["outcome"] == "rejected" and result["reason"].startswith("forbidden"), result
    assert snapshot(live)[:2] == before[:2]


def test_agent_may_not_touch_a_ticket_outside_their_queues(live: Live) -> None:
    ticket = live.ticket(queue="zh")
    assert_forbidden(live, "olena", mutation("reply", ticket, None, body="hi"))
    assert_forbidden(live, "olena", mutation("assign", ticket, None, assignee="olena"))


def test_agent_may_not_touch_a_colleagues_ticket(live: Live) -> None:
    ticket = live.ticket(queue="uk", assignee="li")
    assert_forbidden(live, "olena", mutation("set-status", ticket, None, status="solved"))
    assert_forbidden(live, "olena", mutation("note", ticket, None, body="mine now"))


def test_agent_may_not_assign_to_someone_else(live: Live) -> None:
    ticket = live.ticket(queue="uk")
    assert_forbidden(live, "olena", mutation("assign", ticket, None, assignee="li"))
    mine = live.ticket(queue="uk", assignee="olena")
    assert_forbidden(live, "olena", mutation("assign", mine, None, assignee="li"))


def test_agent_may_not_move_queues(live: Live) -> None:
    ticket = live.ticket(queue="uk", assignee="olena")
    assert_forbidden(live, "olena", mutation("set-queue", ticket, None, queue="zh"))


def test_agent_may_take_release_and_work_own_tickets(live: Live) -> None:
    ticket = live.ticket(queue="uk")
    with live.client("olena") as http:
        outcomes = push(
            http,
            mutation("assign", ticket, None, assignee="olena"),
            mutation("reply", ticket, None, body="Добрий день!"),
            mutation("assign", ticket, None, assignee=None),
        )
    assert [r["outcome"] for r in outcomes] == ["applied"] * 3


def test_supervisor_reassigns_anyone(live: Live) -> None:
    ticket = live.ticket(queue="uk", assignee="olena")
    with live.client("sup") as http:
        [result] = push(http, mutation("assign", ticket, 1, assignee="li"))
    assert result["outcome"] == "applied"


def test_only_admins_manage_agents(live: Live) -> None:
    for login in ("olena", "sup"):
        before = snapshot(live)
        with live.client(login) as http:
            created = http.post("/api/v1/agents", json={"login": "eve", "role": "admin"})
            assert created.status_code == 403
            assert http.post("/api/v1/agents/li/disable").status_code == 403
        assert snapshot(live) == before
    with live.client("admin") as http:
        created = http.post("/api/v1/agents", json={"login": "nina", "languages": ["en"]})
        assert created.status_code == 201
        token = created.json()["token"]
        assert http.post("/api/v1/agents", json={"login": "nina"}).status_code == 409
        assert http.post("/api/v1/agents/li/disable").json()["active"] is False
        assert http.post("/api/v1/agents/ghost/disable").status_code == 404
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {token}"}) as nina:
        assert nina.get("/api/v1/me").json()["login"] == "nina"
    with live.client("li") as li:
        assert li.get("/api/v1/me").status_code == 401  # disabled at once
