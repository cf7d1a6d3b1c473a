"""The ticket's audit trail beside the thread: who changed what, when, from which client.

It shows pages the screen's worker read from the local store (newest first); older pages are
appended on request, so a ticket with a long trail never loads it whole. Every value comes
from agents, customers or clients: it reaches the screen only as inert `Text`, never markup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from agentcli.domain.inert import inert
from agentcli.store.history import Event
from agentcli.tui.render import local_time

Translate = Callable[..., str]
VALUE_CHARS = 120  # a subject or tag list is cut here: the pane is narrow


class HistoryPane(VerticalScroll):
    """Hidden until the ticket screen toggles it (`-open`)."""

    DEFAULT_CSS = """
    HistoryPane { display: none; width: 1fr; max-width: 64; border-left: solid $primary;
                  padding: 0 1; }
    HistoryPane.-open { display: block; }
    """

    def __init__(self, tr: Translate, more_key: str) -> None:
        super().__init__(id="history")
        self.tr = tr
        self.more_key = more_key
        self.ticket_id: int | None = None
        self.events: list[Event] = []
        self.next_before: int | None = None  # where the next (older) page starts
        self.loading = False

    def compose(self) -> ComposeResult:
        yield Static(Text(self.tr("history.title"), style="bold"), id="history-title")
        yield Static(Text(self.tr("list.loading"), style="dim"), id="history-body")

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    def show_page(
        self, ticket_id: int, events: Sequence[Event], next_before: int | None, *, older: bool
    ) -> None:
        """The first page of `ticket_id`'s trail, or (`older`) the page after those shown."""
        if older and ticket_id == self.ticket_id:
            self.events += events
        else:
            if ticket_id != self.ticket_id:
                self.scroll_home(animate=False)
            self.ticket_id, self.events = ticket_id, list(events)
        self.next_before, self.loading = next_before, False
        self.query_one("#history-body", Static).update(self.render_events())

    def render_events(self) -> Text:
        tr = self.tr
        if not self.events:
            return Text(tr("history.empty"), style="dim")
        out = Text()
        for event in self.events:
            out.append(local_time(event.at), style="dim")
            out.append("  ")
            out.append(inert(_actor(tr, event.actor)), style="bold")
            out.append("\n  ")
            out.append(_field(tr, event.field), style="cyan")
            out.append(": ")
            out.append(_value(event.old), style="red" if event.old is not None else "dim")
            out.append(" → ", style="dim")
            out.append(_value(event.new), style="green" if event.new is not None else "dim")
            if event.client:
                out.append("\n  ")
                out.append(inert(event.client), style="dim italic")
            out.append("\n")
        if self.next_before is not None:
            out.append(tr("history.more", keys=self.more_key), style="dim")
        return out


def _actor(tr: Translate, actor: str) -> str:
    label = tr(f"history.actor.{actor}")
    return actor if label == f"history.actor.{actor}" else label


def _field(tr: Translate, field: str) -> str:
    # A field a newer server tracks has no label yet: its own name is still meaningful.
    label = tr(f"history.field.{field}")
    return field if label == f"history.field.{field}" else label


def _value(value: str | None) -> str:
    if value is None:
        return "–"
    flat = inert(" ".join(value.split()))
    return flat if len(flat) <= VALUE_CHARS else flat[: VALUE_CHARS - 1] + "…"
