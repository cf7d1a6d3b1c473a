"""`agentcli search TEXT`: full-text search of the local store's messages."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

import click

from agentcli.cli.context import CliContext
from agentcli.domain.text import clean_line
from agentcli.store.search import SearchHit, search


@click.command("search")
@click.argument("text", nargs=-1, required=True)
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of hits.")
@click.option("--relevance", is_flag=True, help="Rank the newest hits by relevance (bm25).")
@click.option("--before", type=int, help="Only messages with id below this (next page).")
@click.pass_obj
def search_command(
    obj: CliContext,
    text: tuple[str, ...],
    limit: int,
    as_json: bool,
    relevance: bool,
    before: int | None,
) -> None:
    """Find messages containing every word of TEXT (Chinese, Ukrainian, English).

    Words match by prefix (доставк finds доставка, доставки); Chinese matches anywhere in a
    run of characters; "quoted text" is an exact phrase. Simplified and Traditional Chinese
    are searched as typed: 换货 and 換貨 find different messages.
    """
    try:
        hits = search(
            obj.db,
            " ".join(text),
            limit=limit,
            order="relevance" if relevance else "newest",
            before=before,
        )
    except (sqlite3.Error, OSError) as error:
        raise click.ClickException(f"search failed: {error}") from error
    if as_json:
        click.echo(json.dumps([_as_dict(hit) for hit in hits], ensure_ascii=False, indent=2))
    elif not hits:
        click.echo("No matches.", err=True)
    else:
        for hit in hits:
            click.echo(_as_lines(hit))


def _as_dict(hit: SearchHit) -> dict[str, object]:
    return {
        "ticket_id": hit.ticket_id,
        "message_id": hit.message_id,
        "subject": hit.subject,
        "snippet": hit.snippet,
        "spans": [list(span) for span in hit.spans],
        "created_at": hit.created_at,
        "score": hit.score,
    }


def _as_lines(hit: SearchHit) -> str:
    # Plain click.echo, no Rich: customer text is printed as-is, never read as markup, and
    # clean_line drops control characters so a message cannot drive the terminal.
    when = datetime.fromtimestamp(hit.created_at, UTC).strftime("%Y-%m-%d %H:%M")
    head = f"#{hit.ticket_id}  msg {hit.message_id}  {when}  {clean_line(hit.subject)}"
    return f"{head}\n    {hit.snippet_marked}"
