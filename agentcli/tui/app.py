"""ConsoleApp: the agent console over the local store.

Reads and writes run in thread workers, each on its own SQLite connection (`StoreAccess`).
Every change is a mutation `enqueue`d to the outbox and applied locally in one transaction,
so it shows at once as pending. The macro library loads in a worker after the first paint
(it costs ~0.3-1.5 s), so start-up never waits on it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import sqlite_utils
from rich.text import Text
from textual import events, work
from textual.app import App

from agentcli.domain.clock import now_epoch
from agentcli.domain.mutations import Mutation, MutationType, applied_macros
from agentcli.domain.sla_policy import SlaConfig
from agentcli.store.drafts import delete_draft, save_draft
from agentcli.store.views import builtin_views, list_views
from agentcli.tui.commands import CommandError, mutations_for, parse_command
from agentcli.tui.data import StoreAccess, default_agent, outbox_size
from agentcli.tui.i18n import Translator
from agentcli.tui.keymap import APP_BINDINGS, load_keymap
from agentcli.tui.keyorder import KeyRoutes
from agentcli.tui.messages import LibraryReady, Queued, StatusSnapshot, SyncCycle
from agentcli.tui.metrics_warmer import MetricsWarmer
from agentcli.tui.screens.base import ConsoleScreen
from agentcli.tui.screens.inbox import InboxScreen
from agentcli.tui.syncstatus import SyncStatus

if TYPE_CHECKING:
    from textual.command import Provider

    # The macro stack (Liquid, OpenCC) and the ticket screens load after the first paint:
    # importing them up front cost ~0.4 s of start-up.
    from agentcli.macros.glossary import Glossary
    from agentcli.macros.loader import Library
    from agentcli.macros.picker import MacroIndex
    from agentcli.macros.render import Renderer
    from agentcli.tui.live import LiveSync
    from agentcli.tui.screens.ticket import TicketScreen

STATUS_INTERVAL = 1.0
# Seconds after start before the first metrics warm-up (see agentcli.tui.metrics_warmer).
WARM_METRICS_AFTER = 10.0


__all__ = ["ConsoleApp", "LocalOnly", "SyncStatus", "SyncStatusSource", "run_console"]


class SyncStatusSource(Protocol):
    """What the status line asks: polled once a second from a worker thread, with that
    thread's own store connection (`LiveSync` is the real one)."""

    def sync_status(self, db: sqlite_utils.Database, ticket_id: int | None) -> SyncStatus: ...


class LocalOnly:
    """No sync engine: the console works on the local store alone."""

    def sync_status(self, db: sqlite_utils.Database, ticket_id: int | None) -> SyncStatus:
        return SyncStatus("local")


def _palette(name: str) -> Callable[[], type[Provider]]:
    """A provider loaded when the palette first opens (textual.command is not on the start-up
    path)."""

    def load() -> type[Provider]:
        from agentcli.tui import palette

        return getattr(palette, name)  # type: ignore[no-any-return]

    return load


