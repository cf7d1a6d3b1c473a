"""The supervisor board against a real server: presence and an agent's changes show without a
refresh key; a move made on the board is pushed, applied by the server and reported.

A uvicorn server (seeded demo data, SQLite) runs in a thread on a loopback port; the board's
store is first-synced from it and the console runs its live sync (LiveSync) as in production.
The agent is a second real client talking HTTP to the same server.
"""

from __future__ import annotations

import re
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
from agentcli.store.db import open_store
from agentcli.sync.client import Client
from agentcli.sync.credentials import Credentials
from agentcli.sync.engine import Engine as SyncEngine
from agentcli.sync.status import set_state
from agentcli.tui.app import ConsoleApp
from agentcli.tui.live import LiveSync
from agentcli.tui.screens.supervisor import ConfirmModal, PromptModal, SupervisorScreen
from agentcli.tui.widgets.board_table import BoardTable
from tests.tui.helpers import screen_text, settle, wait_for

SIZE = (160, 48)
SUPERVISOR = "zhang.wei"
AGENT = "olena.koval"
TARGET = "james.chen"
pytestmark = pytest.mark.anyio


@dataclass
class Helpdesk:
    engine: Engine
    url: str
    tokens: dict[str, str]


@pytest.fixture
def helpdesk(tmp_path: Path) -> Iterator[Helpdesk]:
    engine = open_engine(str(tmp_path / "server.db"))
    seed_demo(engine, ticket_count=300, seed=1)
    tokens = {login: rotate_token(engine, login) or "" for login in (SUPERVISOR, AGENT)}
    server = start_in_thread(create_app(engine))
    try:
        yield Helpdesk(engine, server.url, tokens)
    finally:
        server.stop()
        engine.dispose()


@pytest.fixture
def store(tmp_path: Path, helpdesk: Helpdesk) -> Path:
    path = tmp_path / "supervisor.db"
    db = open_store(path)
    set_state(db, server=helpdesk.url, agent=SUPERVISOR)
    with Client(helpdesk.url, helpdesk.tokens[SUPERVISOR]) as client:
        SyncEngine(db, client).sync_once()
    db.conn.close()
    return path


def _server_one(helpdesk: Helpdesk, sql: str, **params: object) -> tuple:
    with helpdesk.engine.connect() as conn:
        return tuple(conn.execute(text(sql), params).one())


def _row(screen: SupervisorScreen, login: str) -> list[str]:
    table = screen.query_one("#sup-agents", BoardTable)
    return table.row_text(screen.agent_logins.index(login))


async def test_board_follows_the_server_live_and_a_move_is_applied_and_reported(
    store: Path, helpdesk: Helpdesk, library
) -> None:
    live = LiveSync(store, Credentials(helpdesk.url, SUPERVISOR, helpdesk.tokens[SUPERVISOR]))
    app = ConsoleApp(
        store, agent=SUPERVISOR, lang="en", library=library, live=live,
        keymap_file=store.parent / "no-keymap.toml",
    )  # fmt: skip
    # One of the agent's open tickets, which they will put on pending from their own client.
    (mine, version) = _server_one(
        helpdesk,
        "SELECT id, version FROM tickets WHERE assignee = :a AND status = 'open' ORDER BY id"
        " LIMIT 1",
        a=AGENT,
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "online" in screen_text(app), timeout=20)
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, SupervisorScreen))
        screen = app.screen
        await wait_for(pilot, lambda: screen.last_refresh is not None)
        await settle(pilot)
        before = [int(n) for n in _row(screen, AGENT)[2:4]]
        with Client(helpdesk.url, helpdesk.tokens[AGENT]) as agent:
            # Presence: the agent opens a ticket's composer; the board says so, no key pressed.
            agent.presence(mine, "replying")
            await wait_for(pilot, lambda: _row(screen, AGENT)[1] == f"replying #{mine}", timeout=15)
            # The agent puts it on pending on the server: their counts follow, no key pressed.
            change = Mutation(MutationType.SET_STATUS, mine, version, {"status": "pending"})
            [done] = agent.push([change])
            assert done.outcome == "applied"
            after = [before[0] - 1, before[1] + 1]
            await wait_for(
                pilot, lambda: [int(n) for n in _row(screen, AGENT)[2:4]] == after, timeout=15
            )
            # Last activity: the audit trail's event for that change reached the store too.
            # Seconds ago ("12s"): under a minute, where it had been hours or days before.
            await wait_for(pilot, lambda: re.fullmatch(r"\d+s", _row(screen, AGENT)[8]), timeout=15)

        # Move the agent's whole queue to another agent, through the confirm step.
        for _ in range(screen.agent_logins.index(AGENT)):
            await pilot.press("j")
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptModal))
        await pilot.press(*TARGET, "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert f"from {AGENT}" in screen_text(app)
        await pilot.press("y")
        await wait_for(pilot, lambda: "last move:" in screen_text(app))
        # Pushed by the live sync and applied by the server; the board reports it.
        await wait_for(pilot, lambda: " 0 waiting" in screen_text(app), timeout=20)
        moved = screen.moves
        assert moved and "applied" in screen_text(app)
        ids = ", ".join(str(m.ticket_id) for m in moved)
        (left,) = _server_one(
            helpdesk, f"SELECT count(*) FROM tickets WHERE id IN ({ids}) AND assignee = :a", a=AGENT
        )
        assert left == 0
        assert mine in {m.ticket_id for m in moved}
        await wait_for(pilot, lambda: _row(screen, AGENT)[2:4] == ["0", "0"], timeout=15)
