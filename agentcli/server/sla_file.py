"""Reading an SLA policy file: plain TOML to `SlaConfig`, with no database imports.

`agentcli serve` uses it for its SLA clock; `agentcli report` and the console's metrics
charts use it to judge the same targets locally, so it stays cheap to import (the rest of
agentcli.server.sla pulls in SQLAlchemy: ~0.2 s of a report's start-up).
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from agentcli.domain.sla_policy import PolicyError, SlaConfig, parse_config


def load_config(path: str | Path | None = None) -> SlaConfig:
    """Read a policy file, or the shipped default (agentcli/server/sla_default.toml)."""
    if path is None:
        raw = resources.files("agentcli.server").joinpath("sla_default.toml").read_text("utf-8")
        where = "sla_default.toml"
    else:
        raw, where = Path(path).read_text(encoding="utf-8"), str(path)
    try:
        data = tomllib.loads(raw)
        zone = ZoneInfo(data.get("calendar", {}).get("timezone", "UTC"))
        return parse_config(data, zone)
    except (tomllib.TOMLDecodeError, ZoneInfoNotFoundError, PolicyError, KeyError) as error:
        raise PolicyError(f"{where}: {error}") from None
