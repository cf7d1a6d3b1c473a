"""Runs of moves (`assign`, `set-queue`: a supervisor's bulk reassignment), settled set-based
(agentcli.server.runs).

Alone, a move reads whether its new assignee is an active agent and, when it carries an
expectation (agentcli.server.moves), whether an agent wrote on the ticket since; a run reads
both for all its moves in one statement each before deciding. Moves write no messages, so
those reads hold for the whole run. On PostgreSQL 500 moves cost 5 round trips instead of
~2,500: those two reads, then one executemany for the tickets and one insert each for audit
events and change-log entries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, bindparam, select

from agentcli.domain.mutations import MutationType, Outcome
from agentcli.server.moves import agents_wrote_since, seen_message
from agentcli.server.mutations import INVALID, Incoming, answer, move_changes, precheck
from agentcli.server.runs import Decide, Decision
from agentcli.server.schema import agents

MOVES = frozenset({MutationType.ASSIGN, MutationType.SET_QUEUE})

_ACTIVE = select(agents.c.login, agents.c.active).where(
    agents.c.login.in_(bindparam("logins", expanding=True))
)


def run_from(batch: list[Incoming], start: int, seen: Mapping[str, str]) -> list[Incoming]:
    """The mutations from `start` that can settle as one run: moves not settled before, each
    id once (a ticket may come more than once: an assign, then its queue move).
    """
    run: list[Incoming] = []
    ids: set[str] = set()
    for mutation in batch[start:]:
        if mutation.type not in MOVES or mutation.client_id in seen or mutation.client_id in ids:
            break
        run.append(mutation)
        ids.add(mutation.client_id)
    return run


def decider(conn: Connection, agent: Mapping[str, Any], run: list[Incoming]) -> Decide:
    """How each move of `run` is decided: as alone, from what is read here for all of them."""
    logins = {m.payload.get("assignee") for m in run if isinstance(m.payload.get("assignee"), str)}
    active = (
        {login: bool(on) for login, on in conn.execute(_ACTIVE, {"logins": list(logins)})}
        if logins
        else {}
    )
    wrote_since = agents_wrote_since(
        conn, [(m.ticket_id, s) for m in run if (s := seen_message(m.payload)) is not None]
    )

    def decide(mutation: Incoming, ticket: Mapping[str, Any] | None) -> Decision:
        refused = precheck(conn, agent, mutation, ticket, wrote_since)
        if refused is not None:
            return refused
        try:
            return None, move_changes(mutation, lambda login: active.get(login, False))
        except INVALID as error:
            return answer(mutation, Outcome.REJECTED, reason=f"invalid: {error}")

    return decide
