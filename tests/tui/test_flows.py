"""Whole console flows driven by keys through Textual's Pilot, on a real seeded store."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from agentcli.domain.query import parse_query
from agentcli.store.changes import apply_page
from agentcli.store.db import open_store
from agentcli.store.drafts import load_draft
from agentcli.store.inbox import inbox_page
from agentcli.tui.screens.inbox import InboxScreen
from agentcli.tui.screens.macro_picker import MacroPicker
from agentcli.tui.screens.ticket import TicketScreen
from agentcli.tui.widgets.composer import Composer
from agentcli.tui.widgets.panes import FilterBar
from agentcli.tui.widgets.ticket_list import TicketList
from tests.tui.conftest import AGENT, NOW
from tests.tui.helpers import open_ticket, screen_text, settle, visible_rows, wait_for
from tests.wire_pages import customer_change, message_change, order_change, ticket_change

SIZE = (150, 42)
pytestmark = pytest.mark.anyio


def _outbox(path: Path) -> list[tuple[str, int, dict]]:  # type: ignore[type-arg]
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT type, ticket_id, payload FROM outbox ORDER BY seq").fetchall()
    conn.close()
    return [(kind, ticket, json.loads(payload)) for kind, ticket, payload in rows]


def _first_ticket(path: Path, query: str) -> int:
    db = open_store(path)
    rows = inbox_page(db, parse_query(query), me=AGENT, now=NOW, limit=1).rows
    db.conn.close()
    return rows[0].id


async def test_filter_open_macro_missing_variable_send_shows_pending(make_app, store_path):
    query = "lang:en sort:created"
    first = _first_ticket(store_path, query)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        assert app.screen.query_one(FilterBar).has_class("-open")
        await pilot.press("ctrl+u", *query, "enter")  # the bar opens on the view's query
        await settle(pilot)
        tickets = app.screen.query_one(TicketList)
        assert tickets.current() is not None and tickets.current().id == first
        await open_ticket(pilot)
        ticket = app.screen
        assert isinstance(ticket, TicketScreen) and ticket.ticket_id == first
        await pilot.press("r")
        await pilot.press(*"Hello, ")
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: isinstance(app.screen, MacroPicker))
        await pilot.press(*";cpn")  # shortcut of coupon-reissue, which needs vars.coupon_code
        await settle(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(app.screen.query(".var-input")))
        assert isinstance(app.screen, MacroPicker)
        assert "vars.coupon_code" in screen_text(app)
        await pilot.press(*"SAVE20", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen))
        composer = app.screen.query_one(Composer)
        assert composer.area.text.startswith("Hello, ")
        assert "SAVE20" in composer.area.text
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not composer.is_open)
        await settle(pilot)
        detail = app.screen.detail
        last = detail.messages[-1]
        assert last.pending and "SAVE20" in last.body
        assert "[pending]" in screen_text(app)
        assert "outbox: " in screen_text(app)
    kinds = [kind for kind, ticket, _ in _outbox(store_path) if ticket == first]
    assert kinds[0] == "reply" and "set-status" in kinds  # the macro's action is queued too
    assert load_draft(open_store(store_path), first, "reply") is None  # sent: draft gone


async def test_letter_keys_type_into_the_composer(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_ticket(pilot)
        await pilot.press("n")
        await pilot.press(*"jkasptzxq?:GJK")
        composer = app.screen.query_one(Composer)
        assert composer.area.text == "jkasptzxq?:GJK"
        assert isinstance(app.screen, TicketScreen) and composer.kind == "note"
        assert not app.screen.query_one("#command-line").has_class("-open")


async def test_draft_survives_a_restart(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen))
        ticket_id = app.screen.ticket_id
        await pilot.press("r", *"退款已处理")
        await pilot.pause(0.5)  # past the draft delay
        await settle(pilot)
    # A new process: the draft comes back when the composer opens.
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_ticket(ticket_id)
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen))
        await settle(pilot)
        await pilot.press("r")
        assert app.screen.query_one(Composer).area.text == "退款已处理"


async def test_filter_error_names_the_position(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", "ctrl+u", *"status:open priority:>=hgih")
        await pilot.pause()
        text = screen_text(app)
        assert "position 23: expected a priority" in text
        assert "│" + " " * 25 + "^" in text  # under the "h" of "hgih", past the "/ " prompt
        await pilot.press("enter")  # refused: the list keeps its view
        assert app.screen.query_one(FilterBar).has_class("-open")
        await pilot.press("escape")
        assert not app.screen.query_one(FilterBar).has_class("-open")


async def test_bulk_mark_and_command_line(make_app, store_path):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("left_square_bracket")  # the last view: All
        await settle(pilot)
        tickets = app.screen.query_one(TicketList)
        first, second = tickets.cache.peek(0), tickets.cache.peek(1)
        await pilot.press("x", "x")
        assert set(tickets.marked) == {first.id, second.id}
        await pilot.press("colon", *"tag +破损 -vip", "enter")
        await settle(pilot)
        assert not tickets.marked  # cleared after the change
        under_cursor = tickets.current()
        await pilot.press("s", *"pending", "enter")  # `s` opens `:status `
        await settle(pilot)
    queued = _outbox(store_path)
    assert [(k, t) for k, t, _ in queued] == [
        ("tag", first.id),
        ("tag", second.id),
        ("set-status", under_cursor.id),
    ]
    assert queued[0][2] == {"add": ["破损"], "remove": ["vip"]}


async def test_keys_move_and_jump(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("right_square_bracket")  # next view: Unassigned
        await pilot.press("left_square_bracket", "left_square_bracket")  # wraps to All
        await settle(pilot)
        tickets = app.screen.query_one(TicketList)
        assert app.screen.views[app.screen.view_index][0] == "All"
        total = tickets.total
        assert total == 400
        await pilot.press("j", "j", "k")
        assert tickets.cursor == 1
        await pilot.press("G")
        await settle(pilot)
        assert tickets.cursor == total - 1 and tickets.current() is not None
        await pilot.press("ctrl+u")
        assert tickets.cursor == total - 1 - tickets.size.height // 2
        await pilot.press("g")
        await settle(pilot)
        assert tickets.cursor == 0
        await pilot.press("ctrl+d", "pagedown")
        await settle(pilot)
        assert tickets.current() is not None
        # Ticket view: J/K walk the list.
        start = tickets.cursor
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen))
        await pilot.press("J")
        await settle(pilot)
        assert app.screen.ticket_id == tickets.cache.peek(start + 1).id
        await pilot.press("K", "K")
        await settle(pilot)
        assert app.screen.ticket_id == tickets.cache.peek(start - 1).id
        await pilot.press("escape")
        assert isinstance(app.screen, InboxScreen)
        await pilot.press("question_mark")
        assert "first ticket" in screen_text(app)
        await pilot.press("question_mark")
        assert isinstance(app.screen, InboxScreen)


async def test_user_keymap_rebinds_by_id(make_app, tmp_path):
    keymap = tmp_path / "keymap.toml"
    keymap.write_text('[keys]\n"list.down" = "ctrl+n"\n', encoding="utf-8")
    app = make_app(keymap_file=keymap)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("left_square_bracket")  # All
        await settle(pilot)
        tickets = app.screen.query_one(TicketList)
        await pilot.press("ctrl+n", "ctrl+n")
        assert tickets.cursor == 2
        await pilot.press("j")  # no longer bound
        assert tickets.cursor == 2


EVIL_SUBJECT = "[bold red]FREE[/] \x1b[2J\x1b]0;pwned\x07 refund"
EVIL_BODY = "[link=https://evil.example]click[/link] \x1b[31mred\x1b[0m \x1b]8;;https://x\x07y"


def _add_evil_ticket(path: Path) -> int:
    db = open_store(path)
    ticket_id = 900_001
    page = [
        customer_change(1, customer_id=800_001),
        order_change(2, order_id=800_001),
        ticket_change(
            3,
            ticket_id,
            subject=EVIL_SUBJECT,
            requester_id=800_001,
            order_id=800_001,
            assignee=AGENT,
            updated_at="2026-11-20T11:59:00Z",
        ),
        message_change(4, 900_001, ticket_id, EVIL_BODY),
    ]
    cursor = db.conn.execute("SELECT coalesce(max(seq), 0) FROM outbox").fetchone()[0]
    del cursor
    apply_page(db, page, 10_000_000)
    db.conn.close()
    return ticket_id


async def test_markup_and_escapes_in_customer_text_show_inert(make_app, store_path):
    ticket_id = _add_evil_ticket(store_path)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.screen.apply_filter(f"id:{ticket_id}")
        await settle(pilot)
        row = visible_rows(app)[0]
        assert "[bold red]FREE[/]" in row and "␛[2J" in row and "␇" in row
        await pilot.pause(0.2)
        await settle(pilot)
        assert "[link=https://evil.example]click[/link]" in screen_text(app)  # preview pane
        await open_ticket(pilot)
        text = screen_text(app)
        assert "[link=https://evil.example]click[/link]" in text
        assert "␛[31mred␛[0m" in text and "\x1b" not in text
        # No segment on screen carries a link or the markup's style.
        strips = app.screen._compositor.render_strips()
        assert not any(seg.style and seg.style.link for strip in strips for seg in strip)


async def test_a_one_megabyte_message_does_not_freeze(make_app, store_path):
    ticket_id = _add_evil_ticket(store_path)
    db = open_store(store_path)
    huge = ("退款 refund повернення " * 60_000)[:1_000_000]
    db.conn.execute("UPDATE messages SET body = ? WHERE ticket_id = ?", (huge, ticket_id))
    db.conn.close()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.apply_filter(f"id:{ticket_id}")
        await settle(pilot)
        started = time.perf_counter()
        await open_ticket(pilot)
        assert "more characters not shown" in screen_text(app)
        assert time.perf_counter() - started < 5.0
        await pilot.press("j", "k", "escape")
        assert isinstance(app.screen, InboxScreen)
