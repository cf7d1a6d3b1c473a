"""Two supervisors and an agent on separate client stores against one real server: concurrent
bulk reassignments and agent replies. No reply is lost, no move is applied over a newer change
(an agent's reply or another supervisor's move), and every skipped ticket is listed to the
supervisor who tried it. An agent trying a bulk move of others' tickets changes nothing.

Real parts only: a uvicorn server on a loopback port (SQLite, and PostgreSQL when
AGENTCLI_TEST_PG is set), the HTTP push/pull of the sync engine, each client's own store.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from agentcli.domain.mutations import Mutation, MutationType
from agentcli.server.app import create_app
from agentcli.server.auth import rotate_token
from agentcli.server.db import open_engine
from agentcli.server.demo_seed import seed_demo
from agentcli.server.runner import start_in_thread
from agentcli.store.conflicts import list_conflicts
from agentcli.store.db import open_store, transaction
from agentcli.store.outbox import enqueue_in
from agentcli.store.reassign import describe, enqueue_moves, outcomes, select_agent_queue
from agentcli.sync.client import Client
from agentcli.sync.engine import Engine as SyncEngine
from agentcli.sync.status import set_state
from tests.server.conftest import pg_template, pg_url  # noqa: F401  (fixtures, used by name)
from tests.sync.harness import client_env, run_cli

SUP1, SUP2 = "zhang.wei", "huang.jianhong"  # supervisors in the demo team
OWNER = "james.chen"  # an agent whose queue the supervisors move
TARGET1, TARGET2 = "li.na", "sarah.miller"
OTHER_AGENT = "olena.koval"


@dataclass
class Helpdesk:
    engine: Engine
    url: str
    tokens: dict[str, str]
    tmp: Path

    def store(self, login: str):  # type: ignore[no-untyped-def]
        """A client store for `login`, first-synced like `agentcli login` + `sync` do."""
        db = open_store(self.tmp / f"{login}.db", check_same_thread=False)
        set_state(db, server=self.url, agent=login)
        self.sync(db, login)
        return db

    def sync(self, db, login: str) -> None:  # type: ignore[no-untyped-def]
        with Client(self.url, self.tokens[login]) as client:
            SyncEngine(db, client).sync_once()

    def server_rows(self, sql: str, **params: object) -> list[tuple]:
        with self.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql), params)]


@pytest.fixture(params=["sqlite", "postgres"])
def helpdesk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Helpdesk]:
    url = str(tmp_path / "server.db")
    if request.param == "postgres":
        url = request.getfixturevalue("pg_url")
    engine = open_engine(url)
    seed_demo(engine, ticket_count=400, seed=3)
    logins = (SUP1, SUP2, OWNER, OTHER_AGENT)
    tokens = {login: rotate_token(engine, login) or "" for login in logins}
    server = start_in_thread(create_app(engine))
    try:
        yield Helpdesk(engine, server.url, tokens, tmp_path)
    finally:
        server.stop()
        engine.dispose()


def _reply_all(db, tickets: list[int], body: str) -> None:  # type: ignore[no-untyped-def]
    with transaction(db) as conn:
        for ticket in tickets:
            version = conn.execute("SELECT version FROM tickets WHERE id = ?", (ticket,))
            base = version.fetchone()[0]
            enqueue_in(
                conn, Mutation(MutationType.REPLY, ticket, base, {"body": body}), author=OWNER
            )


def test_concurrent_bulk_moves_and_replies_lose_nothing_and_overwrite_nothing(
    helpdesk: Helpdesk,
) -> None:
    sup1, sup2, agent = helpdesk.store(SUP1), helpdesk.store(SUP2), helpdesk.store(OWNER)
    queue = select_agent_queue(sup1, OWNER)
    assert len(queue) >= 12, "the demo gives the owner a real queue"
    assert select_agent_queue(sup2, OWNER) == queue
    assert describe(sup1, queue).owners == {OWNER: len(queue)}

    # Phase 1: both supervisors have looked (their stores hold the old state); the agent
    # answers a third of the tickets and that reaches the server before any move.
    answered_first = queue[::3]
    _reply_all(agent, answered_first, "phase one: I am on it")
    helpdesk.sync(agent, OWNER)

    # Phase 2: both supervisors queue a move of the whole queue; the agent answers another
    # third; all three push at the same moment.
    moves1 = enqueue_moves(sup1, queue, to_agent=TARGET1, to_queue=None, author=SUP1)
    moves2 = enqueue_moves(sup2, queue, to_agent=TARGET2, to_queue=None, author=SUP2)
    answered_racing = queue[1::3]
    _reply_all(agent, answered_racing, "phase two: racing the supervisors")
    start = threading.Barrier(3)
    errors: list[BaseException] = []

    def push(db, login: str) -> None:  # type: ignore[no-untyped-def]
        start.wait()
        try:
            helpdesk.sync(db, login)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [
        threading.Thread(target=push, args=(db, login))
        for db, login in ((sup1, SUP1), (sup2, SUP2), (agent, OWNER))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors

    # No reply lost: every agent reply of both phases is on the server, once.
    bodies = helpdesk.server_rows(
        "SELECT ticket_id, body FROM messages WHERE author = :a AND body LIKE 'phase %'", a=OWNER
    )
    assert sorted(bodies) == sorted(
        [(t, "phase one: I am on it") for t in answered_first]
        + [(t, "phase two: racing the supervisors") for t in answered_racing]
    )

    result1, result2 = outcomes(sup1, moves1), outcomes(sup2, moves2)
    applied1, applied2 = set(result1.applied), set(result2.applied)
    skipped1 = {t for t, _ in result1.skipped}
    skipped2 = {t for t, _ in result2.skipped}
    # Every ticket is accounted for by each supervisor: applied or listed as skipped.
    assert applied1 | skipped1 == set(queue) and not applied1 & skipped1
    assert applied2 | skipped2 == set(queue) and not applied2 & skipped2
    assert not result1.rejected and not result2.rejected
    # A ticket answered before the moves never moves; no ticket moves twice.
    assert not (applied1 | applied2) & set(answered_first)
    assert not applied1 & applied2
    # Skipped moves are kept as conflicts with the reason, for the supervisor to decide.
    for db, skipped in ((sup1, skipped1), (sup2, skipped2)):
        assert {c["ticket_id"] for c in list_conflicts(db)} == skipped
        assert all(c["reason"] for c in list_conflicts(db))

    final = dict(
        helpdesk.server_rows(
            f"SELECT id, assignee FROM tickets WHERE id IN ({', '.join(map(str, queue))})"
        )
    )
    for ticket in queue:
        expected = TARGET1 if ticket in applied1 else TARGET2 if ticket in applied2 else OWNER
        assert final[ticket] == expected
        if ticket in applied1 | applied2:
            # Applied only when no agent reply came first: a racing reply landed after it.
            moved_at = _first_seq(helpdesk, ticket, final[ticket])
            assert all(seq > moved_at for seq in _reply_seqs(helpdesk, ticket))

    # Every store converges on the server's assignees after one more sync.
    for db, login in ((sup1, SUP1), (sup2, SUP2), (agent, OWNER)):
        helpdesk.sync(db, login)
        local = dict(
            db.conn.execute(
                f"SELECT id, assignee FROM tickets WHERE id IN ({', '.join(map(str, queue))})"
            )
        )
        assert local == {t: a or "" for t, a in final.items()}


def _first_seq(helpdesk: Helpdesk, ticket: int, assignee: str) -> int:
    rows = helpdesk.server_rows(
        "SELECT seq, payload FROM change_log WHERE kind = 'ticket' AND entity_id = :t ORDER BY seq",
        t=str(ticket),
    )
    return min(seq for seq, payload in rows if json.loads(payload)["assignee"] == assignee)


def _reply_seqs(helpdesk: Helpdesk, ticket: int) -> list[int]:
    rows = helpdesk.server_rows(
        "SELECT seq, payload FROM change_log WHERE kind = 'message' ORDER BY seq"
    )
    return [
        seq
        for seq, payload in rows
        if json.loads(payload)["ticket_id"] == ticket
        and json.loads(payload)["author"] == OWNER
        and json.loads(payload)["body"].startswith("phase ")
    ]


def test_cli_reassign_by_a_supervisor_and_an_agents_forbidden_attempt(
    helpdesk: Helpdesk, tmp_path: Path
) -> None:
    def cli(login: str, *args: str):  # type: ignore[no-untyped-def]
        env = client_env(tmp_path / f"cli-{login}.db", tmp_path / f"config-{login}")
        return run_cli(env, *args)

    for login in (OTHER_AGENT, SUP1):
        logged = cli(login, "login", helpdesk.url, "--token", helpdesk.tokens[login])
        assert logged.returncode == 0, logged.stderr
        assert cli(login, "sync").returncode == 0

    before = helpdesk.server_rows("SELECT id, assignee, version FROM tickets ORDER BY id")
    # An agent moving someone else's queue to themselves: the server refuses every move.
    tried = cli(OTHER_AGENT, "reassign", "--from", OWNER, "--to", OTHER_AGENT, "--yes", "--json")
    assert tried.returncode == 0, tried.stderr
    report = json.loads(tried.stdout)
    assert report["applied"] == [] and report["skipped"] == []
    assert report["rejected"] and all(
        r["reason"].startswith("forbidden") for r in report["rejected"]
    )
    assert helpdesk.server_rows("SELECT id, assignee, version FROM tickets ORDER BY id") == before

    # Without --yes the supervisor is asked, with how many and whose; "n" moves nothing.
    env = client_env(tmp_path / f"cli-{SUP1}.db", tmp_path / f"config-{SUP1}")
    import subprocess
    import sys

    asked = subprocess.run(
        [sys.executable, "-m", "agentcli", "reassign", f"assignee:{OWNER}", "--to", TARGET1],
        env=env, input="n\n", capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert asked.returncode == 1
    assert f"tickets to {TARGET1}:" in asked.stderr and f"from {OWNER}" in asked.stderr
    assert helpdesk.server_rows("SELECT id, assignee, version FROM tickets ORDER BY id") == before

    moved = cli(
        SUP1, "reassign", f"assignee:{OWNER} status:open", "--to", TARGET1, "--yes", "--json"
    )
    assert moved.returncode == 0, moved.stderr
    report = json.loads(moved.stdout)
    assert report["applied"] and not report["skipped"] and not report["rejected"]
    placeholders = ", ".join(str(t) for t in report["applied"])
    rows = helpdesk.server_rows(f"SELECT assignee FROM tickets WHERE id IN ({placeholders})")
    assert {row[0] for row in rows} == {TARGET1}
