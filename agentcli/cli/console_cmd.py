"""`agentcli console`: open the keyboard-first agent console on the local store."""

from __future__ import annotations

import click

from agentcli.cli.context import CliContext
from agentcli.domain.sla_policy import SlaConfig


@click.command()
@click.option(
    "--lang",
    type=click.Choice(["en", "zh-CN", "uk"], case_sensitive=False),
    default=None,
    help="UI language (default: $AGENTCLI_LANG, else en).",
)
@click.option("--agent", "agent", metavar="LOGIN", default=None, help="Agent login (`me`).")
@click.pass_obj
def console(obj: CliContext, lang: str | None, agent: str | None) -> None:
    """The agent console: inbox, ticket view, composer with macros."""
    import os

    from agentcli.tui import run_console

    run_console(
        obj.db_path,
        agent=agent,
        lang=lang or os.environ.get("AGENTCLI_LANG", "en"),
        sla_policy=shipped_policy,
        warm_metrics=True,
    )


def shipped_policy() -> SlaConfig:
    """The SLA policy `agentcli serve` ships, for the metrics charts (imported on use only)."""
    from agentcli.server.sla_file import load_config

    return load_config(None)
