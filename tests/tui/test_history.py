"""The ticket screen's history pane: `H` shows the synced audit trail (a page at a time, `M`
for older events), values as plain text whatever they contain; `H` again hides it."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentcli.store.changes import apply_page, read_cursor
from agentcli.store.db import open_store
from agentcli.store.history import PAGE
from agentcli.tui.screens.ticket import TicketScreen
from agentcli.tui.widgets.history import HistoryPane
from tests.tui.helpers import screen_text, settle, wait_for

pytestmark = pytest.mark.anyio
SIZE = (150, 42)
TICKET = 12
EVENTS = PAGE + 50  # more than one page
HOSTILE = "[bold red]pwned[/] \x1b]8;;http://evil\x07link"


def _sync_events(path: Path) -> None:
    """The ticket's trail as the change feed brings it: the oldest is a hostile subject."""
    db = open_store(path)
    after = read_cursor(db)
    page = []
    for n in range(EVENTS):
        data = {
            "id": 1000 + n,
            "ticket_id": TICKET,
            "at": f"2026-11-19T{n // 60 % 24:02d}:{n % 60:02d}:00Z",
            "actor": "olena" if n % 2 else "sup",
            "client": f"agentcli/0.1.0 c-{n:04x}",
            "field": "priority",
            "old": "normal",
            "new": f"p{n}",
        }
        if n == 0:
            data |= {"actor": "customer", "client": "smtp", "field": "created", "old": None}
            data["new"] = HOSTILE
        page.append({"seq": after + n + 1, "kind": "event", "data": data})
    apply_page(db, page, after + len(page))
    db.conn.close()


async def test_history_pane_pages_the_trail_and_shows_it_inert(make_app, store_path) -> None:
    _sync_events(store_path)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_ticket(TICKET)
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen))
        await settle(pilot)
        pane = app.screen.query_one(HistoryPane)
        assert not pane.display and app.screen.query_one("#ticket-side").display

        await pilot.press("H")
        await wait_for(pilot, lambda: len(pane.events) == PAGE)
        await settle(pilot)
        shown = screen_text(app)
        assert "History" in shown
        newest = EVENTS - 1
        assert f"p{newest}" in shown and "olena" in shown and f"c-{newest:04x}" in shown
        assert not app.screen.query_one("#ticket-side").display  # the pane took its place
        assert [e.id for e in pane.events[:2]] == [1000 + newest, 1000 + newest - 1]
        body = pane.render_events().plain
        assert "older events: press M" in body and "p49 " not in body  # not loaded yet

        await pilot.press("M")
        await wait_for(pilot, lambda: len(pane.events) == EVENTS)
        body = pane.render_events().plain
        assert pane.next_before is None and "older events" not in body
        # The hostile subject is text: markup brackets shown, escape bytes as symbols.
        assert "[bold red]pwned[/]" in body and "\x1b" not in body and "␛" in body
        assert "customer" in body and "created" in body

        await pilot.press("H")
        await settle(pilot)
        assert not pane.display and app.screen.query_one("#ticket-side").display


async def test_history_pane_in_chinese_and_empty(make_app) -> None:
    app = make_app(lang="zh-CN")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_ticket(TICKET)
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen))
        await settle(pilot)
        await pilot.press("H")
        await wait_for(pilot, lambda: "暂无历史记录" in screen_text(app))
        assert "工单历史" in screen_text(app)
