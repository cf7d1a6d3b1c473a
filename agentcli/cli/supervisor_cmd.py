"""`agentcli workload`, `reassign` and `rebalance`: the supervisor board from the shell.

Moves are queued in one transaction (agentcli.store.reassign) and pushed at once when logged
in; tickets an agent took or wrote on meanwhile are skipped by the server and listed here
(they stay as conflicts: `agentcli conflicts`). The server enforces the role: an agent's
attempt to move others' tickets is rejected and changes nothing.
"""

from __future__ import annotations

import time
from typing import Any

import click
import sqlite_utils

from agentcli.cli.context import CliContext
from agentcli.cli.output import fail, print_json, print_table
from agentcli.cli.write_cmd import me
from agentcli.domain.clock import SLA_NEVER
from agentcli.domain.durations import elapsed
from agentcli.domain.inert import inert
from agentcli.domain.mutations import Mutation
from agentcli.domain.query import QuerySyntaxError
from agentcli.domain.rebalance import Proposal
from agentcli.store.reassign import (
    Outcomes,
    ReassignError,
    describe,
    enqueue_moves,
    enqueue_rebalance,
    outcomes,
    rebalance_proposal,
    select_agent_queue,
    select_query,
)
from agentcli.store.workload import Board, board

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


# Presence comes from the server; the board does not wait longer than this for it.
PRESENCE_TIMEOUT = 2.0


