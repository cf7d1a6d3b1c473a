"""Console benchmark: start-up to first inbox paint, key to repaint, memory; DataTable baseline.

    python tests/benchmarks/bench_tui.py --db /path/to/1m.db [--small-db 10k.db] [--runs 30]

Each measurement runs the real app in a fresh process (headless: the compositor renders every
frame, only the terminal write is skipped). Times are taken inside the app: the ticket list's
paint probe runs from the key event's arrival (`App.on_event`) to the first `render_lines`
pass in which every visible row is real data, not a placeholder. Start-up is from just
before the parent spawns the process to that same paint of the first view. The baseline is a
stock DataTable loading `--baseline-rows` rows of the same store in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SIZE = (160, 45)
FILTERS = (
    "status:open sort:sla",
    "lang:uk",
    "priority:>=high sort:updated",
    "tag:破损",
    "channel:chat status:pending",
)


def _rss_kib() -> dict[str, int]:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            out[line.split(":")[0]] = int(line.split()[1])
    return out


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


# ---------------------------------------------------------------- child: the console


def child_console(db: Path, runs: int, agent: str | None) -> dict[str, object]:
    from agentcli.tui import block_numpy

    block_numpy()  # as run_console does
    from agentcli.tui.app import ConsoleApp

    paints: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    first_paint: list[float] = []
    first_paint_cpu: list[float] = []
    painted = asyncio.Event()

    def log(label: str, seconds: float) -> None:
        if label == "start" and not first_paint:
            first_paint.append(time.time())
            # CPU of this process (all threads) from exec to the first paint: on a shared,
            # loaded machine wall time alone says little.
            usage = resource.getrusage(resource.RUSAGE_SELF)
            first_paint_cpu.append(usage.ru_utime + usage.ru_stime)
        paints.setdefault(label, []).append(seconds * 1000)
        painted.set()

    app = ConsoleApp(db, agent=agent, lang="zh-CN", paint_log=log)

    async def press(pilot, key: str) -> None:  # type: ignore[no-untyped-def]
        painted.clear()
        started = time.process_time()
        await pilot.press(key)
        await asyncio.wait_for(painted.wait(), 30)
        cpu.setdefault(key, []).append((time.process_time() - started) * 1000)

    async def drive(pilot) -> None:  # type: ignore[no-untyped-def]
        await asyncio.wait_for(painted.wait(), 60)
        await pilot.pause(0.5)
        # Measure on "All" (the largest view): every key below meets the full 1M rows.
        for _ in range(len(app.screen.views) - 1):
            await press(pilot, "left_square_bracket")
            break
        for _ in range(runs):
            await press(pilot, "j")
        for _ in range(runs):
            await press(pilot, "pagedown")
        for i in range(max(runs // 3, 3)):
            await press(pilot, "G")
            await press(pilot, "g")
            del i
        for _ in range(runs):
            await press(pilot, "right_square_bracket")
        for i in range(runs):
            # As a user does it: open the bar, replace its text, and time the enter key.
            await pilot.press("slash", "ctrl+u", *FILTERS[i % len(FILTERS)])
            painted.clear()
            started = time.process_time()
            await pilot.press("enter")
            await asyncio.wait_for(painted.wait(), 30)
            cpu.setdefault("filter", []).append((time.process_time() - started) * 1000)
        app.exit()

    app.run(headless=True, size=SIZE, auto_pilot=drive)
    return {
        "first_paint_wall": first_paint[0],
        "first_paint_cpu_s": first_paint_cpu[0],
        "paints_ms": paints,
        "cpu_ms": cpu,
        "rss_kib": _rss_kib(),
    }


# ---------------------------------------------------------------- child: DataTable baseline


def child_datatable(db: Path, rows: int) -> dict[str, object]:
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    from agentcli.domain.query import parse_query
    from agentcli.store.db import open_store
    from agentcli.store.inbox import inbox_page

    result: dict[str, object] = {}
    keys: dict[str, list[float]] = {}

    class Baseline(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable(id="table")

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            for name in ("pri", "chan", "sla", "customer", "subject", "case", "assignee", "upd"):
                table.add_column(name)
            store = open_store(db)
            page = inbox_page(store, parse_query(""), me=None, limit=rows)
            table.add_rows(
                (r.priority, r.channel, str(r.sla_due), r.customer or "", r.subject,
                 r.case_type or "", r.assignee or "", str(r.updated_at))
                for r in page.rows
            )  # fmt: skip
            self.call_after_refresh(lambda: result.setdefault("first_paint_wall", time.time()))
            table.focus()

    app = Baseline()

    async def drive(pilot) -> None:  # type: ignore[no-untyped-def]
        while "first_paint_wall" not in result:
            await asyncio.sleep(0.05)
        await pilot.pause(0.5)
        for key, label in (("down", "j"), ("pagedown", "pagedown"), ("end", "G"), ("home", "g")):
            for _ in range(5):
                done = asyncio.Event()
                started = time.perf_counter()
                await pilot.press(key)
                app.call_after_refresh(done.set)
                await done.wait()
                keys.setdefault(label, []).append((time.perf_counter() - started) * 1000)
        app.exit()

    app.animation_level = "none"
    app.run(headless=True, size=SIZE, auto_pilot=drive)
    return {**result, "paints_ms": keys, "rss_kib": _rss_kib()}


# ---------------------------------------------------------------- parent


def _spawn(args: list[str]) -> tuple[float, dict[str, object]]:
    env = {**os.environ, "TEXTUAL_ANIMATIONS": "none"}
    started = time.time()
    out = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, env=env, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"child failed: {args}\n{out.stderr[-3000:]}")
    return started, json.loads(out.stdout.strip().splitlines()[-1])


def _report(name: str, started: float, data: dict[str, object]) -> dict[str, object]:
    paints = data["paints_ms"]
    assert isinstance(paints, dict)
    cpu = data.get("cpu_ms") or {}
    assert isinstance(cpu, dict)
    cpu_names = {"j": "j", "pagedown": "pagedown", "G": "G", "g": "g", "filter": "filter"}
    cpu_names["view"] = "right_square_bracket"
    summary: dict[str, object] = {
        "start_to_first_paint_s": round(float(data["first_paint_wall"]) - started, 3),  # type: ignore[arg-type]
        "start_cpu_s": round(float(data.get("first_paint_cpu_s", 0.0)), 3),  # type: ignore[arg-type]
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "rss_mib": round(data["rss_kib"]["VmRSS"] / 1024, 1),  # type: ignore[index]
        "peak_rss_mib": round(data["rss_kib"]["VmHWM"] / 1024, 1),  # type: ignore[index]
    }
    for label, values in paints.items():
        if label == "start":
            continue
        summary[label] = {
            "n": len(values),
            "median_ms": round(statistics.median(values), 1),
            "p95_ms": round(_p95(values), 1),
            "max_ms": round(max(values), 1),
            "all_ms": [round(v) for v in values],  # in the order pressed: where outliers fall
        }
        if values_cpu := cpu.get(cpu_names.get(label, label)):
            summary[label]["cpu_median_ms"] = round(statistics.median(values_cpu), 1)  # type: ignore[index]
            summary[label]["cpu_p95_ms"] = round(_p95(values_cpu), 1)  # type: ignore[index]
    print(f"\n== {name}")
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--small-db", type=Path, help="a ~10k store, to compare memory")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--agent", default=None)
    parser.add_argument("--baseline-rows", type=int, default=100_000)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--child", choices=["console", "datatable"])
    args = parser.parse_args()
    if args.child == "console":
        print(json.dumps(child_console(args.db, args.runs, args.agent)))
        return
    if args.child == "datatable":
        print(json.dumps(child_datatable(args.db, args.baseline_rows)))
        return
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} CPUs)")
    common = ["--runs", str(args.runs)] + (["--agent", args.agent] if args.agent else [])
    results = {}
    started, data = _spawn(["--db", str(args.db), "--child", "console", *common])
    results["console"] = _report(f"console over {args.db.name}", started, data)
    if args.small_db:
        started, data = _spawn(["--db", str(args.small_db), "--child", "console", *common])
        results["console_small"] = _report(f"console over {args.small_db.name}", started, data)
    if not args.no_baseline:
        rows = ["--baseline-rows", str(args.baseline_rows)]
        started, data = _spawn(["--db", str(args.db), "--child", "datatable", *rows])
        results["datatable"] = _report(f"DataTable, {args.baseline_rows:,} rows", started, data)
        ratio = (
            results["datatable"]["start_to_first_paint_s"]
            / results["console"]["start_to_first_paint_s"]
        )  # type: ignore[operator]
        print(f"\nDataTable({args.baseline_rows:,}) / console start-up: {ratio:.1f}x")


if __name__ == "__main__":
    main()