class ConsoleApp(App[None]):
    TITLE = "agentcli"
    CSS_PATH = "styles/console.tcss"
    BINDINGS = APP_BINDINGS
    COMMANDS = App.COMMANDS | {
        _palette(name)
        for name in ("ViewsProvider", "TicketsProvider", "MacrosProvider", "CommandsProvider")
    }

    def __init__(
        self,
        db_path: Path,
        *,
        agent: str | None = None,
        lang: str = "en",
        sync_status: SyncStatusSource | None = None,
        clock: Callable[[], int] | None = None,
        library: Library | None = None,
        keymap_file: Path | None = None,
        paint_log: Callable[[str, float], None] | None = None,
        live: LiveSync | None = None,
        auto_live: bool = False,
        sla_policy: Callable[[], SlaConfig] | None = None,
        metrics_warmer: MetricsWarmer | None = None,
    ) -> None:
        super().__init__()
        # Scroll animations made 20 page-ups take 17 s (DESIGN.md): off unless asked for.
        if "TEXTUAL_ANIMATIONS" not in os.environ:
            self.animation_level = "none"
        self.store = StoreAccess(db_path)
        self.tr = Translator(lang)
        self.clock = clock or now_epoch
        self.live = live
        # auto_live: look for a login and start sync after the first paint (run_console).
        self.auto_live = auto_live and live is None and sync_status is None
        self.sync_source: SyncStatusSource = sync_status or live or LocalOnly()
        self.library = library
        # Reads the SLA policy for the metrics charts (called in their worker, on use only).
        self.sla_policy = sla_policy
        self.metrics_warmer = metrics_warmer
        self.macro_index: MacroIndex | None = None
        self.renderer: Renderer | None = None
        self.glossary: Glossary | None = None
        self.paint_log = paint_log
        self._key_at: float | None = None
        self.key_routes = KeyRoutes()
        self._status = StatusSnapshot(0, "syncing" if live or self.auto_live else "local", None, 0)
        db = self.main_db()
        self.me = agent or os.environ.get("AGENTCLI_AGENT") or default_agent(db)
        self.initial_views = [*builtin_views(db), *list_views(db)]
        self.keymap, self.keymap_problems = load_keymap(keymap_file)
        if library is not None:
            self._use_library(library)

    # ------------------------------------------------------------ lifecycle

    def main_db(self) -> sqlite_utils.Database:
        """The UI thread's own connection, for tiny indexed reads (drafts, one agent)."""
        return self.store.db()

    def on_mount(self) -> None:
        if self.keymap:
            self.set_keymap(self.keymap)
        self.push_screen(InboxScreen())
        if self.keymap_problems:
            self.notify("\n".join(self.keymap_problems), severity="warning")
        if self.library is None:
            self.call_after_refresh(self._load_library)
        self.set_interval(STATUS_INTERVAL, self.poll_status)
        self.poll_status()
        if self.live is not None:
            # After the first paint: starting threads and connections must not delay it.
            self.call_after_refresh(self._start_live)
        elif self.auto_live:
            self.call_after_refresh(self._find_live)
        if self.metrics_warmer is not None:
            # Later than start-up's own work (first paint, library, sync's first pull).
            self.set_timer(WARM_METRICS_AFTER, self._warm_metrics_after_start)

    def _warm_metrics_after_start(self) -> None:
        """Warm the metrics cache now, unless a sync is under way: a first sync of a big
        account needs both cores, and the end of its cycle warms instead."""
        if self.metrics_warmer is not None and not (self.live is not None and self.live.syncing):
            self.metrics_warmer.poke()

    @work(thread=True, group="live")
    def _find_live(self) -> None:
        """Credentials file, keyring and the sync stack (httpx) cost ~0.3 s to load: a
        worker does it after the first paint, then hands the LiveSync to the event loop."""
        from agentcli.tui.live import live_for

        found = live_for(self.store.db(), self.store.path)
        self.call_from_thread(self._use_live, found)

    def _use_live(self, live: LiveSync | None) -> None:
        if live is None:
            self._status = StatusSnapshot(0, "local", None, 0)
            self.poll_status()
            return
        self.live = live
        self.sync_source = live
        self._start_live()

    def _start_live(self) -> None:
        assert self.live is not None
        self.live.listener = self._sync_cycle_done
        self.live.start()
        self.poll_status()

    def on_unmount(self) -> None:
        if self.live is not None:
            self.live.listener = None
            self.live.stop()
        if self.metrics_warmer is not None:
            self.metrics_warmer.stop()
        self.store.close_all()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:  # arriving, not bubbling
            self._key_at = time.perf_counter()  # paint probes measure from here
            self.key_routes.sent(event, self.focused)
        await super().on_event(event)

    async def _on_key(self, event: events.Key) -> None:
        # Runs before App._on_key (Textual calls each class's handler): a character typed
        # before focus moved to an input belongs to that input, not to a binding.
        if self.key_routes.reroute(event, self.focused):
            event.prevent_default()

    def last_key_time(self) -> float | None:
        return self._key_at

    def record_paint(self, label: str, seconds: float) -> None:
        if self.paint_log is not None:
            self.paint_log(label, seconds)

    # ------------------------------------------------------------ macro library

    @work(thread=True, group="library")
    def _load_library(self) -> None:
        from agentcli.macros.loader import load_library

        library = load_library(shipped=True, personal=True)
        self.post_message(LibraryReady(library))

    def on_library_ready(self, message: LibraryReady) -> None:
        self._use_library(message.library)

    def _use_library(self, library: Library) -> None:
        from agentcli.macros.glossary import Glossary
        from agentcli.macros.picker import MacroIndex
        from agentcli.macros.render import Renderer

        self.library = library
        self.macro_index = MacroIndex(library.visible())
        self.renderer = Renderer(library.macros, library.terms)
        self.glossary = Glossary(library.terms.values())

    # ------------------------------------------------------------ status line

    def poll_status(self) -> None:
        if not self.screen_stack:  # the interval can fire once more while the app shuts down
            return
        # The ticket is looked up here, on the event loop: widgets are not for other threads.
        self._poll_status(self._open_ticket_id())

    @work(thread=True, exclusive=True, group="status")
    def _poll_status(self, ticket_id: int | None) -> None:
        db = self.store.db()
        size = outbox_size(db)
        sync = self.sync_source.sync_status(db, ticket_id)
        self.post_message(
            StatusSnapshot(
                size,
                sync.state,
                sync.last_sync,
                sync.conflicts,
                list(sync.viewers),
                ticket_id=ticket_id,
                rejected=sync.rejected,
                error=sync.error,
            )
        )

    def _open_ticket_id(self) -> int | None:
        """The open ticket, or in the inbox the one under the cursor (collision warnings)."""
        screen = self.screen
        if isinstance(screen, InboxScreen):
            from agentcli.tui.widgets.ticket_list import TicketList

            found = screen.query(TicketList)
            row = found.first().current() if found else None
            return row.id if row else None
        return getattr(screen, "ticket_id", None)

    def on_status_snapshot(self, message: StatusSnapshot) -> None:
        self._status = message
        for screen in self.screen_stack:
            if isinstance(screen, ConsoleScreen):
                screen.show_status(self.status_text())

    def status_text(self) -> Text:
        s, tr = self._status, self.tr
        state_style = {"online": "green", "offline": "red", "syncing": "yellow"}.get(
            s.state, "cyan"
        )
        out = Text()
        out.append(f"{tr('status.agent')}: ", style="dim")
        out.append(self.me or "-", style="bold")
        out.append("  ")
        out.append(tr(f"status.{s.state}"), style=state_style)
        if s.last_sync:
            moment = time.strftime("%H:%M:%S", time.localtime(s.last_sync))
            out.append(f"  {tr('status.last_sync')}: {moment}")
        out.append(f"  {tr('status.outbox')}: ", style="dim")
        out.append(str(s.outbox), style="bold yellow" if s.outbox else "")
        out.append(f"  {tr('status.conflicts')}: ", style="dim")
        out.append(str(s.conflicts), style="bold red" if s.conflicts else "")
        if s.rejected:
            out.append(f"  {tr('status.rejected')}: ", style="dim")
            out.append(str(s.rejected), style="bold red")
        for viewer in s.viewers:
            who, _, activity = viewer.partition(":")
            key = "status.replying" if activity == "replying" else "status.viewing_one"
            out.append("  ⚠ " + tr(key, who=who, ticket=s.ticket_id), style="bold magenta")
        if s.error:
            out.append(f"  {s.error[:60]}", style="dim red")
        return out

    # ------------------------------------------------------------ live sync

    def _sync_cycle_done(self, pulled: int, pushed: int, error: BaseException | None) -> None:
        """Called on the sync thread: hand over to the event loop (post_message is safe)."""
        self.post_message(SyncCycle(pulled, pushed, None if error is None else str(error)))

    def on_sync_cycle(self, message: SyncCycle) -> None:
        if message.pulled or message.pushed:
            # Re-read what is on screen only: the visible list page, counts, open ticket.
            from agentcli.tui.screens.ticket import TicketScreen

            for screen in self.screen_stack:
                if isinstance(screen, InboxScreen):
                    screen.after_sync()
                elif isinstance(screen, TicketScreen):
                    screen.after_change()
        warmer = self.metrics_warmer
        if warmer is not None and (message.pulled or not warmer.started):
            warmer.poke()  # throttled: at most one run a minute
        # The supervisor board also shows presence: it re-reads after every cycle and event.
        for screen in self.screen_stack:
            if screen.id == "supervisor":
                screen.after_sync()  # type: ignore[attr-defined]
        self.poll_status()

    def announce(self, ticket_id: int | None, activity: str = "viewing") -> None:
        """Tell other agents where this one is (no-op without a server)."""
        if self.live is not None:
            self.live.announce(ticket_id, activity)

    # ------------------------------------------------------------ navigation

    def open_ticket(self, ticket_id: int) -> None:
        from agentcli.tui.screens.ticket import TicketScreen

        self.push_screen(TicketScreen(ticket_id))

    def neighbour(self, ticket_id: int, step: int) -> int | None:
        for screen in self.screen_stack:
            if isinstance(screen, InboxScreen):
                return screen.tickets.neighbour(ticket_id, step)
        return None

    def action_help(self) -> None:
        from agentcli.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
            return
        self.push_screen(HelpScreen(self.tr, self.keymap))

    def action_outbox(self) -> None:
        from agentcli.tui.screens.outbox import OutboxScreen

        self.push_screen(OutboxScreen(self.tr, self.store))

    def action_conflicts(self) -> None:
        from agentcli.tui.screens.conflicts import ConflictsScreen

        if isinstance(self.screen, ConflictsScreen):
            self.pop_screen()
            return
        self.push_screen(ConflictsScreen(self.tr, self.store, self.me or ""))

    def conflicts_resolved(self, reapplied: bool) -> None:
        """A conflict was re-applied (a new mutation: push it) or discarded."""
        if reapplied and self.live is not None:
            self.live.nudge()
        self.poll_status()

    def action_command_line(self) -> None:
        if isinstance(self.screen, ConsoleScreen):
            self.screen.open_command_line()

    # ------------------------------------------------------------ changes

    def run_command_line(self, text: str, screen: ConsoleScreen) -> None:
        try:
            command = parse_command(text)
        except CommandError as error:
            screen.notice(self.tr(error.key, **error.values), error=True)
            return
        if command.name in ("q", "quit"):
            self.exit()
            return
        if command.name == "macro":
            from agentcli.tui.screens.ticket import TicketScreen

            if isinstance(screen, TicketScreen):
                screen.action_macro(command.rest)
            else:
                self._macro_on_targets(command.rest, screen)
            return
        targets = screen.targets()
        if not targets:
            screen.notice(self.tr("command.no_ticket"), error=True)
            return
        self.queue(mutations_for(command, targets, self.me or ""))

    def _macro_on_targets(self, macro_id: str, screen: ConsoleScreen) -> None:
        """`:macro ID` in the inbox: open the first target and its picker on that macro."""
        from agentcli.tui.screens.ticket import TicketScreen

        targets = screen.targets()
        if not targets:
            screen.notice(self.tr("command.no_ticket"), error=True)
            return
        ticket = TicketScreen(targets[0][0])
        self.push_screen(ticket)
        ticket.set_timer(0.3, lambda: ticket.action_macro(macro_id))

    def send(
        self, screen: TicketScreen, kind: str, body: str, macros: list[dict[str, Any]]
    ) -> None:
        """Reply or note, then each stacked macro's actions (its text is already in `body`)."""
        from agentcli.macros.model import MacroError
        from agentcli.macros.preview import preview, to_mutations
        from agentcli.macros.render import locale_for

        assert screen.detail is not None
        version = screen.detail.ticket.get("version")
        mutations: list[Mutation] = []
        if body.strip():
            kind_type = MutationType.NOTE if kind == "note" else MutationType.REPLY
            payload: dict[str, Any] = {"body": body}
            if macros:  # the macros it was written with, for the audit trail and suggestions
                payload["macros"] = applied_macros(str(chosen["id"]) for chosen in macros)
            mutations.append(Mutation(kind_type, screen.ticket_id, version, payload))
        if macros and self.library is not None and self.renderer is not None:
            context = screen.macro_context()
            for chosen in macros:
                macro = self.library.macros.get(chosen["id"])
                if macro is None:
                    continue
                result = preview(
                    macro, context, locale_for(context), chosen.get("vars"), renderer=self.renderer
                )
                try:
                    made = to_mutations(result, screen.ticket_id, version, self.me or "")
                except MacroError as error:
                    screen.notice(self.tr("command.error", error=str(error)), error=True)
                    return
                mutations += [m for m in made if m.type is not MutationType.REPLY]
        self.queue(mutations, clear_draft=(screen.ticket_id, kind))

    @work(thread=True, group="write")
    def queue(self, mutations: list[Mutation], clear_draft: tuple[int, str] | None = None) -> None:
        # The outbox stack (effects, overlay, search) loads on the first change, not at start.
        from agentcli.store.outbox import MutationError, enqueue

        db = self.store.db()
        done = 0
        error = None
        for mutation in mutations:
            try:
                enqueue(db, mutation, author=self.me or "")
                done += 1
            except MutationError as failure:
                error = str(failure)
                break
        if clear_draft is not None and error is None:
            delete_draft(db, *clear_draft)
        ids = sorted({m.ticket_id for m in mutations})
        self.post_message(Queued(ids, done, error, clear_draft))

    def on_queued(self, message: Queued) -> None:
        from agentcli.tui.screens.ticket import TicketScreen

        screen = self.screen
        if isinstance(screen, ConsoleScreen):
            if message.error:
                screen.notice(self.tr("command.error", error=message.error), error=True)
            else:
                screen.notice(self.tr("command.done", count=message.count))
        for each in self.screen_stack:
            if isinstance(each, InboxScreen | TicketScreen):
                each.after_change()
        if message.clear_draft and not message.error and isinstance(screen, TicketScreen):
            screen.sent()
        if self.live is not None and message.count:
            self.live.nudge()  # push now, not at the next poll
        self.poll_status()

    @work(thread=True, exclusive=True, group="draft")
    def save_draft(
        self, ticket_id: int, kind: str, body: str, macros: list[dict[str, Any]]
    ) -> None:
        save_draft(self.store.db(), ticket_id, kind, body, macros)


def run_console(
    db_path: Path,
    *,
    agent: str | None = None,
    lang: str = "en",
    sync_status: SyncStatusSource | None = None,
    live: bool = True,
    sla_policy: Callable[[], SlaConfig] | None = None,
    warm_metrics: bool = False,
) -> None:
    """Open the console on the store at `db_path` (blocks until the agent quits).

    With `live` and a login for this store's server, sync runs in the background. With
    `warm_metrics`, `agentcli report` keeps the metrics cache warm in the background (it
    uses the shipped SLA policy, so `sla_policy` should be that one too)."""
    if agent is None and live:
        agent = _logged_in_agent(db_path)
    ConsoleApp(
        db_path,
        agent=agent,
        lang=lang,
        sync_status=sync_status,
        auto_live=live,
        sla_policy=sla_policy,
        metrics_warmer=MetricsWarmer(db_path) if warm_metrics else None,
    ).run()


def _logged_in_agent(db_path: Path) -> str | None:
    """The agent `agentcli login` recorded in this store (no credentials file read here)."""
    db = StoreAccess(db_path)
    try:
        row = db.db().conn.execute("SELECT value FROM sync_state WHERE key = 'agent'").fetchone()
    finally:
        db.close_all()
    return row[0] if row else None
