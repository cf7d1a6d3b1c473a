"""Keep the metrics cache warm from a low-priority child process.

The first report on a store computes every ticket of its period once (~10 s for the 260,000
tickets of a 7-day period at 1M tickets, agentcli.store.metrics); later reports recompute
only the tickets that changed and take well under a second. The console runs
`agentcli report` in the background after it starts and after syncs that brought changes, so
the metrics screen and the supervisor's own `agentcli report` find the figures ready.

A child process rather than a thread: computing holds the GIL for seconds, which the UI
thread would feel on every key; a process runs on the other core at a lower priority.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

# The period the metrics screen shows and `agentcli report` defaults to.
PERIOD = "7d"
# At most one run per this many seconds: after the first, a run recomputes only what the
# syncs since brought, so there is no hurry.
MIN_INTERVAL = 60.0


def report_command(db_path: Path, period: str = PERIOD) -> list[str]:
    """`agentcli report` on the store, niced where `nice` exists."""
    command = [sys.executable, "-m", "agentcli", "--db", str(db_path), "report"]
    command += ["--period", period, "--format", "json"]
    nice = shutil.which("nice")
    return [nice, "-n", "10", *command] if nice else command


class MetricsWarmer:
    def __init__(
        self,
        db_path: Path,
        *,
        min_interval: float = MIN_INTERVAL,
        command: Sequence[str] | None = None,
    ) -> None:
        self.command = list(command) if command else report_command(db_path)
        self.min_interval = min_interval
        self._child: subprocess.Popen[bytes] | None = None
        self._started_at: float | None = None

    @property
    def started(self) -> bool:
        """A run was started at least once."""
        return self._started_at is not None

    @property
    def running(self) -> bool:
        return self._child is not None and self._child.poll() is None

    def poke(self) -> bool:
        """Start a run unless one is running or started less than min_interval ago."""
        if self.running:
            return False
        now = time.monotonic()
        if self._started_at is not None and now - self._started_at < self.min_interval:
            return False
        self._started_at = now
        # Its own session and no terminal: the console's keys and Ctrl+C are not its own.
        self._child = subprocess.Popen(
            self.command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        return True

    def wait(self, timeout: float) -> int | None:
        """The last run's exit status once it ends (None: still running, or never started)."""
        if self._child is None:
            return None
        try:
            return self._child.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        """End a run in progress: the figures it stored stay, the chunk being written rolls back."""
        if self.running:
            assert self._child is not None
            self._child.terminate()
            self.wait(5.0)
