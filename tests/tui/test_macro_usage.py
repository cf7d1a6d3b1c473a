"""The macro picker ranks macros agents used on similar tickets, and a reply sent with a
macro names it in its payload (the server turns that into the `macro` audit events)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from agentcli.tui.i18n import STRINGS, Translator
from agentcli.tui.screens.macro_picker import MacroPicker
from agentcli.tui.screens.ticket import TicketScreen
from agentcli.tui.widgets.composer import Composer
from tests.tui.conftest import NOW
from tests.tui.helpers import settle, wait_for

SIZE = (150, 42)
TICKET = 400  # a complaint (requested, en) with 6 similar tickets in the seeded store
USED = "nudge-no-reply"  # fits it not at all on its own (score 0): only its use suggests it
pytestmark = pytest.mark.anyio


def _record_uses(path: Path, ticket_id: int, count: int) -> list[int]:
    """`count` synced `macro` events of USED on tickets like `ticket_id`; their ids."""
    conn = sqlite3.connect(path)
    case_type, language = conn.execute(
        "SELECT case_type, language FROM tickets WHERE id = ?", (ticket_id,)
    ).fetchone()
    similar = [
        row[0]
        for row in conn.execute(
            "SELECT id FROM tickets WHERE case_type IS ? AND language = ? AND id != ?"
            " ORDER BY id LIMIT ?",
            (case_type, language, ticket_id, count),
        )
    ]
    conn.executemany(
        "INSERT INTO ticket_events(ticket_id, at, actor, client, field, old, new)"
        " VALUES (?, ?, 'li.na', 'agentcli/0.1.0', 'macro', NULL, ?)",
        [(similar_id, NOW - 3600, USED) for similar_id in similar],
    )
    conn.commit()
    conn.close()
    return similar


async def test_picker_suggests_a_macro_used_on_similar_tickets_and_the_reply_names_it(
    make_app, store_path: Path
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_ticket(TICKET)
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen))
        await settle(pilot)
        ticket = app.screen
        assert isinstance(ticket, TicketScreen) and ticket.detail is not None
        assert ticket.detail.macro_usage == {}
        # Uses arrive (as the change feed brings them); the ticket's worker reads them.
        assert len(_record_uses(store_path, TICKET, 4)) == 4
        ticket.load()
        await settle(pilot)
        assert ticket.detail.macro_usage == {USED: 4}
        await pilot.press("r")
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: isinstance(app.screen, MacroPicker))
        picker = app.screen
        assert isinstance(picker, MacroPicker)
        # Suggestions come first, best first, each marked: the complaint macro (5), then the
        # one used on 4 similar tickets (+3), then the 2-point ones in library order.
        ranked = [macro.id for macro in picker._ranked]
        assert ranked[:2] == ["complaint-acknowledged", USED] and len(ranked) == 5
        assert [macro.id for macro in picker.shown[:5]] == ranked
        assert "★" in str(picker.results.get_option_at_index(1).prompt)
        await pilot.press(*USED, "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen))
        composer = app.screen.query_one(Composer)
        assert [macro["id"] for macro in composer.macros] == [USED]
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not composer.is_open)
        await settle(pilot)
    conn = sqlite3.connect(store_path)
    rows = conn.execute(
        "SELECT type, payload FROM outbox WHERE ticket_id = ? ORDER BY seq", (TICKET,)
    ).fetchall()
    conn.close()
    assert rows[0][0] == "reply"
    assert json.loads(rows[0][1])["macros"] == [USED]


def test_the_history_pane_names_macro_events_in_every_language() -> None:
    labels = {language: Translator(language)("history.field.macro") for language in STRINGS}
    assert labels == {"en": "macro used", "zh-CN": "使用宏", "uk": "застосовано макрос"}
