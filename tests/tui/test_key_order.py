"""Keys typed faster than the console handles them act in the order they were typed.

`burst` queues every key at once, as a terminal delivers a fast typist's keys or tmux's
send-keys; the assertions are what the agent would see after it."""

from __future__ import annotations

import json
import sqlite3

import pytest

from agentcli.tui.screens.macro_picker import MacroPicker
from agentcli.tui.screens.ticket import TicketScreen
from agentcli.tui.widgets.composer import Composer
from agentcli.tui.widgets.panes import FilterBar
from tests.tui.conftest import AGENT
from tests.tui.helpers import burst, open_ticket, screen_text, settle, visible_rows, wait_for

SIZE = (150, 42)
pytestmark = pytest.mark.anyio


async def test_a_query_typed_right_after_slash_lands_in_the_filter(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("left_square_bracket")  # All: every assignee
        await settle(pilot)
        burst(pilot, "slash", "ctrl+u", *"assignee:me sort:created", "enter")
        await settle(pilot)
        await wait_for(pilot, lambda: not app.screen.query_one(FilterBar).has_class("-open"))
        await settle(pilot)
        assert app.screen.filter_text == "assignee:me sort:created"
        rows = [row for row in visible_rows(app) if row.strip()]
        assert rows and all(AGENT in row for row in rows), "\n".join(rows)
        # No letter of the query ran a binding (`a` opens ":assign", `s` ":status").
        assert not app.screen.query_one("#command-line").has_class("-open")


async def test_ctrl_u_then_text_in_one_burst_keeps_the_text(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")  # opens on the view's query
        bar = app.screen.query_one(FilterBar)
        assert bar.input.value
        burst(pilot, "ctrl+u", *"status:open")
        await settle(pilot)
        assert bar.input.value == "status:open"
        assert "status:open" in screen_text(app)


async def test_a_command_typed_right_after_colon_is_run(make_app, store_path):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first = app.screen.tickets.current().id
        burst(pilot, "colon", *"tag +burst", "enter", "j")
        await settle(pilot)
        conn = sqlite3.connect(store_path)
        rows = conn.execute("SELECT type, ticket_id, payload FROM outbox").fetchall()
        conn.close()
        assert [(kind, ticket, json.loads(payload)) for kind, ticket, payload in rows] == [
            ("tag", first, {"add": ["burst"], "remove": []})
        ]
        # The key typed after enter moved the list, after the command took its target.
        assert app.screen.tickets.cursor == 1
        assert not app.screen.query_one("#command-line").has_class("-open")


async def test_a_reply_typed_right_after_r_lands_in_the_composer(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_ticket(pilot)
        burst(pilot, "r", *"Hi jk", "ctrl+u", *"您好，退款")
        await settle(pilot)
        composer = app.screen.query_one(Composer)
        assert composer.kind == "reply"
        # ctrl+u cleared "Hi jk" before the rest was typed, as on a slow keyboard.
        assert composer.area.text == "您好，退款"


async def test_keys_typed_after_enter_in_the_filter_move_the_new_list(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(pilot, "slash", "ctrl+u", *"status:open", "enter", "j", "j")
        await settle(pilot)
        await wait_for(pilot, lambda: app.focused is app.screen.tickets)
        await settle(pilot)
        bar = app.screen.query_one(FilterBar)
        assert "/ status:open" in screen_text(app) and not bar.has_class("-open")
        assert app.screen.tickets.cursor == 2


async def test_keys_typed_after_enter_on_a_bad_query_stay_in_the_filter(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(pilot, "slash", "ctrl+u", *"priority:>=hgih", "enter", "backspace", "backspace")
        await settle(pilot)
        bar = app.screen.query_one(FilterBar)
        assert bar.has_class("-open") and bar.input.value == "priority:>=hg"
        assert "expected a priority" in screen_text(app)


async def test_a_macro_and_its_variable_typed_in_one_burst(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_ticket(pilot)
        await pilot.press("r", "ctrl+t")
        await wait_for(pilot, lambda: isinstance(app.screen, MacroPicker))
        # coupon-reissue (shortcut ;cpn) asks for vars.coupon_code; the rest is the reply.
        burst(pilot, *";cpn", "enter", *"SAVE20", "enter", *" OK?")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen))
        await settle(pilot)
        text = app.screen.query_one(Composer).area.text
        assert "SAVE20" in text and text.endswith(" OK?"), text
