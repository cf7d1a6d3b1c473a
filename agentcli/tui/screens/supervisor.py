"""The supervisor board: agents and queues at a glance, live; reassignment and rebalancing.

The board is read in a thread worker (agentcli.store.workload: counters and index ranges,
~0.1 s at 1M tickets) whenever the live sync brings changes or presence, so it stays current
without a refresh key. Moves are queued in one transaction (agentcli.store.reassign) after a
confirm step showing how many tickets and whose; the sync pushes them at once, and the board
then lists what was applied and what the server skipped because an agent took or answered
the ticket meanwhile (those stay in the conflicts screen, `c`).

The tables are bounded by the number of agents and queues, never by tickets; they are
`BoardTable`s (rows painted from strips rendered once per refresh), not DataTables, whose
re-render of every cell on each change cost a third of the refresh budget.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, ClassVar

import sqlite_utils
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Static

from agentcli.domain.clock import SLA_NEVER
from agentcli.domain.durations import elapsed
from agentcli.domain.inert import inert
from agentcli.domain.mutations import Mutation
from agentcli.domain.query import QuerySyntaxError
from agentcli.domain.rebalance import Move, Proposal
from agentcli.domain.vocabulary import Priority
from agentcli.store.db import open_store
from agentcli.store.outbox import MutationError
from agentcli.store.reassign import (
    Outcomes,
    ReassignError,
    Selection,
    describe,
    enqueue_moves,
    enqueue_rebalance,
    outcomes,
    rebalance_proposal,
    select_agent_queue,
    select_query,
)
from agentcli.store.workload import Board, board
from agentcli.tui.i18n import Translator
from agentcli.tui.keymap import SUPERVISOR_BINDINGS
from agentcli.tui.keyorder import OrderedInput
from agentcli.tui.screens.base import ConsoleScreen
from agentcli.tui.widgets.board_table import BoardTable

if TYPE_CHECKING:
    from agentcli.tui.app import ConsoleApp
    from agentcli.tui.live import Presence

# (column key, right-aligned): headers are i18n "sup.col.<key>".
AGENT_COLUMNS = (("agent", False), ("presence", False), ("open", True), ("pending", True),
                 ("at_risk", True), ("breached", True), ("capacity", True),
                 ("languages", False), ("last", True))  # fmt: skip
QUEUE_COLUMNS = (("queue", False), ("volume", True), ("unassigned", True), ("oldest", True),
                 ("at_risk", True), ("breached", True), ("channels", False))  # fmt: skip
BOARD_SCREEN = "supervisor"
SHOWN_PROBLEMS = 8
# A board read is reused while no other connection committed (PRAGMA data_version), e.g. for
# a presence event; at-risk counts move with the clock, so never for longer than this.
STALE_AFTER = 30  # skipped/rejected tickets listed under the board; the rest in `c`


def owners_text(tr: Translator, selection: Selection) -> str:
    return ", ".join(
        tr("sup.from", count=n, who=who or tr("sup.unassigned"))
        for who, n in selection.owners.items()
    )


def _number(value: int, style: str = "") -> Text:
    return Text(str(value), style=style if value else "dim", justify="right")


def _board_screen(app: ConsoleApp) -> SupervisorScreen:
    """One board per console, installed on first use and kept when closed: its connection
    stays warm and its last read shows at once on reopening (then refreshes)."""
    if not app.is_screen_installed(BOARD_SCREEN):
        app.install_screen(SupervisorScreen(), name=BOARD_SCREEN)
    screen = app.get_screen(BOARD_SCREEN)
    assert isinstance(screen, SupervisorScreen)
    return screen


def open_board(app: ConsoleApp, marked: list[int]) -> None:
    """Show the board with the inbox's marked tickets."""
    screen = _board_screen(app)
    screen.marked = marked
    app.push_screen(screen)


def prepare_board(app: ConsoleApp) -> None:
    """Read the board once in the background before it is first opened: a cold connection's
    first read made the first `S` ~250 ms at 1M tickets, a warm one shows it at once."""
    screen = _board_screen(app)
    threading.Thread(
        target=screen.read_board, args=(app,), name="agentcli-board", daemon=True
    ).start()


