"""The console against a real server in the test: live sync, presence, conflicts, palette.

A real uvicorn server (seeded demo data, SQLite) runs in a thread on a loopback port; the
console's store is synced from it first, as `agentcli demo` does, and the console runs its
sync engine in background threads (`LiveSync`). Nothing is mocked: the reply goes through the
outbox, the HTTP push, the server, the SSE nudge and the pull back.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from agentcli.domain.query import parse_query
from agentcli.domain.vocabulary import Priority
from agentcli.server.app import create_app
from agentcli.server.auth import rotate_token
from agentcli.server.db import open_engine
from agentcli.server.demo_seed import seed_demo
from agentcli.server.runner import start_in_thread
from agentcli.store.conflicts import open_count, record_conflict
from agentcli.store.db import open_store, transaction
from agentcli.store.inbox import inbox_page
from agentcli.sync.client import Client
from agentcli.sync.credentials import Credentials
from agentcli.sync.engine import Engine as SyncEngine
from agentcli.sync.status import set_state
from agentcli.tui import app as console_app
from agentcli.tui.app import ConsoleApp
from agentcli.tui.live import LiveSync
from agentcli.tui.metrics_warmer import MetricsWarmer
from agentcli.tui.screens.conflicts import ConflictsScreen
from agentcli.tui.screens.macro_picker import MacroPicker
from agentcli.tui.screens.ticket import TicketScreen
from agentcli.tui.widgets.composer import Composer
from agentcli.tui.widgets.ticket_list import TicketList
from tests.tui.helpers import screen_text, settle, wait_for

SIZE = (150, 42)
ME = "li.na"
OTHER = "zhang.wei"  # a supervisor: may write on any ticket
URGENT_RANK = Priority.URGENT.rank
pytestmark = pytest.mark.anyio


@dataclass
class LiveServer:
    engine: Engine
    url: str
    token: str
    other_token: str


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    engine = open_engine(str(tmp_path / "server.db"))
    seed_demo(engine, ticket_count=300, seed=1)
    token, other = rotate_token(engine, ME), rotate_token(engine, OTHER)
    assert token and other
    server = start_in_thread(create_app(engine))
    try:
        yield LiveServer(engine, server.url, token, other)
    finally:
        server.stop()
        engine.dispose()


@pytest.fixture
def synced_store(tmp_path: Path, live_server: LiveServer) -> Path:
    """The console's store after a first sync (what `agentcli demo` does before the console)."""
    path = tmp_path / "console.db"
    db = open_store(path)
    set_state(db, server=live_server.url, agent=ME)
    with Client(live_server.url, live_server.token) as client:
        SyncEngine(db, client).sync_once()
    db.conn.close()
    return path


def _app(store: Path, server: LiveServer, library) -> ConsoleApp:  # type: ignore[no-untyped-def]
    live = LiveSync(store, Credentials(server.url, ME, server.token))
    return ConsoleApp(
        store,
        agent=ME,
        lang="en",
        library=library,
        live=live,
        keymap_file=store.parent / "no-keymap.toml",
    )


def _server_count(engine: Engine, ticket_id: int, needle: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM messages WHERE ticket_id = :t AND body LIKE :b"),
                {"t": ticket_id, "b": f"%{needle}%"},
            ).scalar_one()
        )


