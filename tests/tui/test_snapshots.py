"""SVG snapshots of the inbox, ticket and help screens in every UI language.

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

from agentcli.tui.screens.help import HelpScreen
from agentcli.tui.screens.ticket import TicketScreen
from tests.tui.helpers import settle, wait_for

pytestmark = pytest.mark.anyio
SNAPSHOTS = Path(__file__).parent / "snapshots"
SIZE = (140, 40)
LANGUAGES = ("en", "zh-CN", "uk")
TICKET = 12  # a seeded ticket with an order and a multi-message thread


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
