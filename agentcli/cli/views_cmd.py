"""`agentcli views`: the sidebar's views with their counts, and saved views."""

from __future__ import annotations

import click

from agentcli.cli.context import CliContext
from agentcli.cli.output import fail, print_json, print_table
from agentcli.domain.query import QuerySyntaxError
from agentcli.store.views import delete_view, save_view, sidebar_counts


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of views.")
@click.option("--me", envvar="AGENTCLI_AGENT", default="", help="Agent login that `me` means.")
@click.pass_context
def views(ctx: click.Context, as_json: bool, me: str) -> None:
    """Every view (built-in and saved) with how many tickets it holds."""
    if ctx.invoked_subcommand is not None:
        return
    obj: CliContext = ctx.obj
    rows = [
        {"name": name, "query": query, "count": count}
        for name, query, count in sidebar_counts(obj.db, me=me or None, include_saved=True)
    ]
    if as_json:
        print_json(rows)
    else:
        print_table(rows, ("name", "count", "query"))


@views.command("save")
@click.argument("name")
@click.argument("query")
@click.pass_obj
def save(obj: CliContext, name: str, query: str) -> None:
    """Save QUERY as a view called NAME (replacing one of that name)."""
    try:
        save_view(obj.db, name, query)
    except QuerySyntaxError as error:
        fail(f"query: {error}")
    click.echo(f"saved view {name!r}")


@views.command("delete")
@click.argument("name")
@click.pass_obj
def delete(obj: CliContext, name: str) -> None:
    """Delete the saved view NAME."""
    if not delete_view(obj.db, name):
        fail(f"no saved view called {name!r}")
    click.echo(f"deleted view {name!r}")
