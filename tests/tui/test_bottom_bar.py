"""The bottom of every screen: the `:` command line and the one-line notice must be seen above
the status line (docked one by one, the status line used to cover both)."""

from __future__ import annotations

import pytest

from tests.tui.helpers import screen_text, settle

pytestmark = pytest.mark.anyio
SIZE = (150, 42)


def _bottom(app, rows: int = 3) -> list[str]:  # type: ignore[no-untyped-def]
    return [line.strip() for line in screen_text(app).splitlines()[-rows:]]


async def test_command_line_text_and_its_answer_show_above_the_status_line(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert _bottom(app)[-1].startswith("agent: li.na")
        await pilot.press("colon", *"status nonsense")
        await pilot.pause()
        typed, status = _bottom(app, 2)
        assert typed == "status nonsense" and status.startswith("agent: li.na")
        await pilot.press("enter")
        await settle(pilot)
        notice, status = _bottom(app, 2)
        assert notice.startswith("usage: :status new|open|pending") and status.startswith("agent:")


async def test_the_notice_goes_after_a_while(make_app, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("agentcli.tui.screens.base.NOTICE_SECONDS", 0.2)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("colon", *"status nonsense", "enter")
        await settle(pilot)
        assert any(line.startswith("usage:") for line in _bottom(app))
        await pilot.pause(0.4)
        assert not any(line.startswith("usage:") for line in _bottom(app))
