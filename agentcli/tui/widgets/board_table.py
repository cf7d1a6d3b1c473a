"""A small table with a row cursor for the supervisor board (agents, queues).

Rows are rendered to strips once per refresh, aligned by cell width (a CJK character takes two
cells), and painted from that cache. A DataTable re-rendered every cell on each change (its
cache is keyed by an update counter): ~60 ms for the board on a shared 2-core machine, a third
of the 200 ms a live refresh may take; this paints the same rows in well under a millisecond.
"""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

GAP = 2  # cells between columns


class BoardTable(ScrollView, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "cursor(1)", "down", show=False),
        Binding("up", "cursor(-1)", "up", show=False),
    ]
    DEFAULT_CSS = """
    BoardTable { height: auto; max-height: 50%; padding: 0 1; }
    """

    def __init__(self, columns: list[tuple[str, bool]], *, id: str | None = None) -> None:
        """`columns`: (header label, right-aligned) in order."""
        super().__init__(id=id)
        self.columns = columns
        self.rows: list[tuple[Text, ...]] = []
        self.cursor_row = 0
        self._strips: list[Strip] = []  # header, then one per row

    @property
    def row_count(self) -> int:
        return len(self.rows)

    def row_text(self, index: int) -> list[str]:
        """A row's cells as plain text (what the supervisor reads)."""
        return [cell.plain for cell in self.rows[index]]

    def set_rows(self, rows: list[tuple[Text, ...]]) -> None:
        """Replace the rows; the cursor stays on the same row number (a live refresh must not
        move the supervisor's place)."""
        self.rows = rows
        self.cursor_row = max(0, min(self.cursor_row, len(rows) - 1))
        headers = [Text(label, style="bold") for label, _ in self.columns]
        widths = [
            max([header.cell_len, *(row[i].cell_len for row in rows)])
            for i, header in enumerate(headers)
        ]
        self._strips = [self._strip(headers, widths)] + [self._strip(row, widths) for row in rows]
        width = sum(widths) + GAP * (len(widths) - 1)
        self.virtual_size = Size(width, len(self._strips))
        self.refresh()

    def _strip(self, cells: tuple[Text, ...] | list[Text], widths: list[int]) -> Strip:
        line = Text()
        for index, (cell, width) in enumerate(zip(cells, widths, strict=True)):
            if index:
                line.append(" " * GAP)
            padded = cell.copy()
            padded.align("right" if self.columns[index][1] else "left", width)
            line.append_text(padded)
        segments = list(line.render(self.app.console, end=""))
        return Strip(segments, line.cell_len)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._strips)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = y + scroll_y
        width = self.scrollable_content_region.width
        if index >= len(self._strips):
            return Strip.blank(width)
        strip = self._strips[index]
        if index == self.cursor_row + 1 and self.rows:
            style = Style(reverse=True) if self.has_focus else Style(underline=True)
            strip = Strip(Segment.apply_style(strip, post_style=style), strip.cell_length)
        return strip.crop_extend(scroll_x, scroll_x + width, None)

    def action_cursor(self, step: int) -> None:
        self.move_cursor(self.cursor_row + step)

    def move_cursor(self, row: int) -> None:
        if not self.rows:
            return
        self.cursor_row = max(0, min(len(self.rows) - 1, row))
        self.scroll_to_region_if_needed()
        self.refresh()

    def scroll_to_region_if_needed(self) -> None:
        line = self.cursor_row + 1
        top, height = self.scroll_offset.y, self.scrollable_content_region.height
        if height and line < top + 1:
            self.scroll_to(y=max(0, line - 1), animate=False)
        elif height and line >= top + height:
            self.scroll_to(y=line - height + 1, animate=False)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
