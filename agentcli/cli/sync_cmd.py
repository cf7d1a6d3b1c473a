"""`agentcli login`, `logout`, `sync`, `status` and `conflicts`: the sync client from the shell."""

from __future__ import annotations

import logging
import sys
import threading
from typing import TYPE_CHECKING, Any

import click

from agentcli.cli.context import CliContext
from agentcli.cli.output import fail, print_json
from agentcli.domain.inert import inert
from agentcli.sync import credentials
from agentcli.sync.client import Client, InsecureURL, SyncError
from agentcli.sync.engine import Engine, SyncConfig, SyncReport, run_loop
from agentcli.sync.status import read_status, set_state

if TYPE_CHECKING:
    from agentcli.sync.progress_bar import PullBar

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
# A pull this large shows a progress bar (a first sync, or a long time offline).
PROGRESS_THRESHOLD = 2000


def _client() -> Client:
    found = credentials.load()
    if found is None:
        fail("not logged in: run `agentcli login SERVER_URL`")
    assert found is not None
    try:
        return Client(found.server, found.token, insecure=found.insecure)
    except InsecureURL as error:
        fail(str(error))
        raise


@click.command()
@click.argument("server_url")
@click.option("--token", help="API token (asked for when not given).")
@click.option("--insecure", is_flag=True, help="Allow plain http to a non-loopback host.")
@json_option
@click.pass_obj
def login(
    obj: CliContext, server_url: str, token: str | None, insecure: bool, as_json: bool
) -> None:
    """Log in to a server: check the token against it, then store it (0600 or keyring)."""
    try:
        server = Client(server_url, "", insecure=insecure).server
    except InsecureURL as error:
        fail(str(error))
        raise
    if token is None:
        token = click.prompt("API token", hide_input=True, err=True)
    token = token.strip()
    try:
        with Client(server, token, insecure=insecure) as client:
            agent = client.me()
    except SyncError as error:
        fail(f"login failed: {error}")
        raise
    where = credentials.save(credentials.Credentials(server, agent["login"], token, insecure))
    set_state(obj.db, server=server, agent=agent["login"])
    result = {"server": server, "agent": agent["login"], "role": agent.get("role"), "token": where}
    if as_json:
        print_json(result)
    else:
        click.echo(f"logged in to {server} as {inert(agent['login'])} (token in {where})")


@click.command()
@json_option
@click.pass_obj
def logout(obj: CliContext, as_json: bool) -> None:
    """Forget the stored token (the local store and its outbox stay)."""
    removed = credentials.delete()
    set_state(obj.db, online=0)
    if as_json:
        print_json({"logged_out": removed})
    else:
        click.echo("logged out" if removed else "was not logged in")


@click.command()
@click.option("--once", "mode", flag_value="once", default=True, help="One cycle (default).")
@click.option("--watch", "mode", flag_value="watch", help="Keep syncing, live over SSE.")
@click.option(
    "--batch",
    type=int,
    default=SyncConfig.push_batch,
    show_default=True,
    help="Mutations per push.",
)
@click.option("--page", type=int, default=1000, show_default=True, help="Changes per pull.")
@json_option
@click.pass_obj
def sync(obj: CliContext, mode: str, batch: int, page: int, as_json: bool) -> None:
    """Push the outbox and pull the server's changes (--watch: keep going, live)."""
    config = SyncConfig(page_size=page, push_batch=batch)
    client = _client()
    db = obj.db
    if mode == "watch":
        _watch(obj, client, config, as_json)
        return
    bar: PullBar | None = None
    head = None
    if not as_json and sys.stderr.isatty():
        head = client.head()
        cursor = read_status(db)["cursor"]
        if head is not None and head - cursor >= PROGRESS_THRESHOLD:
            from agentcli.sync.progress_bar import PullBar  # rich.progress only when shown

            bar = PullBar(head - cursor)
    engine = Engine(db, client, config, on_progress=bar)
    try:
        report = engine.sync_once(head=head)
    except SyncError as error:
        fail(f"sync failed: {error} (the outbox is kept; try again later)")
        raise
    except ValueError as error:  # WireError: a malformed page, refused whole
        fail(f"sync failed: {error} (nothing from that page applied)")
        raise
    finally:
        if bar is not None:
            bar.close()
        client.close()
    _print_report(report, read_status(db), as_json)


