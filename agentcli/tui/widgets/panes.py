"""Small inbox widgets: the column header, sidebar, filter bar, preview pane and status line."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from agentcli.domain.inert import inert
from agentcli.domain.query import InboxQuery, QuerySyntaxError, parse_query
from agentcli.tui.keyorder import OrderedInput
from agentcli.tui.widgets.columns import Translate, header_segments, widths


class ListHeader(Widget):
    """Column titles, laid out by the same cell widths as the rows below."""

    DEFAULT_CSS = "ListHeader { height: 1; }"

    def __init__(self, tr: Translate) -> None:
        super().__init__()
        self.tr = tr

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        return Strip(header_segments(widths(width), self.tr)).adjust_cell_length(width)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return 1


class Sidebar(OptionList):
    """Views with live counts. At most a few dozen entries, so a stock OptionList is fine."""

    DEFAULT_CSS = "Sidebar { width: 26; height: 1fr; border: none; }"

    @dataclass
    class ViewChosen(Message):
        index: int

    def __init__(self, tr: Translate) -> None:
        super().__init__(id="sidebar")
        self.tr = tr
        self.views: list[tuple[str, str]] = []  # (name, query)
        self.counts: dict[str, int] = {}

    def set_views(self, views: list[tuple[str, str]], counts: dict[str, int]) -> None:
        highlighted = self.highlighted
        self.views, self.counts = views, counts
        self.clear_options()
        for name, _query in views:
            self.add_option(Option(self._label(name)))
        if highlighted is not None and highlighted < len(views):
            self.highlighted = highlighted

    def _label(self, name: str) -> Text:
        count = self.counts.get(name)
        label = Text(inert(self.tr.view_name(name)))  # type: ignore[attr-defined]
        if count is not None:
            label.append(f" {count:,}", style="dim")
        return label

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.post_message(self.ViewChosen(event.option_index))


class _FilterPrompt(Widget):
    """`/` (the key that edits the filter) at rest, `›` while editing."""

    DEFAULT_CSS = "_FilterPrompt { width: 2; height: 1; color: $text-muted; }"
    editing = reactive(False)

    def render(self) -> str:
        return "›" if self.editing else "/"


class FilterBar(Vertical):
    """One line that always shows the list's query; `/` edits it in place. Errors show in a
    line below with a caret under the position.

    Always one line tall, so opening and closing it never re-lays out the screen (a layout
    pass before the new rows would delay them by a frame)."""

    DEFAULT_CSS = """
    FilterBar { height: auto; }
    FilterBar #filter-row { height: 1; }
    FilterBar #filter-input, FilterBar #filter-input:focus {
        border: none; height: 1; padding: 0 1 0 0; width: 1fr; background: $surface;
    }
    FilterBar.-open #filter-input { background: $boost; }
    FilterBar #filter-input > .input--placeholder { color: $foreground; }
    FilterBar.-hint #filter-input > .input--placeholder { color: $text-muted; }
    FilterBar.-open _FilterPrompt { color: $accent; text-style: bold; }
    FilterBar #filter-error { display: none; color: $error; height: auto; }
    FilterBar.-error #filter-error { display: block; }
    """

    @dataclass
    class Applied(Message):
        text: str
        query: InboxQuery

    @dataclass
    class Cancelled(Message):
        pass

    def __init__(self, tr: Translate) -> None:
        super().__init__(id="filter-bar")
        self.tr = tr
        self.shown = ""  # the list's query, as the line shows it

    def compose(self) -> ComposeResult:
        with Horizontal(id="filter-row"):
            yield _FilterPrompt()
            # Keys typed after enter wait: they belong to the list if the query applies, and
            # back here if it does not parse.
            yield OrderedInput(
                placeholder=self.tr("filter.placeholder"),
                id="filter-input",
                select_on_focus=False,
                hold_after_submit=True,
            )
        yield Static("", id="filter-error")

    @property
    def input(self) -> OrderedInput:
        return self.query_one("#filter-input", OrderedInput)

    def show(self, text: str) -> None:
        """The list's query, shown while nobody edits it. It is the input's placeholder then:
        a new value re-lays out the whole screen (Input sets its virtual size), a new
        placeholder only repaints the line, and a view switch must paint in one frame."""
        self.shown = text
        self.input.placeholder = text or self.tr("filter.placeholder")
        self.set_class(not text, "-hint")

    def open(self, text: str) -> None:
        self.add_class("-open")
        self.input.value = text
        self.input.cursor_position = len(text)
        self.screen.set_focus(self.input)  # at once: the next keys are the query
        self.query_one(_FilterPrompt).editing = True

    def on_descendant_focus(self) -> None:
        if not self.has_class("-open"):  # clicked into: editing, as with `/`
            self.open(self.shown)

    def close(self, text: str) -> None:
        """Stop editing; the line shows `text`, the list's query, again. Keys typed after
        enter go to whatever has focus now (call after moving focus)."""
        self.remove_class("-open")
        self.query_one(_FilterPrompt).editing = False
        self._show_error(None)
        self.show(text)
        self.input.release_keys(self.app.focused)
        # The typed text reads the same as the placeholder: clear it after this frame, where
        # the layout pass that costs no longer delays the new rows.
        self.call_after_refresh(self._clear_typed)

    def _clear_typed(self) -> None:
        if not self.has_class("-open"):
            self.input.value = ""

    def _show_error(self, error: Text | None) -> None:
        # Only on a change: the error line changes the layout, and an extra layout pass
        # between enter and the new rows delays them by a frame.
        if error is None and not self.has_class("-error"):
            return
        self.set_class(error is not None, "-error")
        self.query_one("#filter-error", Static).update(error or "")

    def check(self, text: str) -> InboxQuery | None:
        """Parse `text`; show the error (with a caret under its position) when it fails."""
        try:
            query = parse_query(text)
        except QuerySyntaxError as error:
            message = self.tr("filter.error", position=error.position, expected=error.expected)
            # Under the character: the prompt's two cells, then the text's cells before it.
            caret = Text(" " * (_cells_before(text, error.position) + 2) + "^", style="bold red")
            self._show_error(Text.assemble(caret, "\n", Text(inert(message))))
            return None
        self._show_error(None)
        return query

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.check(event.value)  # live: errors appear while typing

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        query = self.check(event.value)
        if query is not None:
            self.post_message(self.Applied(event.value, query))
        else:
            self.input.release_keys(self.input)  # still editing: they were meant for here

    def key_escape(self) -> None:
        self.post_message(self.Cancelled())


def _cells_before(text: str, position: int) -> int:
    from rich.cells import cell_len

    return cell_len(text[:position])


class PreviewPane(Static):
    """The latest message of the ticket under the cursor: plain text, inert, truncated."""

    DEFAULT_CSS = "PreviewPane { height: 9; border-top: solid $primary; padding: 0 1; }"

    def show(self, tr: Translate, body: str | None, author: str | None, length: int) -> None:
        if body is None:
            self.update(Text(tr("preview.none"), style="dim"))
            return
        text = Text(inert(author or ""), style="bold")
        text.append("\n")
        lines = inert(body).splitlines()[: max(self.size.height, 8)]
        text.append("\n".join(lines))
        if length > len(body):
            text.append("\n" + tr("preview.truncated", count=length - len(body)), style="dim")
        self.update(text)


class StatusLine(Static):
    """Agent, online state, last sync, outbox size and conflicts: always visible."""

    DEFAULT_CSS = "StatusLine { height: 1; background: $panel; padding: 0 1; }"
