"""The rich progress bar of a large pull (a first sync): tickets, messages, rate, ETA.

Kept out of agentcli.sync.engine and imported only when a bar is shown: rich.progress costs
~50 ms at start, which every `agentcli sync --once` would otherwise pay.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress

from agentcli.sync.engine import Progress


class PullBar:
    """Call with each page's Progress; `close()` when the pull is over (or failed)."""

    def __init__(self, total: int | None, console: Console | None = None) -> None:
        # stderr: the caller checked that stderr is a terminal, and stdout carries the
        # report (or --json) that scripts read; the bar's escapes must not end up there.
        self.bar = RichProgress(
            TextColumn("[bold]sync[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeRemainingColumn(),
            console=console or Console(stderr=True),
            transient=False,
        )
        # Shown at once: at 100k tickets the first page takes a moment, and a bar that
        # appears only after it (at "0/N" beside non-zero counts) looked stuck.
        self.task: Any = self.bar.add_task("pull", total=total, detail=self._detail(None))
        self.bar.start()

    @staticmethod
    def _detail(progress: Progress | None) -> str:
        if progress is None:
            return "tickets 0 · messages 0 · waiting for the first page"
        return (
            f"tickets {progress.tickets:,} · messages {progress.messages:,}"
            f" · {progress.rate:,.0f} changes/s"
        )

    def __call__(self, progress: Progress) -> None:
        self.bar.update(
            self.task,
            completed=progress.changes,
            total=progress.total,
            detail=self._detail(progress),
        )

    def close(self) -> None:
        self.bar.stop()
