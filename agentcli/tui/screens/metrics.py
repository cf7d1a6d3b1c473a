"""Metrics charts: backlog and first reply time by day, SLA attainment by queue.

Figures come from agentcli.store.metrics (the same as `agentcli report`), read in a thread
worker from the local store, so the screen opens at once and fills in when they are ready.
Times are business hours of the SLA policy's calendar; days are its local days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Static
from textual_plotext import PlotextPlot

from agentcli.domain.business_hours import ALWAYS_OPEN
from agentcli.domain.inert import inert
from agentcli.domain.sla_policy import TARGETS, SlaConfig
from agentcli.store.metrics import GroupRow, backlog_by_day, first_reply_by_day, report
from agentcli.tui.keymap import METRICS_BINDINGS
from agentcli.tui.screens.base import ConsoleScreen

PERIOD_DAYS = 7
QUEUES_SHOWN = 8  # the busiest queues; the rest would not fit as bars
# Plotext measures text in characters, not terminal cells, so every label drawn inside a chart
# stays ASCII; translated titles, units and the legend are Textual widgets around it.
TARGET_COLORS = ("blue", "green", "red")  # the same names in Plotext and Rich
# Without a policy (a console started outside `agentcli console`): wall-clock time, no targets.
NO_POLICY = SlaConfig(ALWAYS_OPEN, ())


@dataclass(frozen=True, slots=True)
class MetricsData:
    zone: str  # the policy calendar's: days are its local days
    days: list[str]  # MM-DD of each day of the period
    backlog: list[int]  # unresolved tickets at each day's start
    first_reply: list[float]  # median first reply time (business hours) of each day's tickets
    queues: list[GroupRow]
    tickets: int


class MetricsLoaded(Message):
    def __init__(self, data: MetricsData) -> None:
        super().__init__()
        self.data = data


class MetricsScreen(ConsoleScreen):
    BINDINGS: ClassVar[list[BindingType]] = [*ConsoleScreen.BINDINGS, *METRICS_BINDINGS]
    DEFAULT_CSS = """
    MetricsScreen #metrics-status { padding: 0 1; height: auto; }
    MetricsScreen .metrics-row { height: 1fr; }
    MetricsScreen .metrics-chart { border: round $primary-darken-2; height: 1fr; }
    MetricsScreen #sla-legend { height: auto; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__(id="metrics")

    def compose(self) -> ComposeResult:
        tr = self.console.tr
        yield Static(Text(tr("metrics.title", days=PERIOD_DAYS), style="bold"), id="metrics-title")
        yield Static(Text(tr("metrics.loading"), style="dim"), id="metrics-status")
        with Horizontal(classes="metrics-row"):
            yield self._chart("backlog", tr("metrics.backlog"))
            yield self._chart("first-reply", tr("metrics.first_reply"))
        with Horizontal(classes="metrics-row"):
            yield self._chart("sla", tr("metrics.sla_by_queue"), Static("", id="sla-legend"))
        yield from self.compose_bottom()

    @staticmethod
    def _chart(name: str, title: str, *below: Static) -> Vertical:
        box = Vertical(PlotextPlot(id=f"chart-{name}"), *below, classes="metrics-chart")
        box.border_title = title  # Textual draws it, so CJK titles keep their width
        return box

    def on_mount(self) -> None:
        super().on_mount()
        self.load()

    def action_back(self) -> None:
        self.console.pop_screen()

    def action_reload(self) -> None:
        self.query_one("#metrics-status", Static).update(
            Text(self.console.tr("metrics.loading"), style="dim")
        )
        self.load()

    @work(thread=True, exclusive=True, group="metrics")
    def load(self) -> None:
        app = self.console
        policy = app.sla_policy() if app.sla_policy is not None else NO_POLICY
        db = app.store.db()
        now = app.clock()
        start = now - PERIOD_DAYS * 86_400
        by_queue = report(db, policy, by="queue", start=start, end=now + 1, now=now)
        backlog = backlog_by_day(db, policy, start, now)
        zone = policy.calendar.zone
        data = MetricsData(
            zone=str(zone),
            days=[datetime.fromtimestamp(day, zone).strftime("%m-%d") for day, _ in backlog],
            backlog=[count for _, count in backlog],
            first_reply=[
                round((seconds or 0) / 3600, 1)
                for _, seconds in first_reply_by_day(db, policy, start, now)
            ],
            queues=by_queue.rows[:QUEUES_SHOWN],
            tickets=by_queue.total.tickets,
        )
        self.post_message(MetricsLoaded(data))

    def on_metrics_loaded(self, message: MetricsLoaded) -> None:
        data, tr = message.data, self.console.tr
        self.query_one("#metrics-status", Static).update(
            Text(tr("metrics.status", count=f"{data.tickets:,}", zone=data.zone), style="dim")
        )
        xs = list(range(len(data.days)))
        backlog = self.query_one("#chart-backlog", PlotextPlot)
        plt = backlog.plt
        plt.clear_data()
        plt.plot(xs, data.backlog, marker="braille")
        plt.xticks(xs, data.days)
        backlog.refresh()

        first = self.query_one("#chart-first-reply", PlotextPlot)
        plt = first.plt
        plt.clear_data()
        plt.bar(data.days, data.first_reply)
        first.refresh()
        self._draw_sla(data.queues)

    def _draw_sla(self, queues: list[GroupRow]) -> None:
        tr = self.console.tr
        sla = self.query_one("#chart-sla", PlotextPlot)
        plt = sla.plt
        plt.clear_data()
        legend = Text()
        for target, color in zip(TARGETS, TARGET_COLORS, strict=True):
            legend.append("■ ", style=color).append(tr(f"metrics.target.{target}") + "   ")
        if queues:
            names = [row.key for row in queues]
            if any(cell_len(name) != len(name) for name in names):
                # Wide (CJK) queue names would shift the axis: number the bars, name them below.
                legend.append(
                    "\n" + "  ".join(f"{i}={inert(name)}" for i, name in enumerate(names, 1))
                )
                names = [str(i) for i in range(1, len(names) + 1)]
            series = [
                [round(100 * (row.summary.attainment[target] or 0), 1) for row in queues]
                for target in TARGETS
            ]
            plt.multiple_bar(names, series, color=list(TARGET_COLORS))
            plt.ylim(0, 100)
        self.query_one("#sla-legend", Static).update(legend)
        sla.refresh()
