"""The supervisor board through Textual's Pilot on a real seeded store: who may open it, what
it shows, reassignment with a confirm step (an agent's queue, marked tickets, a filter) and
the rebalance preview where moves are unticked before accepting."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from textual.widgets import Static

from agentcli.store.db import open_store
from agentcli.store.reassign import rebalance_proposal, select_agent_queue
from agentcli.store.workload import board
from agentcli.tui.screens.inbox import InboxScreen
from agentcli.tui.screens.supervisor import (
    ConfirmModal,
    PromptModal,
    RebalanceModal,
    SupervisorScreen,
)
from agentcli.tui.widgets.board_table import BoardTable
from agentcli.tui.widgets.ticket_list import TicketList
from tests.tui.conftest import NOW
from tests.tui.helpers import screen_text, settle, wait_for

SIZE = (160, 48)
SUPERVISOR = "zhang.wei"
pytestmark = pytest.mark.anyio


def _outbox(path: Path) -> list[tuple[str, int, dict]]:  # type: ignore[type-arg]
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT type, ticket_id, payload FROM outbox ORDER BY seq").fetchall()
    conn.close()
    return [(kind, ticket, json.loads(payload)) for kind, ticket, payload in rows]


def _assignees(path: Path, ids: list[int]) -> dict[int, str]:
    conn = sqlite3.connect(path)
    marks = ", ".join("?" * len(ids))
    rows = conn.execute(f"SELECT id, assignee FROM tickets WHERE id IN ({marks})", ids)
    found = dict(rows.fetchall())
    conn.close()
    return found


async def _open_board(app, pilot) -> SupervisorScreen:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("S")
    await wait_for(pilot, lambda: isinstance(app.screen, SupervisorScreen))
    screen = app.screen
    await wait_for(pilot, lambda: screen.last_refresh is not None)
    await settle(pilot)
    return screen


async def test_an_agent_cannot_open_the_board(make_app) -> None:
    app = make_app()  # li.na: an agent
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("S")
        await settle(pilot)
        assert isinstance(app.screen, InboxScreen)
        # The inbox's notice line (docked under the status line, so read from the widget).
        notice = app.screen.query_one("#notice", Static).content
        assert "for supervisors and admins" in str(notice)


async def test_board_shows_every_agent_and_queue_with_the_stores_figures(
    make_app, store_path
) -> None:
    db = open_store(store_path)
    expected = board(db, now=NOW)
    db.conn.close()
    app = make_app(agent=SUPERVISOR)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_board(app, pilot)
        agents = screen.query_one("#sup-agents", BoardTable)
        queues = screen.query_one("#sup-queues", BoardTable)
        assert agents.row_count == len(expected.agents)
        assert queues.row_count == len(expected.queues)
        for index, agent in enumerate(expected.agents):
            row = agents.row_text(index)
            assert row[0] == agent.login
            assert row[2:6] == [str(agent.open), str(agent.pending), str(agent.at_risk),
                                str(agent.breached)]  # fmt: skip
            assert row[6] == f"{agent.load}/{agent.capacity}"
            assert row[7] == ",".join(agent.languages)
        me = agents.row_text(screen.agent_logins.index(SUPERVISOR))
        assert me[1] == "online"
        first = queues.row_text(0)
        assert first[:3] == [
            expected.queues[0].queue,
            str(expected.queues[0].volume),
            str(expected.queues[0].unassigned),
        ]
        text = screen_text(app)
        assert "Supervisor board" in text and f"{len(expected.agents)} agents" in text
        await pilot.press("escape")
        assert isinstance(app.screen, InboxScreen)


async def test_move_an_agents_whole_queue_after_confirming_count_and_owner(
    make_app, store_path
) -> None:
    db = open_store(store_path)
    source, target = "olena.koval", "taras.shevchuk"
    queue = select_agent_queue(db, source)
    db.conn.close()
    assert queue
    app = make_app(agent=SUPERVISOR)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_board(app, pilot)
        for _ in range(screen.agent_logins.index(source)):
            await pilot.press("j")
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptModal))
        assert f"Move {len(queue)} tickets ({len(queue)} from {source})" in screen_text(app)
        await pilot.press(*target, "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        question = f"Move {len(queue)} tickets to {target}: {len(queue)} from {source}."
        assert question in screen_text(app)
        await pilot.press("y")
        await wait_for(pilot, lambda: len(_outbox(store_path)) == len(queue))
        await settle(pilot)
        assert app.screen is screen
        assert "queued" in screen_text(app)
        for kind, ticket, payload in _outbox(store_path):
            assert kind == "assign" and ticket in queue
            assert payload["assignee"] == target
            assert payload["expect"]["assignee"] == source  # what the supervisor saw
        assert set(_assignees(store_path, queue).values()) == {target}
        # The board re-read: the source holds none of them now.
        await wait_for(pilot, lambda: "last move" in screen_text(app))
        row = screen.agent_logins.index(source)
        cells = screen.query_one("#sup-agents", BoardTable).row_text(row)
        assert cells[2:4] == ["0", "0"]


async def test_move_marked_tickets_to_a_queue_and_a_bad_target_is_refused(
    make_app, store_path
) -> None:
    app = make_app(agent=SUPERVISOR)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("left_square_bracket")  # All
        await settle(pilot)
        tickets = app.screen.query_one(TicketList)
        await pilot.press("x", "j", "x")
        marked = sorted(tickets.marked)
        assert len(marked) == 2
        screen = await _open_board(app, pilot)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptModal))
        await pilot.press(*"nobody.here", "enter")
        await wait_for(pilot, lambda: app.screen is screen)
        assert "unknown agent or queue: nobody.here" in screen_text(app)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptModal))
        await pilot.press(*"queue:vip", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert "Move 2 tickets to queue vip" in screen_text(app)
        await pilot.press("y")
        await wait_for(pilot, lambda: any(k == "set-queue" for k, _, _ in _outbox(store_path)))
        await settle(pilot)
        moved = {t for k, t, p in _outbox(store_path) if k == "set-queue" and p["queue"] == "vip"}
        assert moved == set(marked)
        conn = sqlite3.connect(store_path)
        rows = conn.execute(
            f"SELECT queue, assignee FROM tickets WHERE id IN ({marked[0]}, {marked[1]})"
        ).fetchall()
        conn.close()
        assert rows == [("vip", ""), ("vip", "")]  # in the queue, for its agents to take
        await pilot.press("escape")
        assert not app.screen.query_one(TicketList).marked  # the moved marks are cleared


async def test_move_a_filter_with_no_match_says_so(make_app) -> None:
    app = make_app(agent=SUPERVISOR)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_board(app, pilot)
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptModal))
        await pilot.press(*"tag:no-such-tag-anywhere", "enter")
        await wait_for(pilot, lambda: "no tickets to move" in screen_text(app))
        assert app.screen is screen


async def test_rebalance_preview_untick_one_move_then_accept(make_app, store_path) -> None:
    conn = sqlite3.connect(store_path)
    conn.execute("UPDATE agents SET capacity = 1 WHERE login = 'olena.koval'")  # overloaded
    conn.commit()
    conn.close()
    db = open_store(store_path)
    proposal = rebalance_proposal(db, board(db, now=NOW))
    db.conn.close()
    assert len(proposal.moves) >= 2
    app = make_app(agent=SUPERVISOR)
    async with app.run_test(size=SIZE) as pilot:
        await _open_board(app, pilot)
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, RebalanceModal))
        await settle(pilot)
        assert f"Rebalance: {len(proposal.moves)} moves" in screen_text(app)
        await pilot.press("space")  # untick the most urgent move
        await pilot.press("enter")
        kept = proposal.moves[1:]
        await wait_for(pilot, lambda: len(_outbox(store_path)) == len(kept))
        queued = [(t, p["assignee"]) for _, t, p in _outbox(store_path)]
        assert queued == [(m.ticket_id, m.target) for m in kept]
        skipped = proposal.moves[0]
        assert _assignees(store_path, [skipped.ticket_id]) == {skipped.ticket_id: "olena.koval"}
