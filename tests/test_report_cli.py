"""`agentcli report` run as a user runs it: a real process on a real store file."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len

from agentcli.store.db import open_store
from tests.metrics_timelines import POLICY_TOML, H, add_ticket

NOW = "2025-06-09T10:00:00+00:00"  # Monday 18:00 in Shanghai


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "store.db"
    db = open_store(path)
    db.conn.execute("INSERT INTO customers(id, name, locale) VALUES (1, 'Li Wei', 'zh-CN')")
    # mei: 2h over a weekend, one-touch, rated good; 1h then a pause, rated bad.
    add_ticket(
        db,
        created="2025-06-06 17:00",
        status="solved",
        posts=[("2025-06-06 17:00", "customer"), ("2025-06-09 10:00", "agent")],
        changes=[("2025-06-09 10:00", "new", "solved")],
        csat="good",
    )
    add_ticket(
        db,
        created="2025-06-03 09:00",
        status="solved",
        posts=[
            ("2025-06-03 09:00", "customer"),
            ("2025-06-03 10:00", "agent"),
            ("2025-06-04 11:00", "agent"),
        ],
        changes=[("2025-06-03 10:00", "new", "pending"), ("2025-06-04 12:00", "pending", "solved")],
        csat="bad",
    )
    # A queue named in Chinese and an agent with 3h, still open.
    add_ticket(
        db,
        created="2025-06-04 09:00",
        status="open",
        assignee="taras",
        queue="售后",
        posts=[("2025-06-04 09:00", "customer"), ("2025-06-04 12:00", "agent")],
    )
    db.conn.close()
    (tmp_path / "policy.toml").write_text(POLICY_TOML, encoding="utf-8")
    return path


def run(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    policy = str(store.parent / "policy.toml")
    env = {**os.environ, "AGENTCLI_DB": str(store), "COLUMNS": "100"}
    return subprocess.run(
        [sys.executable, "-m", "agentcli", "report", "--sla-policy", policy, "--now", NOW, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_json_by_agent_has_the_known_figures(store: Path) -> None:
    done = run(store, "--period", "7d", "--by", "agent", "--format", "json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["by"] == "agent" and out["units"]["times"] == "business seconds"
    rows = {row["agent"]: row for row in out["rows"]}
    assert list(rows) == ["mei", "taras"]
    mei = rows["mei"]
    assert mei["tickets"] == 2
    assert mei["first_reply_median"] == 1.5 * H
    assert mei["resolution_median"] == (2 * H + 12 * H) / 2
    assert mei["sla_first_reply"] == 1.0
    assert mei["sla_resolution"] == 1.0  # 12h of full resolution, but 4h of running clock
    assert mei["one_touch_rate"] == 0.5 and mei["reopen_rate"] == 0.0
    assert mei["csat"] == 0.5 and mei["csat_responses"] == 2
    assert rows["taras"]["first_reply_median"] == 3 * H and rows["taras"]["backlog"] == 1
    assert out["total"]["tickets"] == 3 and out["total"]["first_reply_median"] == 2 * H


def test_a_shorter_period_leaves_older_tickets_out(store: Path) -> None:
    out = json.loads(run(store, "--period", "96h", "--format", "json").stdout)
    assert [row["agent"] for row in out["rows"]] == ["mei"]  # only Friday's ticket
    assert out["total"]["tickets"] == 1


def test_csv_for_spreadsheets(store: Path) -> None:
    done = run(store, "--by", "queue", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [row["queue"] for row in rows] == ["returns", "售后", "(all)"]
    assert rows[0]["first_reply_median"] == "5400.0" and rows[0]["csat"] == "0.5"
    assert rows[1]["csat"] == ""  # no rating: empty, not zero


def test_table_is_aligned_by_cell_width(store: Path) -> None:
    done = run(store, "--by", "queue")
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    header, *body = [line for line in lines if "─" not in line]
    assert "queue" in header and "FRT med" in header and "CSAT" in header
    assert [line.split()[0] for line in body] == ["returns", "售后", "(all)"]
    returns = next(line for line in body if line.split()[0] == "returns")
    assert "1h 30m" in returns and "50.0%" in returns and "100.0%" in returns
    # Right-aligned numbers end at the same cell in every row, CJK counted as two cells.
    ends = set()
    for line, value in zip(body[:2], (" 1h 30m", " 3h"), strict=True):
        ends.add(cell_len(line[: line.index(value) + len(value)]))
    assert len(ends) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--period", "7x"), "bad period '7x'"),
        (("--period", "0d"), "bad period"),
        (("--by", "team"), "'team' is not one of 'agent', 'queue', 'channel', 'language', 'case'"),
        (("--format", "xlsx"), "'xlsx' is not one of 'table', 'csv', 'json'"),
    ],
)
def test_bad_options_are_clear_click_errors(
    store: Path, args: tuple[str, ...], message: str
) -> None:
    done = run(store, *args)
    assert done.returncode == 2
    assert message in done.stderr and done.stdout == ""


def test_a_report_that_computes_many_tickets_says_so_once(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from agentcli.cli import report_cmd
    from agentcli.cli.main import main

    monkeypatch.setattr(report_cmd, "ANNOUNCE_MIN_TICKETS", 2)
    policy = str(store.parent / "policy.toml")
    args = ["--db", str(store), "report", "--sla-policy", policy, "--now", NOW, "--format", "json"]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.stderr
    assert "computing the figures of 3 tickets" in first.stderr
    assert json.loads(first.stdout)["total"]["tickets"] == 3
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 0 and again.stderr == ""
    assert json.loads(again.stdout) == json.loads(first.stdout)
