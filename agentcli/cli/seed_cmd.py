"""`agentcli seed`: fill the local store with realistic, deterministic after-sale demo data."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from agentcli.cli.context import CliContext
from agentcli.domain.clock import to_epoch
from agentcli.store.bulk import seed_store

# Below this many tickets a seed takes well under a second: no progress bar.
PROGRESS_MIN_TICKETS = 20_000


@click.command()
@click.option("--tickets", "-n", type=click.IntRange(min=1), required=True, help="How many.")
@click.option("--seed", "-s", type=int, default=0, show_default=True, help="Random seed.")
@click.option(
    "--now",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]),
    default=None,
    help="Reference time the ~60 days of history end at (default: now; naive = UTC).",
)
@click.option("--no-worker", is_flag=True, help="Generate in this process (no helper process).")
@click.pass_obj
def seed(obj: CliContext, tickets: int, seed: int, now: datetime | None, no_worker: bool) -> None:
    """Append TICKETS demo tickets (customers, orders, messages, agents, search index).

    The same --seed gives the same texts and choices; times are relative to --now.
    """
    now_epoch = None
    if now is not None:
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        now_epoch = to_epoch(now)
    db = obj.db
    worker = False if no_worker else None
    err = Console(stderr=True)
    if tickets < PROGRESS_MIN_TICKETS or not err.is_terminal:
        result = seed_store(db, tickets, seed=seed, now=now_epoch, worker=worker)
    else:
        columns = (TextColumn("seeding"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=err, transient=True) as bar:
            task = bar.add_task("seed", total=tickets)
            result = seed_store(
                db,
                tickets,
                seed=seed,
                now=now_epoch,
                worker=worker,
                progress=lambda done: bar.update(task, completed=done),
            )
    click.echo(
        f"seeded {result.tickets:,} tickets, {result.messages:,} messages "
        f"({result.rows:,} rows) in {result.seconds:.2f}s: "
        f"{result.tickets_per_second:,.0f} tickets/s"
    )
