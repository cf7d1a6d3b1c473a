"""Settling a run of mutations set-based: each decided in Python, then all written at once.

A run's answers depend only on the tickets' state, which is known here (the batch row-locked
them and only it writes them until commit), and on what its kind read once before deciding
(agentcli.server.message_run and agentcli.server.move_run say what a run is and decide each
mutation with the same checks as one at a time). Its messages, ticket updates, audit events
and change-log entries are then written with one statement each, in the order one at a time
would have written them (same ids, seqs and answers). `after` hooks run once the run is
written.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from agentcli.domain.mutations import Outcome
from agentcli.server.audit import insert_events
from agentcli.server.changelog import append_change_list
from agentcli.server.db import savepoint
from agentcli.server.mutations import (
    AfterApply,
    Incoming,
    Log,
    answer,
    audit_rows,
    new_version,
)
from agentcli.server.records import insert_messages, write_tickets

# (answer, the JSON recorded under the client id, the ticket's new state or None)
Settled = tuple[dict[str, Any], str, Mapping[str, Any] | None]
# A mutation's decision: the answer when it does not apply, else the message row it writes
# (None: none) and its changes to the ticket, before versions and derived fields.
Decision = dict[str, Any] | tuple[dict[str, Any] | None, dict[str, Any]]
# (mutation, the ticket's current state or None) -> decision; a run's kind makes one.
Decide = Callable[[Incoming, Mapping[str, Any] | None], Decision]


class RunKind(Protocol):
    """A kind of run: its module (agentcli.server.message_run, agentcli.server.move_run)."""

    def run_from(
        self, batch: list[Incoming], start: int, seen: Mapping[str, str]
    ) -> list[Incoming]: ...

    def decider(self, conn: Connection, agent: Mapping[str, Any], run: list[Incoming]) -> Decide:
        """How each mutation of `run` is decided (reading up front what the run needs)."""
        ...


@dataclass
class _Applied:
    """A mutation of the run that applies: the ticket before and after, its message row."""

    index: int
    mutation: Incoming
    before: Mapping[str, Any]
    after: dict[str, Any]
    changed: set[str]
    message: dict[str, Any] | None


def apply_run(
    conn: Connection,
    agent: Mapping[str, Any],
    run: list[Incoming],
    decide: Decide,
    tickets: Mapping[int, Mapping[str, Any]],
    after_apply: AfterApply | None,
    user_agent: str | None,
    *,
    careful: bool = True,
) -> list[Settled] | None:
    """Each mutation's settlement in order, or None when the database refused the run's
    writes (all undone: settle it one mutation at a time instead). Not `careful`: no
    savepoint, so the error is raised and fails the transaction.

    `tickets` are the batch's current ticket states; it is not changed here.
    """
    current = dict(tickets)
    answers: list[dict[str, Any] | None] = []
    applied: list[_Applied] = []
    for index, mutation in enumerate(run):
        ticket = current.get(mutation.ticket_id)
        decision = decide(mutation, ticket)
        if isinstance(decision, dict):
            answers.append(decision)
            continue
        assert ticket is not None  # every decider refuses an unknown ticket first
        answers.append(None)
        message, changes = decision
        changes = new_version(conn, ticket, mutation.type, changes, after_apply)
        after = {**ticket, **changes}
        current[mutation.ticket_id] = after
        applied.append(_Applied(index, mutation, ticket, after, set(changes), message))
    if applied:
        try:
            with savepoint(conn) if careful else contextlib.nullcontext():
                for item, result in zip(
                    applied, _write(conn, agent, applied, after_apply, user_agent), strict=True
                ):
                    answers[item.index] = result
        except IntegrityError:
            if not careful:
                raise
            return None
    updated = {item.index: item.after for item in applied}
    return [
        (result, json.dumps(result, ensure_ascii=False), updated.get(index))
        for index, result in enumerate(answers)
        if result is not None  # none is left: the writes answered every applied mutation
    ]


def _write(
    conn: Connection,
    agent: Mapping[str, Any],
    applied: list[_Applied],
    after_apply: AfterApply | None,
    user_agent: str | None,
) -> list[dict[str, Any]]:
    """Write the applied mutations; their answers in order."""
    rows = [item.message for item in applied if item.message is not None]
    written = iter(insert_messages(conn, rows) if rows else [])
    messages = [None if item.message is None else next(written) for item in applied]
    # Each ticket's last state, with every column any mutation of the run changed (one
    # executemany needs the same columns in every row; unchanged ones keep their value).
    columns = set().union(*(item.changed for item in applied))
    final = {item.after["id"]: item.after for item in applied}
    write_tickets(
        conn, {ticket_id: {c: row[c] for c in columns} for ticket_id, row in final.items()}
    )
    extras = [{} if message is None else {"message_id": message["id"]} for message in messages]
    trails = [
        audit_rows(agent, item.mutation, item.before, item.after, extra, user_agent)
        for item, extra in zip(applied, extras, strict=True)
    ]
    events = iter(insert_events(conn, [row for trail in trails for row in trail]))
    log: Log = []
    ticket_entries = []
    for item, message, trail in zip(applied, messages, trails, strict=True):
        if message is not None:
            log.append(("message", message))
        ticket_entries.append(len(log))
        log.append(("ticket", item.after))
        log += [("event", next(events)) for _ in trail]
    seqs = append_change_list(conn, log)
    if after_apply is not None:
        for item, extra in zip(applied, extras, strict=True):
            after_apply.after(conn, item.after, item.mutation.type, extra)
    return [
        answer(
            item.mutation, Outcome.APPLIED, version=item.after["version"], seq=seqs[entry], **extra
        )
        for item, entry, extra in zip(applied, ticket_entries, extras, strict=True)
    ]
