"""SVG snapshots of every console screen in every UI language: inbox, ticket, help, macro
picker, outbox, conflicts, metrics and the supervisor board.

Why our own comparison instead of pytest-textual-snapshot: that plugin pins syrupy 4.8.0,
which needs pytest<9, and this repository's shared environment runs pytest 9 for every
suite; comparing `App.export_screenshot()` with committed SVGs needs no downgrade. The
store, clock and timezone are fixed, so the SVG is byte-stable. To accept a change, run
`UPDATE_SNAPSHOTS=1 pytest tests/tui/test_snapshots.py` and review the SVG diff (open the
files in a browser).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agentcli.server.sla_file import load_config
from agentcli.tui.screens.conflicts import ConflictsScreen
from agentcli.tui.screens.help import HelpScreen
from agentcli.tui.screens.inbox import InboxScreen
from agentcli.tui.screens.macro_picker import MacroPicker
from agentcli.tui.screens.metrics import MetricsScreen
from agentcli.tui.screens.outbox import OutboxScreen
from agentcli.tui.screens.supervisor import SupervisorScreen
from agentcli.tui.screens.ticket import TicketScreen
from tests.tui.helpers import screen_text, settle, wait_for

pytestmark = pytest.mark.anyio
SNAPSHOTS = Path(__file__).parent / "snapshots"
SIZE = (140, 40)
LANGUAGES = ("en", "zh-CN", "uk")
TICKET = 12  # a seeded ticket with an order and a multi-message thread
SUPERVISOR = "zhang.wei"


def _check(name: str, svg: str) -> None:
    path = SNAPSHOTS / f"{name}.svg"
    if os.environ.get("UPDATE_SNAPSHOTS") or not path.exists():
        path.write_text(svg, encoding="utf-8")
        if not os.environ.get("UPDATE_SNAPSHOTS"):
            pytest.fail(f"new snapshot written: {path.name}; commit it after looking at it")
        return
    assert svg == path.read_text(encoding="utf-8"), (
        f"{path.name} differs; UPDATE_SNAPSHOTS=1 rewrites it (review the diff first)"
    )


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_screens(make_app, lang: str) -> None:
    app = make_app(lang=lang)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("left_square_bracket")  # All: a full list
        await pilot.pause(0.15)  # past the preview delay
        await settle(pilot)
        _check(f"inbox-{lang}", app.export_screenshot(title=f"inbox {lang}"))
        app.open_ticket(TICKET)
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen))
        await settle(pilot)
        _check(f"ticket-{lang}", app.export_screenshot(title=f"ticket {lang}"))
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await settle(pilot)
        _check(f"help-{lang}", app.export_screenshot(title=f"help {lang}"))


async def _shot(app, pilot, key: str, screen: type, name: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(app.screen, screen))
    await settle(pilot)
    _check(name, app.export_screenshot(title=name))


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_more_screens(make_app, lang: str) -> None:
    app = make_app(lang=lang, sla_policy=load_config, agent=SUPERVISOR)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_ticket(TICKET)
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen))
        await settle(pilot)
        await _shot(app, pilot, "m", MacroPicker, f"macro-picker-{lang}")
        await pilot.press("escape")  # the picker, then the composer it opened, then the ticket
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen))
        await pilot.press("escape", "escape")
        await wait_for(pilot, lambda: isinstance(app.screen, InboxScreen))
        await settle(pilot)
        await _shot(app, pilot, "o", OutboxScreen, f"outbox-{lang}")
        await pilot.press("escape")
        await _shot(app, pilot, "c", ConflictsScreen, f"conflicts-{lang}")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, InboxScreen))
        await pilot.press("M")
        await wait_for(pilot, lambda: isinstance(app.screen, MetricsScreen))
        await settle(pilot)
        await wait_for(pilot, lambda: "Asia/Shanghai" in screen_text(app))
        _check(f"metrics-{lang}", app.export_screenshot(title=f"metrics {lang}"))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, InboxScreen))
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, SupervisorScreen))
        board = app.screen
        await wait_for(pilot, lambda: board.last_refresh is not None)
        await settle(pilot)
        _check(f"supervisor-{lang}", app.export_screenshot(title=f"supervisor {lang}"))
