"""One ticket: header (customer, order, case, SLA clocks), the thread, the customer's other
tickets and glossary terms, and the composer."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Static

from agentcli.domain.inert import inert
from agentcli.macros.context import build_context
from agentcli.macros.render import locale_for
from agentcli.store.drafts import load_draft
from agentcli.store.history import PAGE as HISTORY_PAGE
from agentcli.store.history import ticket_history
from agentcli.store.macro_usage import similar_macro_usage
from agentcli.tui.data import TicketDetail, agent_row, load_ticket
from agentcli.tui.keymap import TICKET_BINDINGS
from agentcli.tui.keyorder import forward_keys
from agentcli.tui.messages import HistoryLoaded, TicketLoaded
from agentcli.tui.render import header_text, local_time, message_text
from agentcli.tui.screens.base import ConsoleScreen
from agentcli.tui.screens.help import key_label
from agentcli.tui.screens.macro_picker import MacroChoice, MacroPicker, PickerContext
from agentcli.tui.widgets.composer import Composer, ComposerArea
from agentcli.tui.widgets.history import HistoryPane


class TicketScreen(ConsoleScreen):
    BINDINGS: ClassVar[list[BindingType]] = [*ConsoleScreen.BINDINGS, *TICKET_BINDINGS]

    def __init__(self, ticket_id: int) -> None:
        super().__init__(id="ticket")
        self.ticket_id = ticket_id
        self.detail: TicketDetail | None = None

    def compose(self) -> ComposeResult:
        tr = self.console.tr
        yield Static(tr("list.loading"), id="ticket-header")
        with Horizontal(id="ticket-body"):
            yield VerticalScroll(id="thread")
            more_key = self.console.keymap.get("ticket.history_more", "M")
            yield HistoryPane(tr, key_label(more_key))
            with Vertical(id="ticket-side"):
                yield Static("", id="ticket-others")
                yield Static("", id="ticket-terms")
        yield Composer(tr)
        yield from self.compose_bottom()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#thread").focus()
        self.load()
        self.console.announce(self.ticket_id, "viewing")

    def on_screen_resume(self) -> None:
        self.console.announce(self.ticket_id, self._activity())

    def _activity(self) -> str:
        return "replying" if self.query_one(Composer).is_open else "viewing"

    def focus_default(self) -> None:
        composer = self.query_one(Composer)
        self.set_focus(composer.area if composer.is_open else self.query_one("#thread"))

    def targets(self) -> list[tuple[int, int | None]]:
        version = self.detail.ticket.get("version") if self.detail else None
        return [(self.ticket_id, version)]

    # ------------------------------------------------------------ loading

    def load(self, ticket_id: int | None = None) -> None:
        if ticket_id is not None and ticket_id != self.ticket_id:
            composer = self.query_one(Composer)
            if composer.is_open:
                composer.close()
            self.ticket_id = ticket_id
            self.console.announce(ticket_id, "viewing")
        self._read(self.ticket_id)
        pane = self.query_one(HistoryPane)
        if pane.is_open:
            # A refresh re-reads as many events as are shown, so older pages stay put.
            same = pane.ticket_id == self.ticket_id
            self._read_history(self.ticket_id, None, len(pane.events) if same else 0)

    @work(thread=True, exclusive=True, group="ticket")
    def _read(self, ticket_id: int) -> None:
        db = self.console.store.db()
        detail = load_ticket(db, ticket_id)
        if detail is not None:
            # Read here, off the UI thread, so the picker's suggestions cost no store read.
            detail.macro_usage = similar_macro_usage(db, ticket_id, now=self.console.clock())
        self.post_message(TicketLoaded(ticket_id, detail))

    def on_ticket_loaded(self, message: TicketLoaded) -> None:
        if message.ticket_id != self.ticket_id:
            return
        detail: TicketDetail | None = message.detail
        tr = self.console.tr
        if detail is None:
            self.query_one("#ticket-header", Static).update(
                Text(f"#{self.ticket_id}: ?", style="red")
            )
            return
        self.detail = detail
        now = self.console.clock()
        self.query_one("#ticket-header", Static).update(header_text(tr, detail, now))
        self._show_thread(detail)
        self._show_side(detail)

    def _show_thread(self, detail: TicketDetail) -> None:
        tr = self.console.tr
        thread = self.query_one("#thread", VerticalScroll)
        glossary = self.console.glossary
        widgets = []
        for message in detail.messages:
            spans: list[tuple[int, int]] = []
            if glossary is not None and message.author_kind == "customer":
                spans = [(hit.start, hit.end) for hit in glossary.detect(inert(message.body))]
            classes = f"message -{message.kind}" + (
                " -customer" if message.author_kind == "customer" else ""
            )
            widgets.append(Static(message_text(tr, message, spans), classes=classes))
        thread.remove_children()
        thread.mount_all(widgets)
        thread.scroll_end(animate=False)

    def _show_side(self, detail: TicketDetail) -> None:
        tr = self.console.tr
        others = Text(tr("ticket.other") + "\n", style="bold")
        if not detail.others:
            others.append(tr("ticket.other.none"), style="dim")
        for row in detail.others:
            others.append(f"#{row['id']} ", style="bold")
            others.append(f"{row['status']} ", style="dim")
            others.append(inert(" ".join(str(row["subject"]).split()))[:60] + "\n")
            others.append(f"   {local_time(row['updated_at'])}\n", style="dim")
        self.query_one("#ticket-others", Static).update(others)
        terms = Text()
        glossary = self.console.glossary
        if glossary is not None:
            seen: set[str] = set()
            for hit in glossary.detect(inert(detail.last_customer_message())):
                if hit.term_id in seen:
                    continue
                seen.add(hit.term_id)
                term = glossary.terms[hit.term_id]
                terms.append(inert(hit.text), style="bold underline cyan")
                terms.append(f"  {term.id}\n", style="dim")
                if term.definition:
                    terms.append(inert(term.definition)[:160] + "\n")
        if terms:
            self.query_one("#ticket-terms", Static).update(
                Text.assemble(Text(tr("ticket.terms") + "\n", style="bold"), terms)
            )
        else:
            self.query_one("#ticket-terms", Static).update("")

    def after_change(self) -> None:
        self.load()

    # ------------------------------------------------------------ history

    @work(thread=True, exclusive=True, group="history")
    def _read_history(self, ticket_id: int, before: int | None, shown: int = 0) -> None:
        limit = max(HISTORY_PAGE, shown)
        page = ticket_history(self.console.store.db(), ticket_id, limit=limit, before=before)
        self.post_message(
            HistoryLoaded(ticket_id, page.events, page.next_before, older=before is not None)
        )

    def on_history_loaded(self, message: HistoryLoaded) -> None:
        if message.ticket_id != self.ticket_id:
            return  # the user moved on to another ticket meanwhile
        self.query_one(HistoryPane).show_page(
            message.ticket_id, message.events, message.next_before, older=message.older
        )

    def action_history(self) -> None:
        pane = self.query_one(HistoryPane)
        opening = not pane.is_open
        pane.set_class(opening, "-open")
        # The trail takes the side column's place: the thread keeps its width.
        self.query_one("#ticket-side").display = not opening
        if opening:
            pane.loading = True
            self._read_history(self.ticket_id, None)
            pane.focus()  # arrow and page keys scroll the trail; j/k still scroll the thread
        else:
            self.query_one("#thread").focus()

    def action_history_more(self) -> None:
        pane = self.query_one(HistoryPane)
        if pane.is_open and pane.next_before is not None and not pane.loading:
            pane.loading = True
            self._read_history(self.ticket_id, pane.next_before)

    # ------------------------------------------------------------ keys

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_neighbour(self, step: int) -> None:
        target = self.console.neighbour(self.ticket_id, step)
        if target is not None:
            self.load(target)

    def action_scroll_thread(self, step: int) -> None:
        thread = self.query_one("#thread", VerticalScroll)
        thread.scroll_to(y=thread.scroll_y + 3 * step, animate=False)

    def action_compose(self, kind: str) -> None:
        composer = self.query_one(Composer)
        draft = load_draft(self.console.main_db(), self.ticket_id, kind)
        composer.open(kind, draft.body if draft else "", draft.macros if draft else [])
        self.console.announce(self.ticket_id, "replying")
        if draft:
            composer.note(self.console.tr("composer.draft"))

    def action_macro(self, query: str = "") -> None:
        composer = self.query_one(Composer)
        if not composer.is_open:
            self.action_compose("reply")
        self.open_picker(query)

    def on_composer_area_macro_requested(self, message: ComposerArea.MacroRequested) -> None:
        message.stop()
        self.open_picker()

    def open_picker(self, query: str = "") -> None:
        ctx = self.picker_context()
        if ctx is None:
            self.notice(self.console.tr("macro.loading"))
            return
        self.app.push_screen(MacroPicker(self.console.tr, ctx, query), self._picked)

    def _picked(self, choice: MacroChoice | None) -> None:
        composer = self.query_one(Composer)
        if choice is None:
            composer.area.focus()
            return
        composer.insert(choice.text, {"id": choice.macro_id, "vars": choice.vars})
        forward_keys(choice.typed_after, composer.area)  # the composer has focus now

    def picker_context(self) -> PickerContext | None:
        app = self.console
        if app.library is None or self.detail is None:
            return None
        return PickerContext(
            library=app.library,
            index=app.macro_index,
            renderer=app.renderer,
            glossary=app.glossary,
            context=self.macro_context(),
            locale=locale_for(self.macro_context()),
            last_message=self.detail.last_customer_message(),
            channel=self.detail.ticket.get("channel"),
            usage=self.detail.macro_usage,
        )

    def macro_context(self) -> dict[str, Any]:
        assert self.detail is not None
        agent = agent_row(self.console.main_db(), self.console.me or "")
        return build_context(self.detail.ticket, self.detail.customer, self.detail.order, agent)

    # ------------------------------------------------------------ composer events

    def on_composer_draft_changed(self, message: Composer.DraftChanged) -> None:
        message.stop()
        self.console.save_draft(self.ticket_id, message.kind, message.body, message.macros)

    def on_composer_send_requested(self, message: Composer.SendRequested) -> None:
        message.stop()
        composer = self.query_one(Composer)
        if not message.body.strip() and not message.macros:
            composer.note(self.console.tr("composer.empty"))
            return
        self.console.send(self, message.kind, message.body, message.macros)

    def on_composer_closed(self, message: Composer.Closed) -> None:
        message.stop()
        self.query_one("#thread").focus()
        self.console.announce(self.ticket_id, "viewing")

    def sent(self) -> None:
        composer = self.query_one(Composer)
        composer.clear()
        composer.remove_class("-open")
        self.query_one("#thread").focus()
        self.notice(self.console.tr("composer.sent"))
        self.console.announce(self.ticket_id, "viewing")