def board_rows(
    found: Board, present: dict[str, dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Agents and queues as rows; each agent's `presence` is its entry in `present` (the
    server's, by login) or None."""
    agents = [
        {
            "agent": a.login,
            "name": a.name,
            "role": a.role,
            "open": a.open,
            "pending": a.pending,
            "at_risk": a.at_risk,
            "breached": a.breached,
            "load": a.load,
            "capacity": a.capacity,
            "languages": list(a.languages),
            "last_activity": a.last_activity,
            "active": a.active,
            "presence": _presence_of(present.get(a.login)),
        }
        for a in found.agents
    ]
    queues = [
        {
            "queue": q.queue,
            "volume": q.volume,
            "unassigned": q.unassigned,
            "oldest_waiting": q.oldest_waiting,
            "at_risk": q.at_risk,
            "breached": q.breached,
            "by_channel": q.by_channel,
        }
        for q in found.queues
    ]
    return agents, queues


def _presence_of(entry: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if entry is None else {k: entry[k] for k in ("ticket_id", "activity", "at")}


def _present() -> tuple[dict[str, dict[str, Any]], str | None]:
    """Each agent's presence now, by login, from the server; ({}, why not) when there is none
    to ask (not logged in, offline)."""
    from agentcli.sync import credentials
    from agentcli.sync.client import Client, InsecureURL, SyncError

    found = credentials.load()
    if found is None:
        return {}, "not logged in"
    try:
        with Client(
            found.server, found.token, insecure=found.insecure, timeout=PRESENCE_TIMEOUT
        ) as client:
            return {entry["agent"]: entry for entry in client.present()}, None
    except (SyncError, InsecureURL) as error:
        return {}, str(error)


def _presence_text(presence: dict[str, Any] | None) -> str:
    return "" if presence is None else f"{presence['activity']} #{presence['ticket_id']}"


@click.command()
@json_option
@click.pass_obj
def workload(obj: CliContext, as_json: bool) -> None:
    """The supervisor board: each agent's load, presence and SLA, each queue's waiting line.

    Counts come from the local store; presence (who is viewing or replying to which ticket)
    from the server when logged in and online."""
    found = board(obj.db)
    present, unknown = _present()
    agents, queues = board_rows(found, present)
    if as_json:
        document = {"now": found.now, "presence_unknown": unknown}
        print_json(document | {"agents": agents, "queues": queues})
        return
    if unknown is not None:
        click.echo(f"presence unknown: {inert(unknown)}", err=True)
    table = [
        {
            "agent": row["agent"],
            "presence": _presence_text(row["presence"]),
            "role": row["role"],
            "open": row["open"],
            "pending": row["pending"],
            "risk": row["at_risk"],
            "breached": row["breached"],
            "load/cap": f"{row['load']}/{row['capacity']}",
            "last": elapsed(row["last_activity"], found.now),
            "languages": ",".join(row["languages"]),
        }
        for row in agents
    ]
    print_table(table, list(table[0]) if table else ["agent"], flex="languages")
    click.echo()
    rows = [
        {
            "queue": row["queue"],
            "volume": row["volume"],
            "unassigned": row["unassigned"],
            "oldest": elapsed(row["oldest_waiting"], found.now),
            "risk": row["at_risk"],
            "breached": row["breached"],
            "waiting by channel": " ".join(
                f"{k}:{n}" for k, n in sorted(row["by_channel"].items())
            ),
        }
        for row in queues
    ]
    print_table(rows, list(rows[0]) if rows else ["queue"], flex="waiting by channel")


def _owners_text(owners: dict[str, int]) -> str:
    return ", ".join(f"{n} from {inert(who) if who else 'unassigned'}" for who, n in owners.items())


def _push(db: sqlite_utils.Database) -> bool:
    """Push (and pull) now when logged in; False when offline or not logged in."""
    from agentcli.sync import credentials
    from agentcli.sync.client import Client, SyncError
    from agentcli.sync.engine import Engine

    found = credentials.load()
    if found is None:
        return False
    try:
        with Client(found.server, found.token, insecure=found.insecure) as client:
            Engine(db, client).sync_once()
    except SyncError as error:
        click.echo(f"not pushed: {inert(str(error))} (queued; `agentcli sync` later)", err=True)
        return False
    return True


def _report(result: Outcomes, queued: int, seconds: float, as_json: bool) -> None:
    data = {
        "queued_mutations": queued,
        "applied": result.applied,
        "skipped": [{"ticket": t, "reason": why} for t, why in result.skipped],
        "rejected": [{"ticket": t, "reason": why} for t, why in result.rejected],
        "not_pushed": result.queued,
        "seconds": round(seconds, 3),
    }
    if as_json:
        print_json(data)
        return
    click.echo(
        f"applied {len(result.applied)}, skipped {len(result.skipped)},"
        f" rejected {len(result.rejected)}, not pushed yet {len(result.queued)}"
    )
    for ticket, why in result.skipped:
        click.echo(f"  skipped #{ticket}: {inert(why)} (kept in `agentcli conflicts`)")
    for ticket, why in result.rejected:
        click.echo(f"  rejected #{ticket}: {inert(why)}")


def _queue_and_push(obj: CliContext, make: Any, as_json: bool) -> None:
    """Queue the moves `make(author)` returns, push them, report per ticket."""
    started = time.perf_counter()
    try:
        mutations: list[Mutation] = make(me(obj.db))
    except ReassignError as error:
        fail(str(error))
        raise
    if mutations:
        _push(obj.db)
    _report(outcomes(obj.db, mutations), len(mutations), time.perf_counter() - started, as_json)


@click.command()
@click.argument("query", required=False)
@click.option("--from", "from_agent", help="Every unresolved ticket of this agent.")
@click.option("--to", "to_agent", help="Assign to this agent.")
@click.option("--queue", "to_queue", help="Move to this queue (unassigned unless --to).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
@click.pass_obj
def reassign(
    obj: CliContext,
    query: str | None,
    from_agent: str | None,
    to_agent: str | None,
    to_queue: str | None,
    yes: bool,
    as_json: bool,
) -> None:
    """Move the tickets matching QUERY (or --from AGENT's) to an agent or a queue.

    Shows how many and whose, asks unless --yes, pushes when logged in, then lists what was
    applied and what was skipped because an agent took or answered it meanwhile."""
    if (query is None) == (from_agent is None):
        fail("give a QUERY or --from AGENT (one of them)")
    if to_agent is None and to_queue is None:
        fail("give --to AGENT and/or --queue QUEUE")
    db = obj.db
    try:
        ids = (
            select_agent_queue(db, from_agent)
            if from_agent
            else select_query(db, query or "", me=me(db))
        )
    except QuerySyntaxError as error:
        fail(f"query: {error}")
        raise
    picked = describe(db, ids)
    if not picked.ticket_ids:
        fail("no tickets match")
    where = " and ".join(
        part
        for part in (
            f"to {inert(to_agent)}" if to_agent else "",
            f"to queue {inert(to_queue)}" if to_queue else "",
        )
        if part
    )
    summary = f"move {len(picked.ticket_ids)} tickets {where}: {_owners_text(picked.owners)}"
    if not yes:
        click.echo(summary, err=True)
        if not click.confirm("continue?", default=False, err=True):
            fail("nothing moved")
    elif not as_json:
        click.echo(summary)
    _queue_and_push(
        obj,
        lambda author: enqueue_moves(
            db, picked.ticket_ids, to_agent=to_agent, to_queue=to_queue, author=author
        ),
        as_json,
    )


def proposal_rows(proposal: Proposal) -> list[dict[str, Any]]:
    return [
        {
            "ticket": m.ticket_id,
            "from": m.source,
            "to": m.target,
            "language": m.language,
            "priority": m.priority,
            "sla_due": None if m.sla_due >= SLA_NEVER else m.sla_due,
        }
        for m in proposal.moves
    ]


@click.command()
@click.option("--apply", "apply_it", is_flag=True, help="Queue (and push) the proposed moves.")
@json_option
@click.pass_obj
def rebalance(obj: CliContext, apply_it: bool, as_json: bool) -> None:
    """Propose moving the most urgent tickets from agents over capacity to agents with room
    who speak the customer's language (--apply queues it)."""
    db = obj.db
    proposal = rebalance_proposal(db, board(db))
    unmoved = [{"ticket": c.ticket_id, "from": c.assignee, "language": c.language,
                "reason": str(why)} for c, why in proposal.unmoved]  # fmt: skip
    if not apply_it:
        if as_json:
            print_json({"moves": proposal_rows(proposal), "unmoved": unmoved})
            return
        if not proposal.moves:
            click.echo("no moves: nobody is over capacity with someone suitable to take work")
        else:
            print_table(proposal_rows(proposal), ("ticket", "from", "to", "language", "priority"))
            takes = ", ".join(f"{inert(who)} +{n}" for who, n in proposal.by_target().items())
            click.echo(f"{len(proposal.moves)} moves: {takes} (`--apply` queues them)")
        for row in unmoved:
            click.echo(f"  stays #{row['ticket']} ({row['language']}): {row['reason']}")
        return
    _queue_and_push(
        obj, lambda author: enqueue_rebalance(db, proposal.moves, author=author), as_json
    )
