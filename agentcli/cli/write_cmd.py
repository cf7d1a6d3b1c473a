"""`agentcli reply`, `assign`, `tag` (and the two-argument `status ID STATUS`): every write is
a mutation through the outbox, applied to the local store at once, so it works offline; the
next `agentcli sync` (or the TUI's worker) pushes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import sqlite_utils

from agentcli.cli.context import CliContext
from agentcli.cli.output import fail, print_json
from agentcli.domain.mutations import Mutation, MutationType
from agentcli.domain.vocabulary import Status
from agentcli.store.db import transaction
from agentcli.store.outbox import MutationError, enqueue_in

AGENT_ENV = "AGENTCLI_AGENT"


def me(db: sqlite_utils.Database) -> str:
    """Who is writing: the agent recorded at login, else $AGENTCLI_AGENT, else "me"."""
    import os

    found = db.conn.execute("SELECT value FROM sync_state WHERE key = 'agent'").fetchone()
    return (found[0] if found else None) or os.environ.get(AGENT_ENV) or "me"


def ticket_version(db: sqlite_utils.Database, ticket_id: int) -> int:
    found = db.conn.execute("SELECT version FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
    if found is None:
        fail(f"ticket {ticket_id}: not in the local store (run `agentcli sync`)")
    return int(found[0])


def write(obj: CliContext, mutations: list[Mutation], as_json: bool) -> None:
    """Queue the mutations together (all or none) and report them."""
    db = obj.db
    author = me(db)
    queued: list[dict[str, Any]] = []
    try:
        with transaction(db) as conn:
            for mutation in mutations:
                seq = enqueue_in(conn, mutation, author=author)
                queued.append(
                    {
                        "ticket": mutation.ticket_id,
                        "type": str(mutation.type),
                        "client_id": mutation.client_id,
                        "outbox_seq": seq,
                        "payload": mutation.payload,
                        "pending": True,
                    }
                )
    except MutationError as error:
        fail(str(error))
    if as_json:
        print_json(queued[0] if len(queued) == 1 else queued)
        return
    for item in queued:
        click.echo(f"ticket {item['ticket']}: {item['type']} queued (outbox #{item['outbox_seq']})")


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@click.command()
@click.argument("ticket_id", type=int)
@click.option("--text", help="The reply text.")
@click.option("--file", "path", type=click.Path(dir_okay=False, path_type=Path), help="Read it.")
@click.option("--macro", "macro_id", help="Render this macro (and queue its actions).")
@click.option("--var", "var_pairs", multiple=True, help="key=value for the macro.")
@click.option("--note", is_flag=True, help="An internal note, not sent to the customer.")
@json_option
@click.pass_obj
def reply(
    obj: CliContext,
    ticket_id: int,
    text: str | None,
    path: Path | None,
    macro_id: str | None,
    var_pairs: tuple[str, ...],
    note: bool,
    as_json: bool,
) -> None:
    """Reply to a ticket (or add a --note): --text T, --file F or --macro M."""
    if sum(x is not None for x in (text, path, macro_id)) != 1:
        fail("give exactly one of --text, --file, --macro")
    version = ticket_version(obj.db, ticket_id)
    kind = MutationType.NOTE if note else MutationType.REPLY
    if macro_id is not None:
        write(obj, _macro_mutations(obj, ticket_id, macro_id, var_pairs, note), as_json)
        return
    body = text if text is not None else _read(path)
    if not body.strip():
        fail("the message is empty")
    write(obj, [Mutation(kind, ticket_id, version, {"body": body})], as_json)


def _read(path: Path | None) -> str:
    assert path is not None
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"{path}: {error}")
        raise


def _macro_mutations(
    obj: CliContext, ticket_id: int, macro_id: str, var_pairs: tuple[str, ...], note: bool
) -> list[Mutation]:
    # The macro library loads only here, so a plain reply never pays for Liquid.
    from agentcli.cli.macro_cmd import _find, _library, _vars, ticket_context
    from agentcli.macros.model import MacroError
    from agentcli.macros.preview import preview, to_mutations
    from agentcli.macros.render import Renderer

    library = _library(quiet=True)
    found = _find(library, macro_id)
    author = me(obj.db)
    try:
        ticket, context = ticket_context(obj.db, ticket_id, author)
        result = preview(
            found, context, None, _vars(var_pairs), renderer=Renderer(library.macros, library.terms)
        )
        mutations = to_mutations(result, ticket_id, ticket["version"], author)
    except MacroError as error:
        fail(f"macro {macro_id}: {error}")
        raise
    if note:  # the rendered text goes in as an internal note instead of a public reply
        mutations = [
            Mutation(MutationType.NOTE, m.ticket_id, m.base_version, m.payload, m.client_id)
            if m.type is MutationType.REPLY
            else m
            for m in mutations
        ]
    return mutations


@click.command()
@click.argument("ticket_id", type=int)
@click.argument("agent")
@json_option
@click.pass_obj
def assign(obj: CliContext, ticket_id: int, agent: str, as_json: bool) -> None:
    """Assign a ticket to AGENT (`-` or `none` to unassign)."""
    assignee = None if agent in ("-", "none") else agent
    version = ticket_version(obj.db, ticket_id)
    write(obj, [Mutation(MutationType.ASSIGN, ticket_id, version, {"assignee": assignee})], as_json)


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("ticket_id", type=int)
@click.argument("changes", nargs=-1, required=True)
@json_option
@click.pass_obj
def tag(obj: CliContext, ticket_id: int, changes: tuple[str, ...], as_json: bool) -> None:
    """Add and remove tags: `agentcli tag 42 +vip -破损`."""
    add = [c[1:] for c in changes if c.startswith("+") and len(c) > 1]
    remove = [c[1:] for c in changes if c.startswith("-") and len(c) > 1]
    if len(add) + len(remove) != len(changes):
        fail("each tag needs a + (add) or - (remove) prefix")
    version = ticket_version(obj.db, ticket_id)
    payload = {"add": add, "remove": remove}
    write(obj, [Mutation(MutationType.TAG, ticket_id, version, payload)], as_json)


def set_status(obj: CliContext, ticket_id: int, status: str, as_json: bool) -> None:
    try:
        value = str(Status(status))
    except ValueError:
        fail(f"unknown status {status!r} (one of {', '.join(s.value for s in Status)})")
        raise
    version = ticket_version(obj.db, ticket_id)
    write(obj, [Mutation(MutationType.SET_STATUS, ticket_id, version, {"status": value})], as_json)
