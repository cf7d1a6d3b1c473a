"""The supervisor board's figures and bulk moves on a real seeded store, checked against the
obvious SQL (GROUP BY scans) and through the CLI a supervisor runs."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from agentcli.store.bulk import seed_store
from agentcli.store.db import open_store
from agentcli.store.reassign import ReassignError, describe, enqueue_moves, select_agent_queue
from agentcli.store.workload import AT_RISK_SECONDS, UNRESOLVED, board

NOW = 1795176000  # 2026-11-20T12:00:00Z


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("workload") / "seeded.db"
    db = open_store(path)
    seed_store(db, 3000, seed=11, now=NOW, worker=False)
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    return path


@pytest.fixture
def store(seeded: Path, tmp_path: Path) -> Path:
    path = tmp_path / "store.db"
    shutil.copy(seeded, path)
    return path


def _naive(conn: sqlite3.Connection, sql: str, *params: object) -> dict:
    return {row[0]: row[1:] for row in conn.execute(sql, params)}


def test_board_equals_group_by_scans(store: Path) -> None:
    db = open_store(store)
    found = board(db, now=NOW)
    conn = db.conn
    unresolved = ", ".join(f"'{s}'" for s in UNRESOLVED)
    risk = "sum(sla_due > ? AND sla_due <= ?), sum(sla_due <= ?)"
    window = (NOW, NOW + AT_RISK_SECONDS, NOW)
    agents = _naive(
        conn,
        f"SELECT assignee, sum(status IN ('new', 'open')), sum(status IN ('pending', 'on-hold')),"
        f" {risk} FROM tickets GROUP BY assignee",
        *window,
    )
    assert found.agents, "the seed has a team"
    for agent in found.agents:
        expected = agents.get(agent.login, (0, 0, 0, 0))
        assert (agent.open, agent.pending, agent.at_risk, agent.breached) == expected
    queues = _naive(
        conn,
        f"SELECT queue, sum(status IN ({unresolved})),"
        f" sum(status IN ({unresolved}) AND assignee = ''), {risk} FROM tickets GROUP BY queue",
        *window,
    )
    assert {q.queue for q in found.queues} == set(queues)
    for queue in found.queues:
        assert (queue.volume, queue.unassigned, queue.at_risk, queue.breached) == queues[
            queue.queue
        ]
        waiting = conn.execute(
            "SELECT channel, count(*), min(created_at) FROM tickets WHERE queue = ?"
            f" AND assignee = '' AND status IN ({unresolved}) GROUP BY channel",
            (queue.queue,),
        ).fetchall()
        assert queue.by_channel == {channel: n for channel, n, _ in waiting}
        assert queue.oldest_waiting == min((oldest for *_, oldest in waiting), default=None)
    free = conn.execute(f"SELECT {risk} FROM tickets WHERE assignee = ''", window).fetchone()
    assert (found.unassigned_at_risk, found.unassigned_breached) == tuple(free)


def test_last_activity_is_each_agents_latest_audit_event(store: Path) -> None:
    db = open_store(store)
    before = board(db, now=NOW)
    assert all(agent.last_activity is None for agent in before.agents)  # no events yet
    db.conn.executemany(
        "INSERT INTO ticket_events(ticket_id, at, actor, field, old, new)"
        " VALUES (1, ?, ?, 'status', 'new', 'open')",
        [(NOW - 600, "li.na"), (NOW - 60, "li.na"), (NOW - 7200, "olena.koval")],
    )
    seen = {a.login: a.last_activity for a in board(db, now=NOW).agents}
    assert seen["li.na"] == NOW - 60 and seen["olena.koval"] == NOW - 7200
    assert seen["wang.fang"] is None


def test_bulk_move_is_one_transaction_with_each_tickets_base(store: Path) -> None:
    db = open_store(store)
    queue = select_agent_queue(db, "li.na")
    picked = describe(db, [*queue, 999_999])
    assert picked.missing == [999_999] and picked.owners == {"li.na": len(queue)}
    with pytest.raises(ReassignError):  # an unknown target: nothing is queued at all
        enqueue_moves(db, queue, to_agent="nobody", to_queue=None, author="zhang.wei")
    assert db.conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
    made = enqueue_moves(db, queue, to_agent="wang.fang", to_queue="vip", author="zhang.wei")
    assert len(made) == 2 * len(queue)  # assign + set-queue each
    rows = db.conn.execute(
        "SELECT o.type, o.base_version, t.version, o.payload FROM outbox o"
        " JOIN tickets t ON t.id = o.ticket_id ORDER BY o.seq"
    ).fetchall()
    for kind, base, version, payload in rows:
        assert base == version  # compare-and-set against the version the supervisor saw
        expect = json.loads(payload)["expect"]
        # The queue move expects the assignee the assign before it sets (same batch).
        assert expect["assignee"] == ("li.na" if kind == "assign" else "wang.fang")
    assert describe(db, queue).owners == {"wang.fang": len(queue)}


def run(db_path: Path, tmp: Path, *args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "AGENTCLI_DB": str(db_path),
        "AGENTCLI_CONFIG_DIR": str(tmp / "config"),  # not logged in: moves stay queued
        "AGENTCLI_NO_KEYRING": "1",
        "AGENTCLI_AGENT": "zhang.wei",
        "COLUMNS": "160",
    }
    return subprocess.run(
        [sys.executable, "-m", "agentcli", *args],
        capture_output=True, text=True, env=env, input=stdin, timeout=60,
    )  # fmt: skip


def test_cli_workload_reassign_and_rebalance(store: Path, tmp_path: Path) -> None:
    shown = run(store, tmp_path, "workload", "--json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert {a["agent"] for a in data["agents"]} >= {"li.na", "zhang.wei", "olena.koval"}
    table = run(store, tmp_path, "workload")
    assert "li.na" in table.stdout and "waiting by channel" in table.stdout

    # Without --yes the supervisor is asked; "n" queues nothing.
    asked = run(store, tmp_path, "reassign", "--from", "li.na", "--to", "wang.fang", stdin="n\n")
    assert asked.returncode == 1 and "from li.na" in asked.stderr
    assert json.loads(run(store, tmp_path, "status", "--json").stdout)["outbox"] == 0

    conn = sqlite3.connect(store)
    conn.execute("UPDATE agents SET capacity = 1 WHERE login = 'olena.koval'")
    conn.commit()
    conn.close()
    agents = {
        a["agent"]: a
        for a in json.loads(run(store, tmp_path, "workload", "--json").stdout)["agents"]
    }
    proposal = json.loads(run(store, tmp_path, "rebalance", "--json").stdout)
    assert any(m["from"] == "olena.koval" for m in proposal["moves"])
    for move in proposal["moves"]:  # over capacity -> room, in the customer's language
        source, target = agents[move["from"]], agents[move["to"]]
        assert source["load"] > source["capacity"] and target["load"] < target["capacity"]
        assert move["language"] in target["languages"]
    shown = run(store, tmp_path, "rebalance")
    assert f"{len(proposal['moves'])} moves:" in shown.stdout
    applied = run(store, tmp_path, "rebalance", "--apply", "--json")
    assert applied.returncode == 0, applied.stderr
    report = json.loads(applied.stdout)
    # Offline: queued, not pushed; the outbox holds one assign per proposed move.
    assert sorted(report["not_pushed"]) == sorted(m["ticket"] for m in proposal["moves"])
    assert json.loads(run(store, tmp_path, "status", "--json").stdout)["outbox"] == len(
        proposal["moves"]
    )
