"""Shared TUI fixtures: a real seeded store (deterministic texts and times) and the library."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from agentcli.macros.loader import Library, load_library
from agentcli.store.bulk import seed_store
from agentcli.store.db import open_store
from agentcli.tui.app import ConsoleApp

NOW = 1795176000  # 2026-11-20T12:00:00Z: every clock in these tests
SEED_TICKETS = 400
AGENT = "li.na"


@pytest.fixture(autouse=True, scope="session")
def _utc() -> None:
    # Thread times are shown in the machine's timezone: pin it so snapshots match anywhere.
    os.environ["TZ"] = "UTC"
    time.tzset()


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tui") / "seeded.db"
    db = open_store(path)
    seed_store(db, SEED_TICKETS, seed=7, now=NOW, worker=False)
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    return path


@pytest.fixture
def store_path(seeded_template: Path, tmp_path: Path) -> Path:
    """A private copy of the seeded store for one test (tests write to it)."""
    path = tmp_path / "store.db"
    shutil.copy(seeded_template, path)
    return path


@pytest.fixture(scope="session")
def library() -> Library:
    return load_library(shipped=True, personal=False)


@pytest.fixture
def make_app(store_path: Path, library: Library) -> Callable[..., ConsoleApp]:
    def make(**options: object) -> ConsoleApp:
        options.setdefault("agent", AGENT)
        options.setdefault("lang", "en")
        options.setdefault("keymap_file", store_path.parent / "no-keymap.toml")
        return ConsoleApp(store_path, clock=lambda: NOW, library=library, **options)  # type: ignore[arg-type]

    return make


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # Textual runs on asyncio; anyio's pytest plugin drives the async tests
