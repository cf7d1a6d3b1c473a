"""The signed CSAT webhook on a real server (SQLite and PostgreSQL): ratings land in the audit
trail, reach a synced client store, and show in its report."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from agentcli.domain.business_hours import ALWAYS_OPEN
from agentcli.domain.clock import now_epoch
from agentcli.domain.sla_policy import Policy, SlaConfig, Targets
from agentcli.domain.vocabulary import Role
from agentcli.server import auth
from agentcli.server.app import create_app
from agentcli.server.db import read_tx, write_tx
from agentcli.server.records import create_customer, create_ticket
from agentcli.server.runner import start_in_thread
from agentcli.server.schema import change_log, ticket_events
from agentcli.server.webhooks import sign
from agentcli.store.db import open_store
from agentcli.store.metrics import report
from agentcli.sync.client import Client
from agentcli.sync.engine import Engine as SyncEngine

SECRET = "csat-secret-for-tests"


@pytest.fixture
def server(engine: Engine) -> Iterator[str]:
    running = start_in_thread(create_app(engine, webhook_secrets={"csat": SECRET}))
    yield running.url
    running.stop()


def new_ticket(engine: Engine) -> int:
    with write_tx(engine) as conn:
        customer = create_customer(conn, "王芳", locale="zh-CN")
        row = create_ticket(
            conn, requester_id=customer["id"], subject="快递破损", channel="chat", queue="zh"
        )
    return int(row["id"])


def post(url: str, body: dict[str, Any], secret: str = SECRET, at: int | None = None):
    raw = json.dumps(body, ensure_ascii=False).encode()
    stamp = str(at if at is not None else int(time.time()))
    headers = {
        "X-Agentcli-Timestamp": stamp,
        "X-Agentcli-Signature": sign(secret, stamp, raw),
        "Content-Type": "application/json",
    }
    return httpx.post(f"{url}/api/v1/csat", content=raw, headers=headers, timeout=30)


def csat_events(engine: Engine) -> list[tuple[int, str, str | None, str | None, str]]:
    with read_tx(engine) as conn:
        rows = conn.execute(
            select(
                ticket_events.c.ticket_id,
                ticket_events.c.field,
                ticket_events.c.old,
                ticket_events.c.new,
                ticket_events.c.actor,
            )
            .where(ticket_events.c.field.in_(["csat", "csat_comment"]))
            .order_by(ticket_events.c.id)
        )
        return [tuple(row) for row in rows]


def test_a_rating_is_recorded_once_and_reaches_a_client(
    engine: Engine, server: str, tmp_path: Path
) -> None:
    ticket = new_ticket(engine)
    first = post(server, {"ticket_id": ticket, "rating": "bad", "comment": "箱子压坏了"})
    assert first.status_code == 202, first.text
    assert first.json()["duplicate"] is False and first.json()["rating"] == "bad"
    # The survey tool retries the same delivery: nothing new.
    again = post(server, {"ticket_id": ticket, "rating": "bad", "comment": "箱子压坏了"})
    assert again.json() == {**first.json(), "duplicate": True}
    # The customer changes their mind.
    assert post(server, {"ticket_id": ticket, "rating": "good"}).status_code == 202
    assert csat_events(engine) == [
        (ticket, "csat", None, "bad", "customer"),
        (ticket, "csat_comment", None, "箱子压坏了", "customer"),
        (ticket, "csat", "bad", "good", "customer"),
    ]
    with read_tx(engine) as conn:
        kinds = conn.execute(select(change_log.c.kind)).scalars().all()
    assert kinds.count("event") >= 3  # logged to the change feed with the events

    # A client syncs the feed and its report counts the latest rating.
    token = auth.add_agent(engine, "li", Role.AGENT, languages=["zh-CN"])
    store = open_store(tmp_path / "client.db")
    with Client(server, token) as client:
        SyncEngine(store, client).sync_once()
    config = SlaConfig(ALWAYS_OPEN, (Policy("all", None, None, Targets(None, None, None)),))
    now = now_epoch()
    result = report(store, config, by="queue", start=now - 86_400, end=now + 1, now=now)
    assert result.total.csat == 1.0 and result.total.csat_responses == 1


@pytest.mark.parametrize(
    ("case", "status", "detail"),
    [
        ("bad-signature", 401, "bad signature"),
        ("wrong-secret", 401, "bad signature"),
        ("stale", 401, "timestamp outside the 5-minute window"),
        ("unknown-ticket", 404, "ticket 987654 not found"),
        ("bad-rating", 422, "malformed body"),
        ("no-ticket", 422, "malformed body"),
    ],
)
def test_bad_deliveries_are_refused_and_store_nothing(
    engine: Engine, server: str, case: str, status: int, detail: str
) -> None:
    ticket = new_ticket(engine)
    body: dict[str, Any] = {"ticket_id": ticket, "rating": "good"}
    secret, at = SECRET, None
    if case == "wrong-secret":
        secret = "guess"
    elif case == "stale":
        at = int(time.time()) - 360
    elif case == "unknown-ticket":
        body["ticket_id"] = 987654
    elif case == "bad-rating":
        body["rating"] = "meh"
    elif case == "no-ticket":
        del body["ticket_id"]
    if case == "bad-signature":
        raw = json.dumps(body).encode()
        stamp = str(int(time.time()))
        headers = {"X-Agentcli-Timestamp": stamp, "X-Agentcli-Signature": "sha256=" + "0" * 64}
        response = httpx.post(f"{server}/api/v1/csat", content=raw, headers=headers)
    else:
        response = post(server, body, secret, at)
    assert response.status_code == status
    assert detail in response.json()["detail"]
    assert csat_events(engine) == []


def test_without_a_csat_secret_the_webhook_is_off(engine: Engine) -> None:
    running = start_in_thread(create_app(engine, webhook_secrets={"chat": "x"}))
    try:
        response = post(running.url, {"ticket_id": new_ticket(engine), "rating": "good"})
    finally:
        running.stop()
    assert response.status_code == 404 and "csat" in response.json()["detail"]
