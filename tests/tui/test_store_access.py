"""Quitting while worker threads are inside SQLite must not crash the console."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# A thread keeps stepping statements on its own connection while the main thread quits
# (close_all), as the page reader and the count workers do when the agent presses q at once.
SCRIPT = """
import sqlite3, sys, threading
from agentcli.tui.data import StoreAccess

store = StoreAccess(sys.argv[1])
started, stop, errors = threading.Event(), threading.Event(), set()

def reads() -> None:
    conn = store.db().conn
    conn.create_function("running", 0, lambda: started.set() or 1)
    while not stop.is_set():
        try:
            conn.execute("SELECT count(*) FROM tickets t, tickets u WHERE running()").fetchone()
        except sqlite3.OperationalError as error:
            errors.add(str(error))
        except sqlite3.ProgrammingError as error:  # used after another thread closed it
            errors.add(str(error))
            return

worker = threading.Thread(target=reads)
worker.start()
started.wait()
store.db()  # the main thread's own connection, which close_all does close
store.close_all()
stop.set()
worker.join()
print(sorted(errors))
"""


def test_quitting_under_running_statements_interrupts_them_without_a_crash(
    store_path: Path,
) -> None:
    for _ in range(5):
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(store_path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr  # a crash is -11 (SIGSEGV)
        assert done.stdout.strip() == "['interrupted']"