class SupervisorScreen(ConsoleScreen):
    BINDINGS: ClassVar[list[BindingType]] = [*ConsoleScreen.BINDINGS, *SUPERVISOR_BINDINGS]
    DEFAULT_CSS = """
    SupervisorScreen .sup-heading { margin-top: 1; text-style: bold; }
    #sup-notice, #sup-moves { height: auto; padding: 0 1; }
    """

    def __init__(self, marked: list[int] | None = None) -> None:
        super().__init__(id=BOARD_SCREEN)
        self.marked = list(marked or [])
        self.agent_logins: list[str] = []
        self.active_agents: set[str] = set()
        self.queue_names: list[str] = []
        self.moves: list[Mutation] = []  # the last queued move, followed until it settles
        self.last_refresh: float | None = None  # seconds the last board read took
        self._board_lock = threading.Lock()
        self._board_db: sqlite_utils.Database | None = None
        self._last_board: tuple[int, Board] | None = None  # (data_version, board read then)

    def compose(self) -> ComposeResult:
        tr = self.console.tr
        yield Static(Text(tr("sup.title"), style="bold"), id="sup-summary")
        yield Static(Text(tr("sup.help"), style="dim"))
        yield Static(Text(tr("sup.agents")), classes="sup-heading")
        yield BoardTable(
            [(tr(f"sup.col.{k}"), right) for k, right in AGENT_COLUMNS], id="sup-agents"
        )
        yield Static(Text(tr("sup.queues")), classes="sup-heading")
        yield BoardTable(
            [(tr(f"sup.col.{k}"), right) for k, right in QUEUE_COLUMNS], id="sup-queues"
        )
        yield Static("", id="sup-notice")
        yield Static("", id="sup-moves")
        yield from self.compose_bottom()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#sup-agents", BoardTable).focus()

    def on_screen_resume(self) -> None:
        """Shown (first time or again): read the board now; live refreshes follow."""
        self.refresh_board()

    def focus_default(self) -> None:
        self.set_focus(self.query_one("#sup-agents", BoardTable))

    def notice(self, text: str, error: bool = False) -> None:
        # The shared `#notice` line docks at the bottom under the status line, which covers
        # it; the board's answers (queued, skipped, refused) must be seen, so they go here.
        style = "bold red" if error else "green"
        self.query_one("#sup-notice", Static).update(Text(text, style=style))

    # ------------------------------------------------------------ reading the board

    def read_board(self, app: ConsoleApp) -> tuple[Board, Outcomes | None]:
        """The board and the last move's outcome, on the board's own connection; the board is
        read again only when another connection committed or it is STALE_AFTER old. Any
        thread (no Textual call here: `prepare_board` runs it before the screen exists)."""
        with self._board_lock:  # a cancelled refresh may still be reading: one at a time
            if self._board_db is None:
                # The board's own connection, kept warm: a worker runs on a new thread each
                # time, and StoreAccess would give each a cold one (twice the time at 1M).
                self._board_db = open_store(app.store.path, check_same_thread=False)
            db = self._board_db
            version = db.conn.execute("PRAGMA data_version").fetchone()[0]
            now = app.clock()
            last = self._last_board
            if last is None or version != last[0] or now - last[1].now >= STALE_AFTER:
                last = self._last_board = (version, board(db, now=now))
            return last[1], outcomes(db, self.moves) if self.moves else None

    @work(thread=True, exclusive=True, group="board")
    def refresh_board(self) -> None:
        app = self.console
        started = time.perf_counter()
        found, result = self.read_board(app)
        presence = app.live.present() if app.live is not None else {}
        seconds = time.perf_counter() - started
        self.app.call_from_thread(self._show, found, presence, result, seconds)

    def on_unmount(self) -> None:
        with self._board_lock:
            if self._board_db is not None:
                self._board_db.conn.close()
                self._board_db = None

    def after_sync(self) -> None:
        """The live sync brought changes or presence: read the board again (a worker)."""
        self.refresh_board()

    def _show(
        self,
        found: Board,
        presence: dict[str, Presence],
        result: Outcomes | None,
        seconds: float,
    ) -> None:
        tr, me = self.console.tr, self.console.me
        self.last_refresh = seconds
        self.agent_logins = [a.login for a in found.agents]
        self.active_agents = {a.login for a in found.agents if a.active}
        self.queue_names = [q.queue for q in found.queues]
        rows = []
        for a in found.agents:
            seen = presence.get(a.login)
            if seen is not None:
                key = "sup.replying" if seen.activity == "replying" else "sup.viewing"
                here = Text(tr(key, ticket=seen.ticket_id), style="green")
            else:
                here = Text(tr("sup.online"), style="green") if a.login == me else Text("")
            over = a.load > a.capacity
            rows.append(
                (
                    Text(inert(a.login), style="" if a.active else "dim strike"),
                    here,
                    _number(a.open),
                    _number(a.pending),
                    _number(a.at_risk, "yellow"),
                    _number(a.breached, "bold red"),
                    Text(
                        f"{a.load}/{a.capacity}", style="bold red" if over else "", justify="right"
                    ),
                    Text(inert(",".join(a.languages))),
                    Text(elapsed(a.last_activity, found.now), justify="right"),
                )
            )
        self.query_one("#sup-agents", BoardTable).set_rows(rows)
        queue_rows = [
            (
                Text(inert(q.queue)),
                _number(q.volume),
                _number(q.unassigned, "yellow"),
                Text(elapsed(q.oldest_waiting, found.now), justify="right"),
                _number(q.at_risk, "yellow"),
                _number(q.breached, "bold red"),
                Text(" ".join(f"{inert(k)}:{n}" for k, n in sorted(q.by_channel.items()))),
            )
            for q in found.queues
        ]
        self.query_one("#sup-queues", BoardTable).set_rows(queue_rows)
        total_open = sum(a.open for a in found.agents)
        summary = tr(
            "sup.summary",
            agents=len(found.agents),
            open=total_open,
            unassigned=sum(q.unassigned for q in found.queues),
            breached=sum(q.breached for q in found.queues),
            time=time.strftime("%H:%M:%S", time.localtime(found.now)),
        )
        title = Text(tr("sup.title"), style="bold")
        title.append("  " + summary, style="")
        self.query_one("#sup-summary", Static).update(title)
        self._show_result(result)

    def _show_result(self, result: Outcomes | None) -> None:
        view = self.query_one("#sup-moves", Static)
        if result is None:
            view.update("")
            return
        tr = self.console.tr
        text = Text(
            tr(
                "sup.move.result",
                applied=len(result.applied),
                skipped=len(result.skipped),
                rejected=len(result.rejected),
                waiting=len(result.queued),
            ),
            style="bold",
        )
        problems = [("sup.move.skipped", t, why) for t, why in result.skipped]
        problems += [("sup.move.rejected", t, why) for t, why in result.rejected]
        for key, ticket, why in problems[:SHOWN_PROBLEMS]:
            text.append("\n" + tr(key, ticket=ticket, reason=inert(why)), style="yellow")
        if len(problems) > SHOWN_PROBLEMS:
            text.append(f"\n… +{len(problems) - SHOWN_PROBLEMS}", style="dim")
        view.update(text)

    # ------------------------------------------------------------ keys

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_cursor(self, step: int) -> None:
        focused = self.focused
        if isinstance(focused, BoardTable):
            focused.move_cursor(focused.cursor_row + step)

    def action_reassign_agent(self) -> None:
        table = self.query_one("#sup-agents", BoardTable)
        if not self.agent_logins:
            return
        login = self.agent_logins[min(table.cursor_row, len(self.agent_logins) - 1)]
        self._select(lambda db: select_agent_queue(db, login))

    def action_reassign_marked(self) -> None:
        if not self.marked:
            self.notice(self.console.tr("sup.move.no_marks"), error=True)
            return
        marked = list(self.marked)
        self._select(lambda db: marked)

    def action_reassign_query(self) -> None:
        tr = self.console.tr

        def chosen(text: str | None) -> None:
            if text:
                me = self.console.me
                self._select(lambda db: select_query(db, text, me=me))

        self.app.push_screen(PromptModal(tr("sup.move.query")), chosen)

    @work(thread=True, exclusive=True, group="select")
    def _select(self, pick) -> None:  # type: ignore[no-untyped-def]
        db = self.console.store.db()
        try:
            selection = describe(db, pick(db))
        except QuerySyntaxError as error:
            self.app.call_from_thread(self.notice, str(error), True)
            return
        self.app.call_from_thread(self._ask_target, selection)

    def _ask_target(self, selection: Selection) -> None:
        tr = self.console.tr
        if not selection.ticket_ids:
            self.notice(tr("sup.move.none"), error=True)
            return
        count, owners = len(selection.ticket_ids), owners_text(tr, selection)

        def chosen(text: str | None) -> None:
            if not text:
                return
            target = self._parse_target(text)
            if target is None:
                self.notice(tr("sup.move.bad_target", target=inert(text)), error=True)
                return
            to_agent, to_queue = target
            named = " + ".join(
                part
                for part in (
                    inert(to_agent or ""),
                    tr("sup.queue", queue=to_queue) if to_queue else "",
                )
                if part
            )
            question = tr("sup.move.confirm", count=count, target=named, owners=owners)

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self._enqueue(selection.ticket_ids, to_agent, to_queue)

            self.app.push_screen(ConfirmModal(question), confirmed)

        prompt = tr("sup.move.target", count=count, owners=owners)
        self.app.push_screen(PromptModal(prompt), chosen)

    def _parse_target(self, text: str) -> tuple[str | None, str | None] | None:
        """`li.na`, `queue:vip` or both; None when an agent or queue is unknown."""
        to_agent = to_queue = None
        for word in text.split():
            if word.startswith("queue:"):
                to_queue = word.removeprefix("queue:")
                if to_queue not in self.queue_names:
                    return None
            elif word in self.active_agents:
                to_agent = word
            else:
                return None
        if to_agent is None and to_queue is None:
            return None
        return to_agent, to_queue

    @work(thread=True, group="write")
    def _enqueue(self, ticket_ids: list[int], to_agent: str | None, to_queue: str | None) -> None:
        db = self.console.store.db()
        try:
            made = enqueue_moves(
                db, ticket_ids, to_agent=to_agent, to_queue=to_queue, author=self.console.me or ""
            )
        except (ReassignError, MutationError) as error:
            message = self.console.tr("sup.move.error", error=str(error))
            self.app.call_from_thread(self.notice, message, True)
            return
        self.app.call_from_thread(self._queued, made)

    def _queued(self, made: list[Mutation]) -> None:
        self.moves = made
        self.marked = []
        tickets = len({m.ticket_id for m in made})
        self.notice(self.console.tr("sup.move.queued", moves=len(made), count=tickets))
        app = self.console
        if app.live is not None and made:
            app.live.nudge()  # push now, not at the next poll
        from agentcli.tui.screens.inbox import InboxScreen

        for screen in app.screen_stack:
            if isinstance(screen, InboxScreen):
                screen.after_change()  # its marks were moved: clear them, re-read the list
        app.poll_status()
        self.refresh_board()

    def action_rebalance(self) -> None:
        self._propose()

    @work(thread=True, exclusive=True, group="select")
    def _propose(self) -> None:
        db = self.console.store.db()
        proposal = rebalance_proposal(db, board(db, now=self.console.clock()))
        self.app.call_from_thread(self._preview, proposal)

    def _preview(self, proposal: Proposal) -> None:
        tr = self.console.tr
        if not proposal.moves:
            self.notice(tr("sup.rebalance.none"), error=True)
            return

        def accepted(moves: list[Move] | None) -> None:
            if moves:
                self._enqueue_rebalance(moves)

        self.app.push_screen(RebalanceModal(tr, proposal), accepted)

    @work(thread=True, group="write")
    def _enqueue_rebalance(self, moves: list[Move]) -> None:
        db = self.console.store.db()
        try:
            made = enqueue_rebalance(db, moves, author=self.console.me or "")
        except MutationError as error:
            message = self.console.tr("sup.move.error", error=str(error))
            self.app.call_from_thread(self.notice, message, True)
            return
        self.app.call_from_thread(self._queued, made)


