"""The console keeps the metrics cache warm: a real `agentcli report` child process on a real
seeded store, so the report a supervisor runs next has (almost) nothing left to compute."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from agentcli.server.sla_file import load_config
from agentcli.store.bulk import seed_store
from agentcli.store.db import open_store
from agentcli.store.metrics import report
from agentcli.tui import app as console_app
from agentcli.tui.app import ConsoleApp
from agentcli.tui.metrics_warmer import MetricsWarmer

pytestmark = pytest.mark.anyio
SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def test_a_warm_up_leaves_the_next_report_nothing_to_compute(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    db = open_store(path)
    seed_store(db, 1_500, seed=3, worker=False)  # times relative to now, like `agentcli seed`
    warmer = MetricsWarmer(path, min_interval=3600)

    assert warmer.poke()
    assert warmer.wait(120) == 0
    now = int(time.time())
    start = now - 7 * 86_400
    cohort = db.conn.execute(
        "SELECT count(*) FROM tickets WHERE created_at >= ? AND created_at <= ?", (start, now)
    ).fetchone()[0]
    cached = db.conn.execute(
        "SELECT count(*) FROM metrics_tickets WHERE created_at >= ? AND created_at <= ?",
        (start, now),
    ).fetchone()[0]
    assert cohort > 100 and cached == cohort
    # Only tickets whose running SLA target fell due since the warm-up are computed again.
    result = report(db, load_config(), by="agent", start=start, end=now + 1, now=now)
    assert result.total.tickets == cohort
    assert result.recomputed < cohort // 20
    assert not warmer.poke()  # one run per interval


def test_stop_ends_a_run_in_progress(tmp_path: Path) -> None:
    warmer = MetricsWarmer(tmp_path / "store.db", command=SLEEPER)
    assert warmer.poke()
    assert warmer.running
    assert not warmer.poke()  # one run at a time
    warmer.stop()
    assert not warmer.running


async def test_the_console_warms_after_start_and_stops_the_run_when_it_quits(
    make_app: Callable[..., ConsoleApp], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(console_app, "WARM_METRICS_AFTER", 0.05)
    warmer = MetricsWarmer(tmp_path / "store.db", command=SLEEPER)
    app = make_app(metrics_warmer=warmer)
    async with app.run_test() as pilot:
        await pilot.pause(0.3)
        assert warmer.running
    assert not warmer.running