def _print_report(report: SyncReport, status: dict[str, Any], as_json: bool) -> None:
    result = {
        "pushed": report.pushed,
        "outcomes": report.outcomes,
        "pulled": report.pulled,
        "cursor": report.cursor,
        "outbox": status["outbox"],
        "conflicts": status["conflicts"],
        "rejected": status["rejected"],
    }
    if as_json:
        print_json(result)
        return
    outcomes = ", ".join(f"{n} {k}" for k, n in sorted(report.outcomes.items())) or "nothing"
    click.echo(
        f"pushed {report.pushed} ({outcomes}); pulled {report.pulled} changes;"
        f" cursor {report.cursor}; outbox {status['outbox']}; conflicts {status['conflicts']}"
    )


def _watch(obj: CliContext, client: Client, config: SyncConfig, as_json: bool) -> None:
    from agentcli.sync.live import follow

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    stop, nudge = threading.Event(), threading.Event()
    found = credentials.load()
    assert found is not None
    events = Client(found.server, found.token, insecure=found.insecure)
    follower = threading.Thread(
        target=follow, args=(events, nudge.set, stop, config), name="agentcli-live", daemon=True
    )
    follower.start()

    def report(result: SyncReport | None, error: BaseException | None) -> None:
        if error is not None:
            click.echo(f"sync: {inert(str(error))}", err=True)
        elif result is not None and (result.pushed or result.pulled):
            _print_report(result, read_status(obj.db), as_json)

    try:
        run_loop(Engine(obj.db, client, config), stop, nudge, on_cycle=report)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        events.close()
        client.close()


@click.command("status")
@click.argument("ticket_id", type=int, required=False)
@click.argument("new_status", required=False)
@json_option
@click.pass_obj
def status_command(
    obj: CliContext, ticket_id: int | None, new_status: str | None, as_json: bool
) -> None:
    """Sync status (no arguments), or set a ticket's status: `agentcli status 42 solved`."""
    if ticket_id is not None:
        if new_status is None:
            fail("give a status too: agentcli status ID STATUS")
        from agentcli.cli.write_cmd import set_status

        set_status(obj, ticket_id, str(new_status), as_json)
        return
    state = read_status(obj.db)
    if as_json:
        print_json(state)
        return
    online = "online" if state["online"] else "offline"
    lines = [
        ("server", state["server"] or "(not logged in)"),
        ("agent", state["agent"] or "-"),
        ("state", online),
        ("last sync", state["last_sync"] or "never"),
        ("cursor", state["cursor"]),
        ("outbox", state["outbox"]),
        ("rejected", state["rejected"]),
        ("conflicts", state["conflicts"]),
    ]
    if state["last_error"]:
        lines.append(("last error", f"{state['last_error']} ({state['last_error_at']})"))
    for name, value in lines:
        click.echo(f"{name:<11}{inert(str(value))}")


@click.group(invoke_without_command=True)
@json_option
@click.pass_context
def conflicts(ctx: click.Context, as_json: bool) -> None:
    """Changes that lost a race: list them, `reapply ID` or `discard ID`."""
    if ctx.invoked_subcommand is not None:
        return
    from agentcli.store.conflicts import list_conflicts

    rows = list_conflicts(ctx.obj.db)
    if as_json:
        print_json(rows)
        return
    if not rows:
        click.echo("no conflicts")
    for row in rows:
        server = row["server_state"] or {}
        theirs = {k: server.get(k) for k in row["payload"] if k in server}
        click.echo(
            f"#{row['id']} ticket {row['ticket_id']} {row['type']}: yours {row['payload']}"
            f" · server {theirs or '-'} (v{row['server_version']}) · {inert(row['reason'] or '')}"
        )


@conflicts.command("reapply")
@click.argument("conflict_id", type=int)
@json_option
@click.pass_obj
def conflicts_reapply(obj: CliContext, conflict_id: int, as_json: bool) -> None:
    """Queue your change again, against the ticket's current version."""
    from agentcli.cli.write_cmd import me
    from agentcli.store.conflicts import ConflictError, reapply

    try:
        mutation = reapply(obj.db, conflict_id, author=me(obj.db))
    except (ConflictError, ValueError) as error:
        fail(str(error))
        raise
    result = {"conflict": conflict_id, "client_id": mutation.client_id, "queued": True}
    print_json(result) if as_json else click.echo(f"conflict #{conflict_id}: re-queued")


@conflicts.command("discard")
@click.argument("conflict_id", type=int)
@json_option
@click.pass_obj
def conflicts_discard(obj: CliContext, conflict_id: int, as_json: bool) -> None:
    """Drop your change and keep the server's value."""
    from agentcli.store.conflicts import ConflictError, discard

    try:
        discard(obj.db, conflict_id)
    except ConflictError as error:
        fail(str(error))
    print_json({"conflict": conflict_id, "discarded": True}) if as_json else click.echo(
        f"conflict #{conflict_id}: discarded"
    )
