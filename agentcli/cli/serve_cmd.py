"""`agentcli serve`: run the helpdesk server, and manage its agents (`serve agents ...`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from agentcli.domain.vocabulary import Role

if TYPE_CHECKING:
    from sqlalchemy import Engine

DB_HELP = (
    "SQLite file path or postgresql:// URL "
    "(default: server.db in the user data dir; env AGENTCLI_SERVER_DB)."
)


def _engine(db: str | None) -> Engine:
    # Server imports are deferred so `agentcli --help` stays fast.
    from agentcli.server.db import default_db_url, open_engine

    return open_engine(db or default_db_url())


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


@click.group(invoke_without_command=True)
@click.option("--db", "db", help=DB_HELP)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int)
@click.option("--demo", is_flag=True, help="Seed demo data into an empty store first.")
@click.option(
    "--webhook-secret",
    "webhook_secrets",
    multiple=True,
    metavar="CHANNEL=SECRET",
    help="Enable POST /api/v1/inbound/CHANNEL with this HMAC secret (repeatable);"
    " csat=SECRET enables POST /api/v1/csat (satisfaction ratings).",
)
@click.option(
    "--sla-policy",
    "sla_policy",
    type=click.Path(exists=True, dir_okay=False),
    help="SLA policy TOML (default: the shipped agentcli/server/sla_default.toml).",
)
@click.option("--no-sla", is_flag=True, help="Run without SLA due times and breach checks.")
@click.option(
    "--sla-check-seconds", default=30.0, show_default=True, help="How often breaches are checked."
)
@click.option(
    "--auto-assign",
    "auto_assign",
    metavar="QUEUE,...",
    help="Auto-assign new tickets in these queues ('*' for all): language, capacity, "
    "least loaded, round-robin.",
)
@click.option(
    "--smtp-port",
    type=int,
    help="Accept inbound mail on this SMTP port (off by default; 2525 is a good choice).",
)
@click.option("--smtp-queue", default="general", show_default=True, help="Queue for mail tickets.")
@click.option(
    "--smtp-relay",
    metavar="HOST:PORT",
    help="Send public replies on email tickets through this SMTP relay (queued, retried).",
)
@click.option(
    "--mail-from",
    default="support@localhost",
    show_default=True,
    help="From address (and Message-ID domain) of outbound replies.",
)
@click.pass_context
def serve(
    ctx: click.Context,
    db: str | None,
    host: str,
    port: int,
    demo: bool,
    webhook_secrets: tuple[str, ...],
    sla_policy: str | None,
    no_sla: bool,
    sla_check_seconds: float,
    auto_assign: str | None,
    smtp_port: int | None,
    smtp_queue: str,
    smtp_relay: str | None,
    mail_from: str,
) -> None:
    """Run the helpdesk server (HTTP API, change feed, channels)."""
    if ctx.invoked_subcommand is not None:
        return
    from agentcli.domain.sla_policy import PolicyError
    from agentcli.server.app import create_app
    from agentcli.server.runner import run
    from agentcli.server.services import Periodic
    from agentcli.server.sla import check_breaches, load_config
    from agentcli.server.workflow import Workflow

    engine = _engine(db)
    if demo:
        from agentcli.server.demo_seed import seed_demo

        click.echo(seed_demo(engine))
    secrets = dict(item.split("=", 1) for item in webhook_secrets if "=" in item)
    try:
        sla = None if no_sla else load_config(sla_policy)
    except PolicyError as error:
        raise click.ClickException(f"SLA policy: {error}") from None
    workflow = Workflow(sla=sla, auto_assign=frozenset(_split(auto_assign)))
    background: list = []
    if sla is not None:
        background.append(Periodic("sla", lambda: check_breaches(engine), sla_check_seconds))
    if smtp_relay:
        from functools import partial

        from agentcli.server.mail_out import MailSender, MailSettings, queue_reply

        relay_host, _, relay_port = smtp_relay.rpartition(":")
        if not relay_host or not relay_port.isdigit():
            raise click.BadParameter("use HOST:PORT", param_hint="--smtp-relay")
        settings = MailSettings(relay_host, int(relay_port), mail_from=mail_from)
        workflow.queue_reply = partial(queue_reply, settings)
        background.append(MailSender(engine, settings))
    if smtp_port:
        from agentcli.server.mail_in import SmtpListener

        background.append(SmtpListener(engine, workflow, host, smtp_port, queue=smtp_queue))
        click.echo(f"SMTP: accepting mail on {host}:{smtp_port} (queue {smtp_queue})")
    app = create_app(engine, webhook_secrets=secrets, workflow=workflow, background=background)
    run(app, host, port)


@serve.group()
def agents() -> None:
    """Manage the server's agents and their API tokens."""