class PromptModal(ModalScreen[str | None]):
    """One line of input under a question; enter answers, esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "cancel", id="supervisor.prompt.cancel")
    ]
    DEFAULT_CSS = """
    PromptModal { align: center middle; }
    PromptModal > Vertical {
        width: 90%; height: auto; border: thick $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.question))
            yield OrderedInput(id="prompt-input")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmModal(ModalScreen[bool]):
    """The confirm step: what will happen (how many, to whom, whose), then y or n."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "yes", id="supervisor.confirm.yes"),
        Binding("n,escape", "answer(False)", "no", id="supervisor.confirm.no"),
    ]
    DEFAULT_CSS = """
    ConfirmModal { align: center middle; }
    ConfirmModal > Static {
        width: 90%; height: auto; border: thick $warning; background: $surface; padding: 1 2;
    }
    """

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        yield Static(Text(self.question, style="bold"), id="confirm-question")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class RebalanceModal(ModalScreen[list[Move] | None]):
    """The proposal as a preview: every move ticked; space unticks, enter queues the ticked."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle", "toggle", id="supervisor.rebalance.toggle"),
        Binding("enter", "accept", "accept", id="supervisor.rebalance.accept", priority=True),
        Binding("escape", "cancel", "cancel", id="supervisor.rebalance.cancel"),
        Binding("j", "cursor(1)", "down", id="supervisor.rebalance.down"),
        Binding("k", "cursor(-1)", "up", id="supervisor.rebalance.up"),
    ]
    DEFAULT_CSS = """
    RebalanceModal { align: center middle; }
    RebalanceModal > Vertical {
        width: 90%; height: 80%; border: thick $accent; background: $surface; padding: 0 1;
    }
    RebalanceModal DataTable { height: 1fr; }
    """

    def __init__(self, tr: Translator, proposal: Proposal) -> None:
        super().__init__(id="rebalance")
        self.tr = tr
        self.proposal = proposal
        self.ticked = [True] * len(proposal.moves)

    def compose(self) -> ComposeResult:
        with Vertical():
            title = self.tr("sup.rebalance.title", count=len(self.proposal.moves))
            yield Static(Text(title, style="bold"))
            if self.proposal.unmoved:
                line = self.tr("sup.rebalance.unmoved", count=len(self.proposal.unmoved))
                yield Static(Text(line, style="dim"))
            yield DataTable(id="rebalance-moves", cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key in ("move", "ticket", "from", "to", "language", "priority", "due"):
            table.add_column(self.tr(f"sup.col.{key}"), key=key)
        for index, move in enumerate(self.proposal.moves):
            table.add_row(*self._cells(move, self.ticked[index]), key=str(index))
        table.focus()

    @staticmethod
    def _cells(move: Move, ticked: bool) -> tuple[Text, ...]:
        due = (
            ""
            if move.sla_due >= SLA_NEVER
            else time.strftime("%m-%d %H:%M", time.localtime(move.sla_due))
        )
        return (
            Text("[x]" if ticked else "[ ]", style="bold green" if ticked else "dim"),
            Text(f"#{move.ticket_id}", justify="right"),
            Text(inert(move.source)),
            Text(inert(move.target)),
            Text(inert(move.language)),
            Text(str(Priority.from_rank(move.priority))),
            Text(due),
        )

    def action_toggle(self) -> None:
        table = self.query_one(DataTable)
        index = table.cursor_row
        if not 0 <= index < len(self.ticked):
            return
        self.ticked[index] = not self.ticked[index]
        mark = self._cells(self.proposal.moves[index], self.ticked[index])[0]
        table.update_cell(str(index), "move", mark)

    def action_cursor(self, step: int) -> None:
        table = self.query_one(DataTable)
        table.move_cursor(row=max(0, table.cursor_row + step))

    def action_accept(self) -> None:
        chosen = [m for m, ticked in zip(self.proposal.moves, self.ticked, strict=True) if ticked]
        self.dismiss(chosen)

    def action_cancel(self) -> None:
        self.dismiss(None)
