"""SSE nudges and presence across two server instances; signed inbound webhooks."""

from __future__ import annotations

import contextlib
import json
import queue
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import Engine, func, select

from agentcli.server.app import create_app
from agentcli.server.db import read_tx
from agentcli.server.runner import start_in_thread
from agentcli.server.schema import change_log, messages, tickets
from agentcli.server.webhooks import sign
from tests.server.conftest import Live

SECRET = "chat-secret-for-tests"


@contextmanager
def sse(url: str, token: str) -> Iterator[queue.Queue[tuple[str, dict]]]:
    """Read an SSE stream in a thread; yield a queue of (event, data)."""
    events: queue.Queue[tuple[str, dict]] = queue.Queue()
    stop = threading.Event()

    def read() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        url_ = f"{url}/api/v1/events"
        with (
            contextlib.suppress(httpx.HTTPError),  # the server closing the stream at the end
            httpx.stream("GET", url_, headers=headers, timeout=30) as r,
        ):
            name = ""
            for line in r.iter_lines():
                if stop.is_set():
                    return
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    events.put((name, json.loads(line[6:])))

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    assert events.get(timeout=5)[0] == "hello"
    yield events
    stop.set()


def wait_for(events: queue.Queue, kind: str, match, timeout: float = 5) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            name, data = events.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        if name == kind and match(data):
            return data
    raise AssertionError(f"no {kind} event within {timeout}s")


def test_sse_nudges_and_presence_reach_clients_of_another_instance(live: Live) -> None:
    # A second app over the same database shares nothing with the first but the database,
    # as a second `serve` process would.
    other = start_in_thread(create_app(live.engine))
    try:
        ticket = live.ticket(queue="uk")
        with sse(other.url, live.tokens["sup"]) as events, live.client("olena") as http:
            response = http.post(
                "/api/v1/mutations",
                json={
                    "mutations": [
                        {
                            "client_id": str(uuid.uuid4()),
                            "type": "note",
                            "ticket_id": ticket,
                            "payload": {"body": "hi"},
                        }
                    ]
                },
            )
            seq = response.json()["results"][0]["seq"]
            started = time.monotonic()
            wait_for(events, "changes", lambda d: d["seq"] >= seq)
            assert time.monotonic() - started < 1.0
            posted = http.post(
                "/api/v1/presence", json={"ticket_id": ticket, "activity": "replying"}
            )
            assert posted.status_code == 204
            seen = wait_for(events, "presence", lambda d: d["ticket_id"] == ticket)
            assert seen["agent"] == "olena" and seen["activity"] == "replying"
            bad = http.post("/api/v1/presence", json={"ticket_id": ticket, "activity": "x"})
            assert bad.status_code == 422
    finally:
        other.stop()
    with httpx.Client(base_url=live.url) as anonymous:
        assert anonymous.get("/api/v1/events").status_code == 401


@pytest.fixture
def hooked(engine: Engine) -> Iterator[str]:
    server = start_in_thread(create_app(engine, webhook_secrets={"chat": SECRET}))
    yield server.url
    server.stop()


def signed(body: dict, secret: str = SECRET, at: int | None = None) -> tuple[bytes, dict]:
    raw = json.dumps(body, ensure_ascii=False).encode()
    timestamp = str(at if at is not None else int(time.time()))
    return raw, {
        "X-Agentcli-Timestamp": timestamp,
        "X-Agentcli-Signature": sign(secret, timestamp, raw),
        "Content-Type": "application/json",
    }


def counts(engine: Engine) -> tuple[int, int, int]:
    with read_tx(engine) as conn:
        return tuple(
            conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (tickets, messages, change_log)
        )


MESSAGE = {
    "external_id": "wx-1001",
    "thread_id": "conv-77",
    "customer": {"name": "王芳", "handle": "wangfang88", "locale": "zh-CN"},
    "text": "我的快递三天没更新了，想申请退款",
    "queue": "zh",
    "language": "zh-CN",
}


def test_signed_webhook_opens_a_ticket_and_threads_replies(engine: Engine, hooked: str) -> None:
    with httpx.Client(base_url=hooked) as http:
        raw, headers = signed(MESSAGE)
        first = http.post("/api/v1/inbound/chat", content=raw, headers=headers)
        assert first.status_code == 202, first.text
        assert first.json()["duplicate"] is False
        before = counts(engine)
        again = http.post("/api/v1/inbound/chat", content=raw, headers=headers)
        assert again.json() == {**first.json(), "duplicate": True}
        assert counts(engine) == before  # repeated external id: nothing new
        raw, headers = signed({**MESSAGE, "external_id": "wx-1002", "text": "还在吗？"})
        threaded = http.post("/api/v1/inbound/chat", content=raw, headers=headers)
        assert threaded.json()["ticket_id"] == first.json()["ticket_id"]
        with read_tx(engine) as conn:
            ticket = conn.execute(select(tickets)).mappings().one()
        assert ticket["channel"] == "chat" and ticket["queue"] == "zh"


@pytest.mark.parametrize(
    "case",
    ["bad-signature", "wrong-secret", "stale", "future", "no-headers", "malformed", "no-channel"],
)
def test_bad_webhooks_get_4xx_and_store_nothing(engine: Engine, hooked: str, case: str) -> None:
    before = counts(engine)
    raw, headers = signed(MESSAGE)
    path = "/api/v1/inbound/chat"
    if case == "bad-signature":
        headers["X-Agentcli-Signature"] = "sha256=" + "0" * 64
    elif case == "wrong-secret":
        raw, headers = signed(MESSAGE, secret="guess")
    elif case == "stale":
        raw, headers = signed(MESSAGE, at=int(time.time()) - 360)
    elif case == "future":
        raw, headers = signed(MESSAGE, at=int(time.time()) + 360)
    elif case == "no-headers":
        headers = {"Content-Type": "application/json"}
    elif case == "malformed":
        raw, headers = signed({"text": "no id, no customer"})
    elif case == "no-channel":
        path = "/api/v1/inbound/marketplace"  # no secret configured for it
    with httpx.Client(base_url=hooked) as http:
        response = http.post(path, content=raw, headers=headers)
    assert 400 <= response.status_code < 500
    assert counts(engine) == before
