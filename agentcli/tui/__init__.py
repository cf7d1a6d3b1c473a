"""The agent console (Textual). Importing this package is cheap; the app loads on use."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def run_console(
    db_path: Path, *, agent: str | None = None, lang: str = "en", **options: Any
) -> None:
    """Open the console on the store at `db_path`; see agentcli.tui.app.run_console."""
    block_numpy()
    from agentcli.tui.app import run_console as run

    run(db_path, agent=agent, lang=lang, **options)


def block_numpy() -> None:
    """sqlite-utils imports numpy when it can (~0.15-0.35 s here) only to convert numpy values;
    the console never has any, so a console process skips it for a faster first paint."""
    import sys

    if "numpy" not in sys.modules:
        sys.modules["numpy"] = None  # type: ignore[assignment]  # import numpy -> ImportError
