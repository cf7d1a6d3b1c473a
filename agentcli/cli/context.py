"""State shared by CLI commands: the store path, opened lazily so `--help` never touches disk."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from agentcli.store.db import open_store


@dataclass
class CliContext:
    db_path: Path
    _db: sqlite_utils.Database | None = field(default=None, repr=False)

    @property
    def db(self) -> sqlite_utils.Database:
        if self._db is None:
            self._db = open_store(self.db_path)
        return self._db
