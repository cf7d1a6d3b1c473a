"""The `agentcli` command group: global options, and the lazily loaded subcommands."""

from __future__ import annotations

import importlib
from pathlib import Path

import click

from agentcli.cli.context import CliContext
from agentcli.store.db import DB_ENV, default_db_path

# name -> "module:attribute". Modules load only when their command runs (or for --help), so
# `agentcli show 1` never pays for the server's or the macro library's imports.
COMMANDS: dict[str, str] = {
    "demo": "agentcli.cli.demo_cmd:demo",
    "tickets": "agentcli.cli.tickets_cmd:tickets",
    "show": "agentcli.cli.tickets_cmd:show",
    "history": "agentcli.cli.history_cmd:history",
    "export": "agentcli.cli.tickets_cmd:export",
    "views": "agentcli.cli.views_cmd:views",
    "search": "agentcli.cli.search_cmd:search_command",
    "seed": "agentcli.cli.seed_cmd:seed",
    "macro": "agentcli.cli.macro_cmd:macro",
    "terms": "agentcli.cli.macro_cmd:terms",
    "serve": "agentcli.cli.serve_cmd:serve",
    "console": "agentcli.cli.console_cmd:console",
    "login": "agentcli.cli.sync_cmd:login",
    "logout": "agentcli.cli.sync_cmd:logout",
    "sync": "agentcli.cli.sync_cmd:sync",
    "status": "agentcli.cli.sync_cmd:status_command",
    "conflicts": "agentcli.cli.sync_cmd:conflicts",
    "reply": "agentcli.cli.write_cmd:reply",
    "assign": "agentcli.cli.write_cmd:assign",
    "tag": "agentcli.cli.write_cmd:tag",
    "report": "agentcli.cli.report_cmd:report_command",
    "workload": "agentcli.cli.supervisor_cmd:workload",
    "reassign": "agentcli.cli.supervisor_cmd:reassign",
    "rebalance": "agentcli.cli.supervisor_cmd:rebalance",
}


class LazyGroup(click.Group):
    """A click group that imports a subcommand's module only when it is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        module_name, attribute = COMMANDS[cmd_name].split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{COMMANDS[cmd_name]} is not a click command")
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar=DB_ENV,
    help=f"Local store file (default: the user data dir; env {DB_ENV}).",
)
@click.version_option(package_name="agentcli")
@click.pass_context
def main(ctx: click.Context, db_path: Path | None) -> None:
    """agentcli: a keyboard-first terminal console for e-commerce customer service."""
    ctx.obj = CliContext(db_path or default_db_path())