@agents.command("add")
@click.argument("login")
@click.option("--role", type=click.Choice([r.value for r in Role]), default="agent")
@click.option("--name", help="Display name (default: the login).")
@click.option("--languages", help="Comma separated, e.g. zh,uk,en.")
@click.option("--queues", help="Comma separated queue names.")
@click.option("--capacity", type=int, default=20, show_default=True)
@click.option("--db", "db", help=DB_HELP)
def agents_add(
    login: str,
    role: str,
    name: str | None,
    languages: str | None,
    queues: str | None,
    capacity: int,
    db: str | None,
) -> None:
    """Create an agent and print its API token (shown only this once)."""
    from agentcli.server.auth import AgentExists, add_agent

    try:
        token = add_agent(
            _engine(db),
            login,
            Role(role),
            name=name,
            languages=_split(languages),
            queues=_split(queues),
            capacity=capacity,
        )
    except AgentExists as error:
        raise click.ClickException(str(error)) from None
    click.echo(token)
    click.echo(f"# token for {login}: store it now, it cannot be shown again", err=True)


@agents.command("list")
@click.option("--db", "db", help=DB_HELP)
@click.option("--json", "as_json", is_flag=True)
def agents_list(db: str | None, as_json: bool) -> None:
    """List agents (never their tokens)."""
    from agentcli.server.auth import list_agents

    rows = list_agents(_engine(db))
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        state = "active" if row["active"] else "disabled"
        click.echo(
            f"{row['login']:<20} {row['role']:<10} {state:<8} "
            f"{','.join(row['languages']):<12} {','.join(row['queues'])}"
        )


@agents.command("set")
@click.argument("login")
@click.option("--role", type=click.Choice([r.value for r in Role]))
@click.option("--name", help="Display name.")
@click.option("--languages", help="Comma separated, e.g. zh,uk,en (replaces the list).")
@click.option("--queues", help="Comma separated queue names (replaces the list).")
@click.option("--capacity", type=click.IntRange(0, 10_000))
@click.option("--db", "db", help=DB_HELP)
def agents_set(
    login: str,
    role: str | None,
    name: str | None,
    languages: str | None,
    queues: str | None,
    capacity: int | None,
    db: str | None,
) -> None:
    """Change an agent's role, name, languages, queues or capacity."""
    from agentcli.server.auth import LastAdmin, update_agent

    changes: dict[str, object] = {"role": role, "name": name, "capacity": capacity}
    changes |= {
        "languages": None if languages is None else _split(languages),
        "queues": None if queues is None else _split(queues),
    }
    changes = {key: value for key, value in changes.items() if value is not None}
    if not changes:
        raise click.UsageError(
            "nothing to change: give --role, --name, --languages, --queues or --capacity"
        )
    try:
        row = update_agent(_engine(db), login, changes)
    except LastAdmin as error:
        raise click.ClickException(str(error)) from None
    if row is None:
        raise click.ClickException(f"no agent {login!r}")
    click.echo(json.dumps(row, ensure_ascii=False))


@agents.command("token")
@click.argument("login")
@click.option("--db", "db", help=DB_HELP)
def agents_token(login: str, db: str | None) -> None:
    """Issue LOGIN a new API token (printed once); the old token stops working at once."""
    from agentcli.server.auth import rotate_token

    token = rotate_token(_engine(db), login)
    if token is None:
        raise click.ClickException(f"no agent called {login!r}")
    click.echo(token)
    click.echo(f"# new token for {login}: store it now, it cannot be shown again", err=True)


@agents.command("disable")
@click.argument("login")
@click.option("--db", "db", help=DB_HELP)
def agents_disable(login: str, db: str | None) -> None:
    """Disable an agent: its token stops working at once."""
    from agentcli.server.auth import LastAdmin, set_active

    try:
        if not set_active(_engine(db), login, False):
            raise click.ClickException(f"no agent {login!r}")
    except LastAdmin as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"disabled {login}")
