"""`agentcli demo`: an embedded server with seeded demo data, logged in, synced, in one command.

Everything lives in a demo folder (server store, console store, credentials), so the demo
never touches a real account. Run it again and it reuses the data: the server keeps its
tickets, the console store resumes from its sync cursor, the demo agent gets a fresh token.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from platformdirs import user_data_dir
from rich.console import Console
from rich.text import Text

from agentcli.cli.output import fail, print_table
from agentcli.domain.clock import now_epoch
from agentcli.domain.durations import countdown
from agentcli.domain.query import parse_query
from agentcli.store.db import open_store
from agentcli.store.inbox import inbox_page
from agentcli.store.views import sidebar_counts
from agentcli.sync import credentials

DEMO_AGENT = "li.na"  # a seeded agent (returns and refunds, zh-CN and en)
DEMO_QUERY = "status:new,open,pending sort:sla"


@click.command()
@click.option(
    "--tickets",
    type=click.IntRange(min=1),
    default=5_000,
    show_default=True,
    help="Tickets to seed into a new demo server.",
)
@click.option("--agent", default=DEMO_AGENT, show_default=True, help="Seeded agent to log in as.")
@click.option("--lang", type=click.Choice(["en", "zh-CN", "uk"]), default=None, help="UI language.")
@click.option(
    "--dir",
    "demo_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Demo folder (default: 'demo' in the user data dir).",
)
@click.option(
    "--print", "print_only", is_flag=True, help="Print the inbox; don't open the console."
)
def demo(
    tickets: int, agent: str, lang: str | None, demo_dir: Path | None, print_only: bool
) -> None:
    """Start a demo server with realistic tickets, log in, sync, and open the console."""
    from agentcli.server.app import create_app
    from agentcli.server.auth import rotate_token
    from agentcli.server.db import open_engine
    from agentcli.server.demo_seed import seed_demo
    from agentcli.server.runner import start_in_thread

    demo_dir = demo_dir or Path(user_data_dir("agentcli", appauthor=False)) / "demo"
    demo_dir.mkdir(parents=True, exist_ok=True)
    os.environ[credentials.CONFIG_ENV] = str(demo_dir / "config")  # keep real logins apart
    err = Console(stderr=True)
    engine = open_engine(str(demo_dir / "server.db"))
    with err.status("preparing the demo server…"):
        report = seed_demo(engine, ticket_count=tickets, seed=1)
    err.print(Text(report.splitlines()[-1], style="dim"))
    token = rotate_token(engine, agent)
    if token is None:
        fail(f"agent {agent!r} is not one of the demo agents")
    server = start_in_thread(create_app(engine))
    try:
        store_path = demo_dir / "store.db"
        _log_in_and_sync(store_path, server.url, agent, token, err)
        if print_only or not sys.stdout.isatty():
            _print_inbox(store_path, agent)
        else:
            from agentcli.cli.console_cmd import shipped_policy
            from agentcli.tui import run_console

            run_console(
                store_path,
                agent=agent,
                lang=lang or os.environ.get("AGENTCLI_LANG", "en"),
                sla_policy=shipped_policy,
                warm_metrics=True,
            )
    finally:
        server.stop()
        engine.dispose()


def _log_in_and_sync(store_path: Path, url: str, agent: str, token: str, err: Console) -> None:
    from agentcli.sync.client import Client
    from agentcli.sync.engine import Engine
    from agentcli.sync.status import set_state

    credentials.save(credentials.Credentials(url, agent, token))
    db = open_store(store_path)
    set_state(db, server=url, agent=agent)
    with Client(url, token) as client, err.status("syncing the demo account…"):
        result = Engine(db, client).sync_once()
    err.print(Text(f"logged in to {url} as {agent}; synced {result.pulled:,} changes", style="dim"))
    db.conn.close()


def _print_inbox(store_path: Path, agent: str) -> None:
    """The inbox in plain terminal output, for when there is no terminal to run the console."""
    db = open_store(store_path)
    console = Console()
    console.print(Text(f"agentcli demo · {store_path} · me = {agent}", style="bold"))
    views = [
        {"view": name, "tickets": count} for name, _query, count in sidebar_counts(db, me=agent)
    ]
    print_table(views, ("view", "tickets"))
    page = inbox_page(db, parse_query(DEMO_QUERY), me=agent, limit=25)
    now = now_epoch()
    rows = [{**row.as_dict(), "sla": countdown(row.sla_due, now)} for row in page.rows]
    console.print(Text(f"\nInbox · {DEMO_QUERY}", style="bold"))
    columns = ("id", "priority", "channel", "language", "customer", "subject", "case_type", "sla")
    print_table(rows, (*columns, "assignee"), flex="subject")
