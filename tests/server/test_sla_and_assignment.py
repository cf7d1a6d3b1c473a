"""SLA due times through the API and change feed, pauses, breach events; auto-assignment."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import Engine, select

from agentcli.domain.clock import now_epoch
from agentcli.domain.sla_policy import parse_config
from agentcli.domain.vocabulary import Channel, Role
from agentcli.server import auth
from agentcli.server.app import create_app
from agentcli.server.db import read_tx, write_tx
from agentcli.server.records import create_customer, create_ticket
from agentcli.server.runner import ThreadedServer, start_in_thread
from agentcli.server.schema import messages, tickets
from agentcli.server.services import Periodic
from agentcli.server.sla import check_breaches, load_config
from agentcli.server.workflow import Workflow
from tests.server.test_live_and_webhooks import signed
from tests.server.test_mutations import mutation, push

SECRET = "chat-secret-for-tests"
H = 3600

# Open around the clock, so due times are plain offsets and the test can't hit a weekend.
ALWAYS = {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
POLICY = parse_config(
    {
        "calendar": {"timezone": "UTC", "hours": ALWAYS},
        "policy": [
            {"priority": ["urgent"], "first_reply": "15m", "next_reply": "30m",
             "resolution": "2h"},
            {"tier": ["vip"], "first_reply": "30m", "next_reply": "1h", "resolution": "4h"},
            {"first_reply": "1h", "next_reply": "2h", "resolution": "8h"},
        ],
    },
    ZoneInfo("UTC"),
)  # fmt: skip


@dataclass
class Desk:
    engine: Engine
    server: ThreadedServer
    tokens: dict[str, str]

    def client(self, login: str) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[login]}"}
        return httpx.Client(base_url=self.server.url, headers=headers, timeout=30)

    def inbound(
        self,
        external_id: str,
        thread: str,
        *,
        name: str = "Olena",
        queue: str = "uk",
        language: str = "uk",
    ) -> dict:
        body = {
            "external_id": external_id,
            "thread_id": thread,
            "customer": {"name": name, "handle": name.lower()},
            "text": "Де моє замовлення?",
            "queue": queue,
            "language": language,
        }
        raw, headers = signed(body, SECRET)
        with httpx.Client(base_url=self.server.url) as http:
            response = http.post("/api/v1/inbound/chat", content=raw, headers=headers)
        assert response.status_code == 202, response.text
        return response.json()

    def ticket(self, ticket_id: int) -> dict:
        with read_tx(self.engine) as conn:
            row = conn.execute(select(tickets).where(tickets.c.id == ticket_id)).mappings().one()
        return dict(row)


def make_desk(engine: Engine, workflow: Workflow, background: list | None = None) -> Desk:
    tokens = {
        "sup": auth.add_agent(engine, "sup", Role.SUPERVISOR),
        "olena": auth.add_agent(engine, "olena", Role.AGENT, languages=["uk"], queues=["uk"]),
    }
    app = create_app(
        engine, webhook_secrets={"chat": SECRET}, workflow=workflow, background=background or []
    )
    return Desk(engine, start_in_thread(app), tokens)


@pytest.fixture
def desk(engine: Engine) -> Iterator[Desk]:
    desk = make_desk(engine, Workflow(sla=POLICY))
    yield desk
    desk.server.stop()


def test_due_times_are_set_cleared_and_in_the_change_feed(desk: Desk) -> None:
    before = now_epoch()
    created = desk.inbound("m1", "conv-1")
    ticket = desk.ticket(created["ticket_id"])
    assert before + H <= ticket["first_reply_due"] <= now_epoch() + H
    assert ticket["resolution_due"] - ticket["first_reply_due"] == 7 * H
    assert ticket["next_reply_due"] is None
    with desk.client("olena") as http:
        [reply] = push(http, mutation("reply", ticket["id"], None, body="Перевіряю"))
        assert reply["outcome"] == "applied"
        feed = http.get("/api/v1/changes", params={"after": reply["seq"] - 1, "limit": 1})
    [change] = feed.json()["changes"]
    assert change["kind"] == "ticket" and change["data"]["version"] == reply["version"]
    # One change carries both the status change and the cleared first-reply clock.
    assert change["data"]["status"] == "open" and change["data"]["first_reply_due"] is None
    assert change["data"]["resolution_due"] is not None
    desk.inbound("m2", "conv-1")  # the customer writes again: next-reply clock starts
    ticket = desk.ticket(ticket["id"])
    assert now_epoch() + 2 * H - 5 <= ticket["next_reply_due"] <= now_epoch() + 2 * H


def test_pending_pauses_the_clock_and_resuming_shifts_due_times(desk: Desk) -> None:
    ticket_id = desk.inbound("m1", "conv-1")["ticket_id"]
    due = desk.ticket(ticket_id)["resolution_due"]
    with desk.client("olena") as http:
        [paused] = push(http, mutation("set-status", ticket_id, 1, status="pending"))
        assert desk.ticket(ticket_id)["sla_paused_at"] is not None
        time.sleep(2.2)
        [resumed] = push(http, mutation("set-status", ticket_id, paused["version"], status="open"))
        assert resumed["outcome"] == "applied"
    ticket = desk.ticket(ticket_id)
    assert ticket["sla_paused_at"] is None and ticket["sla_paused_seconds"] >= 2
    assert ticket["resolution_due"] - due == ticket["sla_paused_seconds"]


def test_priority_and_tier_choose_the_policy(desk: Desk) -> None:
    ticket_id = desk.inbound("m1", "conv-1")["ticket_id"]
    created = desk.ticket(ticket_id)["created_at"]
    with desk.client("sup") as http:
        push(http, mutation("set-priority", ticket_id, None, priority="urgent"))
    ticket = desk.ticket(ticket_id)
    assert ticket["first_reply_due"] == created + 15 * 60
    assert ticket["resolution_due"] == created + 2 * H
    assert POLICY.targets("normal", "vip").first_reply == 30 * 60


def test_breaches_append_one_event_each_even_with_several_checkers(desk: Desk) -> None:
    ticket_id = desk.inbound("m1", "conv-1")["ticket_id"]
    later = now_epoch() + 10 * H  # past first reply (1h) and resolution (8h)
    counts: list[int] = []
    threads = [
        threading.Thread(target=lambda: counts.append(check_breaches(desk.engine, later)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(counts) == [0, 0, 0, 2]
    assert check_breaches(desk.engine, later + H) == 0
    with read_tx(desk.engine) as conn:
        events = conn.execute(
            select(messages.c.body, messages.c.author_kind).where(
                messages.c.ticket_id == ticket_id, messages.c.kind == "event"
            )
        ).all()
    assert sorted(body.split(" was")[0] for body, _ in events) == [
        "SLA breached: first reply",
        "SLA breached: resolution",
    ]
    assert {kind for _, kind in events} == {"system"}


def test_the_server_checks_breaches_periodically(engine: Engine) -> None:
    task = Periodic("sla", lambda: check_breaches(engine), 0.1)
    desk = make_desk(engine, Workflow(sla=POLICY), [task])
    try:
        ticket_id = desk.inbound("m1", "conv-1")["ticket_id"]
        with write_tx(engine) as conn:  # as if an hour had gone by
            conn.execute(
                tickets.update().where(tickets.c.id == ticket_id).values(first_reply_due=1)
            )
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with read_tx(engine) as conn:
                found = conn.execute(
                    select(messages.c.body).where(messages.c.kind == "event")
                ).scalar_one_or_none()
            if found:
                break
            time.sleep(0.05)
        assert found and found.startswith("SLA breached: first reply")
    finally:
        desk.server.stop()


def test_shipped_default_policy_loads() -> None:
    config = load_config()
    assert config.targets("urgent", "regular").first_reply == 30 * 60
    assert config.targets("normal", "gold").first_reply == H
    assert config.targets("low", "regular").resolution == 48 * H


def test_auto_assignment_language_capacity_least_loaded_round_robin(engine: Engine) -> None:
    desk = make_desk(engine, Workflow(auto_assign=frozenset({"uk"})))
    try:
        # ivan and marta speak Ukrainian in queue uk; li does not; taras is full (capacity 1).
        auth.add_agent(engine, "ivan", Role.AGENT, languages=["uk", "en"], queues=["uk"])
        auth.add_agent(engine, "marta", Role.AGENT, languages=["uk"], queues=["uk"])
        auth.add_agent(engine, "li", Role.AGENT, languages=["zh"], queues=["uk", "zh"])
        auth.add_agent(engine, "taras", Role.AGENT, languages=["uk"], queues=["uk"], capacity=0)
        # olena (from make_desk) already carries two open tickets: the most loaded.
        with write_tx(engine) as conn:
            customer = create_customer(conn, "Earlier")
            for _ in range(2):
                create_ticket(
                    conn,
                    subject="earlier",
                    requester_id=customer["id"],
                    channel=Channel.CHAT,
                    queue="uk",
                    assignee="olena",
                )
        picks = [
            desk.ticket(desk.inbound(f"m{n}", f"conv-{n}")["ticket_id"])["assignee"]
            for n in range(7)
        ]
        # Least loaded first (olena waits until the others have two), ties by oldest turn.
        assert picks == ["ivan", "marta", "ivan", "marta", "olena", "ivan", "marta"]
        # Another queue without auto-assignment stays unassigned.
        zh = desk.inbound("z1", "conv-z", name="王芳", queue="zh", language="zh-CN")
        assert desk.ticket(zh["ticket_id"])["assignee"] is None
    finally:
        desk.server.stop()