async def test_reply_goes_pending_then_synced_against_a_real_server(
    synced_store: Path, live_server: LiveServer, library, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server only takes replies on tickets that are ours (or unassigned in our queues).
    query = "assignee:me lang:en sort:created"
    db = open_store(synced_store)
    first = inbox_page(db, parse_query(query), me=ME, limit=1).rows[0].id
    db.conn.close()
    # Every thread the screen showed, to see the pending state even if the push is fast.
    shown: list[list[tuple[str, bool]]] = []
    original = TicketScreen._show_thread

    def record(screen: TicketScreen, detail) -> None:  # type: ignore[no-untyped-def]
        shown.append([(m.body, m.pending) for m in detail.messages])
        original(screen, detail)

    monkeypatch.setattr(TicketScreen, "_show_thread", record)
    app = _app(synced_store, live_server, library)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "online" in screen_text(app), timeout=20)
        await pilot.press("slash", "ctrl+u", *query, "enter")
        await wait_for(pilot, lambda: (app.screen.query_one(TicketList).current() or 0) != 0)
        await wait_for(pilot, lambda: app.screen.query_one(TicketList).current().id == first)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen))
        await wait_for(pilot, lambda: app.screen.detail is not None)
        ticket = app.screen
        await pilot.press("r", *"Hello, ")
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: isinstance(app.screen, MacroPicker))
        await pilot.press(*";cpn")  # coupon-reissue: needs vars.coupon_code
        await settle(pilot, rounds=1)
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(app.screen.query(".var-input")))
        assert "vars.coupon_code" in screen_text(app)
        await pilot.press(*"LIVE42", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen))
        composer = ticket.query_one(Composer)
        assert "LIVE42" in composer.area.text
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not composer.is_open)

        def mine() -> list[bool]:
            detail = ticket.detail
            return [m.pending for m in detail.messages if "LIVE42" in m.body] if detail else []

        # Pending first (the optimistic local copy), then settled by the background sync.
        await wait_for(pilot, lambda: any(p for t in shown for b, p in t if "LIVE42" in b))
        await wait_for(pilot, lambda: mine() == [False], timeout=20)
        await wait_for(pilot, lambda: "outbox: 0" in screen_text(app), timeout=10)
        # The screen repaints after the thread is re-read: wait for the marker to go.
        await wait_for(pilot, lambda: "[pending]" not in screen_text(app), timeout=5)
        assert "LIVE42" in screen_text(app)
        assert _server_count(live_server.engine, first, "LIVE42") == 1
    # Nothing was pushed twice after the console stopped its threads, either.
    assert _server_count(live_server.engine, first, "LIVE42") == 1


async def test_presence_both_ways_and_remote_changes_repaint(
    synced_store: Path, live_server: LiveServer, library
) -> None:
    app = _app(synced_store, live_server, library)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "online" in screen_text(app), timeout=20)
        assert app.screen.apply_filter("assignee:me sort:created")
        tickets = app.screen.query_one(TicketList)
        await wait_for(pilot, lambda: tickets.current() is not None)
        ticket_id = tickets.current().id
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen))
        await pilot.press("r")  # composer open: "replying"

        def posted(activity: str) -> bool:
            with live_server.engine.connect() as conn:
                found = conn.execute(
                    text(
                        "SELECT count(*) FROM presence WHERE agent = :a AND ticket_id = :t"
                        " AND activity = :v"
                    ),
                    {"a": ME, "t": ticket_id, "v": activity},
                ).scalar_one()
            return bool(found)

        await wait_for(pilot, lambda: posted("replying"), timeout=10)
        # Another agent opens the same ticket's composer: the status line warns.
        with Client(live_server.url, live_server.other_token) as other:
            other.presence(ticket_id, "replying")
            await wait_for(
                pilot,
                lambda: f"{OTHER} is replying to #{ticket_id}" in screen_text(app),
                timeout=10,
            )
            # ...and adds a note on the server: it shows in the open ticket without a key.
            other.push(_note(ticket_id, "remote note 7731"))
        await wait_for(pilot, lambda: "remote note 7731" in screen_text(app), timeout=15)


def _note(ticket_id: int, body: str) -> list:  # type: ignore[type-arg]
    from agentcli.domain.mutations import Mutation, MutationType

    return [Mutation(MutationType.NOTE, ticket_id, None, {"body": body})]


