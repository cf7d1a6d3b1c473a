"""Settling a pushed batch: each mutation exactly once per client id, in the order sent.

A batch runs in one write transaction (one commit, consecutive seqs). Runs of fresh replies
and notes (agentcli.server.message_run) and of moves (agentcli.server.move_run) are settled
set-based (agentcli.server.runs); every other mutation settles alone. Every settled answer is
recorded under the client's id, so a retried push gets the original answer and no second
effect.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, select
from sqlalchemy.exc import IntegrityError

from agentcli.domain.clock import now_epoch
from agentcli.domain.mutations import Outcome
from agentcli.server import message_run, move_run
from agentcli.server.changelog import last_seq
from agentcli.server.db import savepoint, write_tx
from agentcli.server.mutations import AfterApply, Incoming, answer, settle
from agentcli.server.records import lock_tickets
from agentcli.server.runs import RunKind, apply_run
from agentcli.server.schema import applied_mutations

# Built once: per-mutation statement construction was most of the cost of a push.
_SEEN = select(applied_mutations.c.client_id, applied_mutations.c.result).where(
    applied_mutations.c.client_id.in_(bindparam("ids", expanding=True))
)
_RECORD = applied_mutations.insert()
# The kinds of run settled set-based: what a run is, and how its mutations are decided.
_RUNS: tuple[RunKind, ...] = (message_run, move_run)


def apply_batch(
    engine: Engine,
    agent: Mapping[str, Any],
    batch: list[Incoming],
    after_apply: AfterApply | None = None,
    user_agent: str | None = None,
) -> tuple[list[dict[str, Any]], int | None]:
    """The answers in the batch's order, and the change log's last seq once the batch has
    committed when it logged anything (None otherwise: nothing to nudge clients about).
    `user_agent` is the sending program's own name, recorded in the audit trail.
    """
    try:
        # Optimistic: no savepoints (two round trips each on PostgreSQL). Constraint errors
        # are rare (the checks run first), and then nothing of this try has committed.
        return _settle_batch(engine, agent, batch, after_apply, user_agent, careful=False)
    except IntegrityError:
        # Again with a savepoint around each mutation (and run), so a constraint error
        # refuses only the mutation that hit it: the answers of settling it alone.
        return _settle_batch(engine, agent, batch, after_apply, user_agent, careful=True)


def _settle_batch(
    engine: Engine,
    agent: Mapping[str, Any],
    batch: list[Incoming],
    after_apply: AfterApply | None,
    user_agent: str | None,
    *,
    careful: bool,
) -> tuple[list[dict[str, Any]], int | None]:
    with write_tx(engine) as conn:
        # One lookup for the whole batch: the writer lock is held from here to commit, so no
        # other push can record an id in between; ids settled earlier in this batch are added
        # as they settle (a mutation rolled back by an error is not recorded).
        ids = list({m.client_id for m in batch})
        seen = {str(k): str(v) for k, v in conn.execute(_SEEN, {"ids": ids})}
        # The batch's tickets read and row-locked at once (two agents racing for one ticket see
        # each other's change: the lock is held to commit). Only this batch changes them until
        # then, so each copy is kept current from the writes that settle.
        tickets = lock_tickets(conn, {m.ticket_id for m in batch if m.client_id not in seen})
        settling = _Settling(conn, agent, after_apply, user_agent, careful, seen, dict(tickets))
        start = 0
        while start < len(batch):
            run, kind = _run_from(batch, start, seen)
            if kind is None or len(run) < 2 or not settling.run(run, kind):
                # One at a time; also a run whose set-based write hit a database error, so
                # each of its mutations gets exactly the answer it gets alone.
                for mutation in run or batch[start : start + 1]:
                    settling.one(mutation)
            start += max(len(run), 1)
        # The answers recorded in one executemany, in the same transaction: none of these ids
        # was recorded before (checked above, under the writer lock), so this cannot conflict,
        # and a mutation undone by its savepoint is not among them.
        if settling.records:
            conn.execute(_RECORD, settling.records)
        # Read under the writer lock: exactly this batch's last entry.
        top = last_seq(conn) if settling.logged else None
    return settling.results, top


def _run_from(
    batch: list[Incoming], start: int, seen: Mapping[str, str]
) -> tuple[list[Incoming], RunKind | None]:
    """The run starting at `start` and its kind, or ([], None): no run starts there."""
    for kind in _RUNS:
        if run := kind.run_from(batch, start, seen):
            return run, kind
    return [], None


@dataclass
class _Settling:
    """A batch's state while it settles: answers so far, recorded ids, current tickets."""

    conn: Connection
    agent: Mapping[str, Any]
    after_apply: AfterApply | None
    user_agent: str | None
    careful: bool  # each mutation and run in a savepoint (else an error fails the batch)
    seen: dict[str, str]
    tickets: dict[int, Mapping[str, Any]]
    results: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    logged: bool = False  # whether any mutation applied (wrote to the change log)

    def one(self, mutation: Incoming) -> None:
        try:
            with savepoint(self.conn) if self.careful else contextlib.nullcontext():
                result, recorded, updated = settle(
                    self.conn,
                    self.agent,
                    mutation,
                    self.seen.get(mutation.client_id),
                    self.tickets.get(mutation.ticket_id),
                    self.after_apply,
                    self.user_agent,
                )
        except IntegrityError as error:
            if not self.careful:
                raise
            self.results.append(answer(mutation, Outcome.REJECTED, reason=f"invalid: {error.orig}"))
            return
        self._keep(mutation, result, recorded, updated)

    def run(self, run: list[Incoming], kind: RunKind) -> bool:
        """Settle a run set-based; False (nothing settled, nothing written) when the database
        refused its writes, in careful mode.
        """
        settled = apply_run(
            self.conn,
            self.agent,
            run,
            kind.decider(self.conn, self.agent, run),
            self.tickets,
            self.after_apply,
            self.user_agent,
            careful=self.careful,
        )
        if settled is None:
            return False
        for mutation, (result, recorded, updated) in zip(run, settled, strict=True):
            self._keep(mutation, result, recorded, updated)
        return True

    def _keep(
        self,
        mutation: Incoming,
        result: dict[str, Any],
        recorded: str | None,
        updated: Mapping[str, Any] | None,
    ) -> None:
        self.results.append(result)
        self.logged = self.logged or result["outcome"] == str(Outcome.APPLIED)
        if updated is not None:
            self.tickets[mutation.ticket_id] = updated
        if recorded is not None:
            self.seen[mutation.client_id] = recorded
            self.records.append(
                {
                    "client_id": mutation.client_id,
                    "agent": self.agent["login"],
                    "result": recorded,
                    "created_at": now_epoch(),
                }
            )
