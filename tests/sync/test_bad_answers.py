"""Bad server answers over real HTTP (a loopback server that says what we tell it): the page is
rejected whole, nothing is applied, the error shows in the sync status, and a later good page
applies; unknown extra fields are ignored. Also 429 Retry-After, and plain-http URL rules."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from agentcli.domain.wire import WireError
from agentcli.store.changes import apply_page, read_cursor
from agentcli.store.db import open_store
from agentcli.sync.client import (
    Client,
    InsecureURL,
    ProtocolError,
    RateLimited,
    TransportError,
    check_url,
)
from agentcli.sync.engine import Engine
from agentcli.sync.status import read_status
from tests.wire_pages import message_change, starter_page, ticket_change


class Scripted(ThreadingHTTPServer):
    body: bytes = b"{}"
    status: int = 200
    headers_out: dict[str, str] = {}  # noqa: RUF012
    declared_length: int | None = None


class Handler(BaseHTTPRequestHandler):
    server: Scripted

    def do_GET(self) -> None:
        self.send_response(self.server.status)
        for key, value in self.server.headers_out.items():
            self.send_header(key, value)
        length = self.server.declared_length or len(self.server.body)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(self.server.body)  # shorter than declared: a truncated body

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def scripted() -> Iterator[Scripted]:
    server = Scripted(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


@pytest.fixture
def db(tmp_path: Path):
    store = open_store(tmp_path / "store.db")
    apply_page(store, starter_page(), 7)
    return store


def _serve(server: Scripted, page: object, **kw: object) -> None:
    server.body = page if isinstance(page, bytes) else json.dumps(page).encode()
    server.status = int(kw.get("status", 200))  # type: ignore[arg-type]
    server.headers_out = dict(kw.get("headers", {}))  # type: ignore[arg-type]
    server.declared_length = kw.get("length")  # type: ignore[assignment]


def _snapshot(db) -> tuple:
    conn = db.conn
    return (
        read_cursor(db),
        conn.execute("SELECT * FROM tickets ORDER BY id").fetchall(),
        conn.execute("SELECT * FROM messages ORDER BY id").fetchall(),
    )


GOOD = ticket_change(8, 1, status="pending", version=2)
BAD_PAGES = {
    "malformed JSON": (b'{"changes": [', ProtocolError),
    "not an object": ([1, 2], ProtocolError),
    "next not an integer": ({"changes": [GOOD], "next": "9", "more": False}, ProtocolError),
    "wrong field type": (
        {"changes": [GOOD, ticket_change(9, 2, version="2")], "next": 9, "more": False},
        WireError,
    ),
    "unknown change kind": (
        {"changes": [GOOD, {"seq": 9, "kind": "refund", "data": {}}], "next": 9, "more": False},
        WireError,
    ),
    "cursor going backwards": (
        {"changes": [GOOD, ticket_change(3, 2)], "next": 9, "more": False},
        WireError,
    ),
    "next behind the page": ({"changes": [GOOD], "next": 2, "more": False}, WireError),
    "empty page claiming more": ({"changes": [], "next": 7, "more": True}, ProtocolError),
}


@pytest.mark.parametrize("problem", list(BAD_PAGES))
def test_bad_page_is_rejected_whole_and_shown(scripted, db, problem) -> None:
    page, error = BAD_PAGES[problem]
    _serve(scripted, page)
    before = _snapshot(db)
    with Client(f"http://127.0.0.1:{scripted.server_port}", "t") as client:
        with pytest.raises(error):
            Engine(db, client).sync_once()
        assert _snapshot(db) == before
        assert read_status(db)["last_error"]
        # The server comes right: the next sync applies and clears the error.
        _serve(scripted, {"changes": [GOOD], "next": 8, "more": False})
        Engine(db, client).sync_once()
    assert read_cursor(db) == 8 and read_status(db)["last_error"] is None


def test_truncated_body_is_a_transport_error_and_applies_nothing(scripted, db) -> None:
    body = json.dumps({"changes": [GOOD], "next": 8, "more": False}).encode()
    _serve(scripted, body[:-10], length=len(body))
    before = _snapshot(db)
    url = f"http://127.0.0.1:{scripted.server_port}"
    with Client(url, "t", timeout=3) as client, pytest.raises((TransportError, ProtocolError)):
        Engine(db, client).sync_once()
    assert _snapshot(db) == before
    assert read_status(db)["online"] is False


def test_unknown_extra_fields_are_ignored(scripted, db) -> None:
    change = message_change(8, 9, 1, "новий")
    change["data"]["sentiment"] = "angry"
    change["trace"] = {"x": 1}
    _serve(scripted, {"changes": [change], "next": 8, "more": False, "server_time": "now"})
    with Client(f"http://127.0.0.1:{scripted.server_port}", "t") as client:
        Engine(db, client).sync_once()
    assert db.conn.execute("SELECT body FROM messages WHERE id = 9").fetchone() == ("новий",)


def test_429_carries_retry_after(scripted, db) -> None:
    _serve(scripted, {"detail": "slow down"}, status=429, headers={"Retry-After": "7"})
    url = f"http://127.0.0.1:{scripted.server_port}"
    with Client(url, "t") as client, pytest.raises(RateLimited) as caught:
        Engine(db, client).sync_once()
    assert caught.value.retry_after == 7


def test_plain_http_only_to_loopback_unless_insecure() -> None:
    assert check_url("http://127.0.0.1:8765/") == "http://127.0.0.1:8765"
    assert check_url("http://[::1]:8765") == "http://[::1]:8765"
    assert check_url("https://help.example.com") == "https://help.example.com"
    with pytest.raises(InsecureURL):
        check_url("http://help.example.com")
    assert check_url("http://help.example.com", insecure=True) == "http://help.example.com"
