"""The metrics charts, opened from the inbox with `M` on a seeded store, in each UI language."""

from __future__ import annotations

import sqlite3

import pytest

from agentcli.server.sla_file import load_config
from agentcli.tui.i18n import Translator
from agentcli.tui.screens.inbox import InboxScreen
from agentcli.tui.screens.metrics import MetricsScreen
from tests.tui.helpers import screen_text, settle, wait_for

SIZE = (150, 48)
pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("lang", ["en", "zh-CN", "uk"])
async def test_metrics_screen_shows_the_three_charts(make_app, lang: str) -> None:
    app = make_app(lang=lang, sla_policy=load_config)
    tr = Translator(lang)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("M")
        await wait_for(pilot, lambda: isinstance(app.screen, MetricsScreen))
        await settle(pilot)
        await wait_for(pilot, lambda: "Asia/Shanghai" in screen_text(app))
        shown = screen_text(app)
        for key in ("metrics.backlog", "metrics.first_reply", "metrics.sla_by_queue"):
            assert tr(key) in shown, key
        assert tr("metrics.title", days=7) in shown
        # The seeded store's queues are the SLA chart's bars, the legend names the targets.
        assert "returns" in shown
        assert tr("metrics.target.first_reply") in shown
        # Day labels of the period on the time charts (seeded data ends 2026-11-20).
        assert "11-20" in shown and "11-14" in shown
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, InboxScreen))


async def test_metrics_screen_without_a_policy_counts_wall_clock_time(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("M")
        await wait_for(pilot, lambda: isinstance(app.screen, MetricsScreen))
        await settle(pilot)
        await wait_for(pilot, lambda: "(UTC)" in screen_text(app))


async def test_wide_queue_names_are_numbered_and_named_below_the_chart(
    make_app, store_path
) -> None:
    conn = sqlite3.connect(store_path)
    conn.execute("UPDATE tickets SET queue = '售后' WHERE queue = 'returns'")
    conn.commit()
    conn.close()
    app = make_app(lang="zh-CN", sla_policy=load_config)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("M")
        await wait_for(pilot, lambda: isinstance(app.screen, MetricsScreen))
        await settle(pilot)
        await wait_for(pilot, lambda: "=售后" in screen_text(app))
        assert "■ 首次回复" in screen_text(app)


async def test_the_command_palette_opens_the_charts(make_app) -> None:
    app = make_app(sla_policy=load_config)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"metrics charts")
        await wait_for(pilot, lambda: "command: metrics charts" in screen_text(app))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, MetricsScreen))
