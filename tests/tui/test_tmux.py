"""End to end in a real terminal: tmux runs `agentcli console`, keys go in, the screen comes
out with `capture-pane`. Skipped without tmux, except on CI (CI=true), where it must run."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rich.cells import cell_len

CASE_TOKENS = ("return:", "refund:", "exch:", "price:", "reship:", "repair:", "compl:")
WIDTH, HEIGHT = 160, 45
CJK, CYRILLIC = ("\u4e00", "\u9fff"), ("\u0400", "\u04ff")


def _need_tmux() -> str:
    found = shutil.which("tmux")
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("tmux is required on CI for the end-to-end console test")
        pytest.skip("tmux not installed")
    return found


class Tmux:
    def __init__(self, tmux: str, name: str) -> None:
        self.tmux, self.name = tmux, name

    def run(self, *args: str) -> str:
        # A private server per session (-L): runs never share, or race, a tmux server that is
        # shutting down after the previous run killed its last session.
        command = [self.tmux, "-L", self.name, *args]
        return subprocess.run(command, check=True, capture_output=True, text=True).stdout

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.run("send-keys", "-t", self.name, *(["-l"] if literal else []), *keys)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.name)

    def wait(self, condition: Callable[[str], bool], timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if condition(text):
                return text
            time.sleep(0.2)
        raise AssertionError(f"screen never matched; last screen:\n{text}")


def _start(agentcli_args: str) -> Iterator[Tmux]:
    """A detached tmux session running `agentcli <agentcli_args>` at WIDTH x HEIGHT."""
    binary = _need_tmux()
    session = Tmux(binary, f"agentcli-e2e-{uuid.uuid4().hex[:8]}")
    command = (
        # COLUMNS/LINES (pytest sets them) would pin Textual to 80x24: drop them.
        f"cd {Path(__file__).resolve().parents[2]} && env -u COLUMNS -u LINES TZ=UTC"
        f" {sys.executable} -m agentcli {agentcli_args}"
    )
    session.run(
        "new-session", "-d", "-s", session.name, "-x", str(WIDTH), "-y", str(HEIGHT),
        "-e", "TERM=xterm-256color", command,
    )  # fmt: skip
    # A detached session may come up at the default 80x24: size the window explicitly.
    session.run("resize-window", "-t", session.name, "-x", str(WIDTH), "-y", str(HEIGHT))
    yield session
    subprocess.run([binary, "-L", session.name, "kill-server"], check=False)


@pytest.fixture
def tmux(store_path: Path) -> Iterator[Tmux]:
    """The console alone on a seeded store (no account: offline)."""
    yield from _start(f"--db {store_path} console --lang zh-CN --agent li.na")


@pytest.fixture
def demo_dir(tmp_path: Path) -> Path:
    return tmp_path / "demo"


@pytest.fixture
def demo(demo_dir: Path) -> Iterator[Tmux]:
    """The README's first command: embedded server, seeded data, login, sync, console."""
    yield from _start(f"demo --tickets 400 --lang zh-CN --dir {demo_dir}")


def _case_rows(screen: str, script: tuple[str, str]) -> list[str]:
    """Inbox rows with an after-sale case column and a character of `script` (right of the
    sidebar, whose view names are Chinese)."""
    low, high = script
    rows = [line.partition("│")[2] for line in screen.splitlines()]
    return [
        row
        for row in rows
        if any(t in row for t in CASE_TOKENS) and any(low <= c <= high for c in row)
    ]


def _cell_offset(line: str, token: str) -> int:
    return cell_len(line[: line.index(token)])


def _assert_inbox_aligned(tmux: Tmux) -> None:
    """Press `[` for the All view and check Chinese and Ukrainian rows line up by cell width."""
    tmux.keys("[")  # the last view: All (every language)
    # "My tickets" may already show case columns: wait for rows in both scripts (All's).
    screen = tmux.wait(lambda s: bool(_case_rows(s, CJK) and _case_rows(s, CYRILLIC)))
    lines = screen.splitlines()
    header = next(line for line in lines if "售后" in line and "主题" in line)
    column = _cell_offset(header, "售后")
    rows = [line for line in lines if any(t in line for t in CASE_TOKENS)]
    for row in rows:
        token = next(t for t in CASE_TOKENS if t in row)
        assert _cell_offset(row, token) == column, f"misaligned:\n{header}\n{row}"


def _filter_mine(tmux: Tmux) -> None:
    """Filter to my tickets (any status): the server lets me answer those."""
    tmux.keys("/")
    tmux.wait(lambda s: "│› " in s)  # the filter line's prompt: editing, what a user waits for
    tmux.keys("C-u")
    tmux.keys("assignee:me sort:created", literal=True)
    tmux.wait(lambda s: "assignee:me sort:created" in s)
    time.sleep(0.3)  # a typist's pause: send-keys would press enter within the same millisecond
    tmux.keys("Enter")
    tmux.wait(lambda s: not _case_rows(s, CYRILLIC) and "li.na" in s.partition("更新")[2])


def _reply(tmux: Tmux, text: str) -> None:
    tmux.keys("Enter")
    screen = tmux.wait(lambda s: "订单:" in s and "客户:" in s)
    assert "时限" in screen
    tmux.keys("r")
    tmux.wait(lambda s: "回复（客户可见）" in s)
    tmux.keys(text, literal=True)
    tmux.wait(lambda s: text in s)
    tmux.keys("C-s")


def test_console_in_a_real_terminal(tmux: Tmux) -> None:
    tmux.wait(lambda s: "全部" in s and "客服: li.na" in s)
    _assert_inbox_aligned(tmux)
    _filter_mine(tmux)
    _reply(tmux, "e2e 回复 привіт")
    # No account: the reply waits in the outbox, shown as pending.
    tmux.wait(lambda s: "e2e 回复 привіт" in s and "待同步" in s)
    assert "待发送: 1" in tmux.wait(lambda s: "待发送: 1" in s)
    tmux.keys("Escape")
    tmux.wait(lambda s: "全部" in s)
    tmux.keys("q")


def test_demo_in_a_real_terminal_sends_a_reply_to_its_server(demo: Tmux, demo_dir: Path) -> None:
    tmux = demo
    tmux.wait(lambda s: "全部" in s and "客服: li.na" in s and "在线" in s, timeout=90)
    _assert_inbox_aligned(tmux)
    _filter_mine(tmux)
    _reply(tmux, "demo e2e 回复 привіт")
    # Online: shown at once, then settled by the live sync (no pending marker, empty outbox).
    tmux.wait(lambda s: "demo e2e 回复 привіт" in s and "待同步" not in s and "待发送: 0" in s)
    tmux.keys("Escape")
    tmux.wait(lambda s: "全部" in s)
    tmux.keys("q")
    server = sqlite3.connect(demo_dir / "server.db")
    try:
        count = server.execute(
            "SELECT count(*) FROM messages WHERE body LIKE ?", ("%demo e2e 回复 привіт%",)
        ).fetchone()[0]
    finally:
        server.close()
    assert count == 1, "the reply must reach the demo server exactly once"
