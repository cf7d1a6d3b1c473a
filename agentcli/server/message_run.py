"""Settling a run of replies and notes set-based: a few statements for the whole run.

Messages are append-only and never conflict, so a run's answers depend only on the tickets'
state, which is known here (the batch row-locked them and only it writes them until commit).
The run is decided mutation by mutation with the same checks as one at a time, then its
messages, ticket updates, audit events and change-log entries are written with one statement
each, in the order one at a time would have written them (same ids, seqs and answers). On
PostgreSQL that is 4 round trips for 100 replies instead of ~600.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from agentcli.domain.mutations import APPEND_ONLY, Outcome
from agentcli.server.audit import insert_events
from agentcli.server.changelog import append_change_list
from agentcli.server.db import savepoint
from agentcli.server.mutations import (
    INVALID,
    AfterApply,
    Incoming,
    Log,
    answer,
    audit_rows,
    message_of,
    new_version,
    precheck,
)
from agentcli.server.records import insert_messages, write_tickets

# (answer, the JSON recorded under the client id, the ticket's new state or None)
Settled = tuple[dict[str, Any], str, Mapping[str, Any] | None]


def run_from(batch: list[Incoming], start: int, seen: Mapping[str, str]) -> list[Incoming]:
    """The mutations from `start` that can settle as one run: replies and notes not settled
    before, each id once, and none carrying a move's `expect` (its check reads the messages
    written by the mutations before it).
    """
    run: list[Incoming] = []
    ids: set[str] = set()
    for mutation in batch[start:]:
        if (
            mutation.type not in APPEND_ONLY
            or mutation.client_id in seen
            or mutation.client_id in ids
            or isinstance(mutation.payload.get("expect"), dict)
        ):
            break
        run.append(mutation)
        ids.add(mutation.client_id)
    return run


@dataclass
class _Applied:
    """A mutation of the run that applies: the ticket before and after, its message row."""

    index: int
    mutation: Incoming
    before: Mapping[str, Any]
    after: dict[str, Any]
    changed: set[str]
    message: dict[str, Any]


def apply_run(
    conn: Connection,
    agent: Mapping[str, Any],
    run: list[Incoming],
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
        refused = precheck(conn, agent, mutation, ticket)
        if refused is None and ticket is not None:
            try:
                message, changes = message_of(agent, ticket, mutation)
            except INVALID as error:
                refused = answer(mutation, Outcome.REJECTED, reason=f"invalid: {error}")
        answers.append(refused)
        if refused is not None or ticket is None:
            continue
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
    messages = insert_messages(conn, [item.message for item in applied])
    # Each ticket's last state, with every column any mutation of the run changed (one
    # executemany needs the same columns in every row; unchanged ones keep their value).
    columns = set().union(*(item.changed for item in applied))
    final = {item.after["id"]: item.after for item in applied}
    write_tickets(
        conn, {ticket_id: {c: row[c] for c in columns} for ticket_id, row in final.items()}
    )
    extras = [{"message_id": message["id"]} for message in messages]
    trails = [
        audit_rows(agent, item.mutation, item.before, item.after, extra, user_agent)
        for item, extra in zip(applied, extras, strict=True)
    ]
    events = iter(insert_events(conn, [row for trail in trails for row in trail]))
    log: Log = []
    ticket_entries = []
    for item, message, trail in zip(applied, messages, trails, strict=True):
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