async def test_conflicts_screen_discards_and_reapplies(
    synced_store: Path, live_server: LiveServer, library
) -> None:
    db = open_store(synced_store)
    ticket_id = db.conn.execute(
        "SELECT id FROM tickets WHERE assignee = ? AND status != 'solved' ORDER BY id LIMIT 1",
        (ME,),
    ).fetchone()[0]
    for client_id in ("c-1", "c-2"):
        with transaction(db) as conn:
            row = {
                "client_id": client_id,
                "type": "set-priority",
                "ticket_id": ticket_id,
                "base_version": 1,
                "payload": {"priority": "urgent"},
            }
            record_conflict(conn, row, reason="changed", version=2, current={"priority": "low"})
    db.conn.close()
    app = _app(synced_store, live_server, library)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "conflicts: 2" in screen_text(app), timeout=20)
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConflictsScreen))
        await wait_for(pilot, lambda: len(app.screen.rows) == 2)
        assert "urgent" in screen_text(app) and "low" in screen_text(app)
        await pilot.press("d")
        await wait_for(pilot, lambda: len(app.screen.rows) == 1)
        await pilot.press("r")  # re-apply: queued against the current version, pushed
        await wait_for(pilot, lambda: len(app.screen.rows) == 0)
        await pilot.press("escape")
        await wait_for(pilot, lambda: "conflicts: 0" in screen_text(app), timeout=10)
        await wait_for(pilot, lambda: "outbox: 0" in screen_text(app), timeout=15)
    db = open_store(synced_store)
    assert open_count(db) == 0
    states = db.conn.execute("SELECT state FROM outbox WHERE ticket_id = ?", (ticket_id,))
    assert "rejected" not in {row[0] for row in states}
    with live_server.engine.connect() as conn:
        found = conn.execute(text("SELECT priority FROM tickets WHERE id = :t"), {"t": ticket_id})
        assert found.scalar_one() in ("urgent", URGENT_RANK)  # the re-applied intent won
    db.conn.close()


async def test_command_palette_finds_views_tickets_and_commands(
    synced_store: Path, live_server: LiveServer, library
) -> None:
    app = _app(synced_store, live_server, library)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, rounds=1)
        db = open_store(synced_store)
        ticket_id = db.conn.execute("SELECT max(id) FROM tickets").fetchone()[0]
        db.conn.close()
        await pilot.press("ctrl+p")
        await pilot.press(*f"#{ticket_id}")
        await wait_for(pilot, lambda: f"open ticket #{ticket_id}" in screen_text(app))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen))
        assert app.screen.ticket_id == ticket_id
        await pilot.press("escape")
        await pilot.press("ctrl+p", *"conflicts")
        await wait_for(pilot, lambda: "command: conflicts" in screen_text(app))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConflictsScreen))


async def test_metrics_are_warmed_after_the_first_sync_not_during_it(
    tmp_path: Path, live_server: LiveServer, library, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console_app, "WARM_METRICS_AFTER", 0.01)  # due while the sync runs
    store, seen = tmp_path / "fresh.db", tmp_path / "tickets-seen-by-warm-up"
    set_state(open_store(store), server=live_server.url, agent=ME)
    # Stands in for `agentcli report`: records how many tickets the store had when it began.
    count = f"sqlite3.connect({str(store)!r}).execute('SELECT count(*) FROM tickets')"
    write = f"pathlib.Path({str(seen)!r}).write_text(str({count}.fetchone()[0]))"
    probe = f"import pathlib, sqlite3; {write}"
    warmer = MetricsWarmer(store, command=[sys.executable, "-c", probe])
    live = LiveSync(store, Credentials(live_server.url, ME, live_server.token))
    app = ConsoleApp(store, agent=ME, library=library, live=live, metrics_warmer=warmer)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "online" in screen_text(app), timeout=20)
        await wait_for(pilot, lambda: warmer.started, timeout=10)
        assert warmer.wait(20) == 0
    assert seen.read_text() == "300"  # the whole first sync, not the empty store at start
