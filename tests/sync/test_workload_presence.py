"""`agentcli workload` shows who is viewing or replying to which ticket, asked of the server
(`GET /presence`) beside the counts from the local store; offline it says presence is unknown
and still prints the board. A real server on loopback, the real CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine

from agentcli.cli.main import main
from agentcli.domain.clock import now_epoch
from agentcli.domain.vocabulary import Role
from agentcli.server import auth
from agentcli.server.app import create_app
from agentcli.server.db import open_engine, write_tx
from agentcli.server.runner import ThreadedServer, start_in_thread
from agentcli.server.schema import presence
from agentcli.sync import credentials
from agentcli.sync.client import Client


@dataclass
class Helpdesk:
    server: ThreadedServer
    agent_token: str
    supervisor_token: str
    engine: Engine


@pytest.fixture
def helpdesk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Helpdesk]:
    monkeypatch.setenv(credentials.CONFIG_ENV, str(tmp_path / "config"))
    monkeypatch.setenv(credentials.NO_KEYRING_ENV, "1")
    engine = open_engine(str(tmp_path / "server.db"))
    agent = auth.add_agent(engine, "olena", Role.AGENT)
    supervisor = auth.add_agent(engine, "zhang", Role.SUPERVISOR)
    server = start_in_thread(create_app(engine))
    try:
        yield Helpdesk(server, agent, supervisor, engine)
    finally:
        server.stop()
        engine.dispose()


def cli(tmp_path: Path, *args: str) -> Result:
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "store.db"), *args])
    assert result.exit_code == 0, result.output
    return result


def by_login(shown: Result) -> dict[str, dict]:
    return {row["agent"]: row for row in json.loads(shown.stdout)["agents"]}


def test_workload_shows_live_presence_and_says_when_it_cannot(
    helpdesk: Helpdesk, tmp_path: Path
) -> None:
    url = helpdesk.server.url
    with write_tx(helpdesk.engine) as conn:  # a presence older than a minute is gone
        conn.execute(presence.insert().values(agent="zhang", ticket_id=7, activity="viewing", at=1))
    with Client(url, helpdesk.agent_token) as olena:
        olena.presence(42, "replying")
    cli(tmp_path, "login", url, "--token", helpdesk.supervisor_token)
    cli(tmp_path, "sync", "--once")  # the agents reach the local store

    shown = cli(tmp_path, "workload", "--json")
    agents = by_login(shown)
    assert json.loads(shown.stdout)["presence_unknown"] is None
    assert agents["olena"]["presence"]["ticket_id"] == 42
    assert agents["olena"]["presence"]["activity"] == "replying"
    assert abs(agents["olena"]["presence"]["at"] - now_epoch()) < 60
    assert agents["zhang"]["presence"] is None
    table = cli(tmp_path, "workload").stdout
    assert "replying #42" in table

    helpdesk.server.stop()
    offline = cli(tmp_path, "workload", "--json")
    assert json.loads(offline.stdout)["presence_unknown"]
    assert all(row["presence"] is None for row in by_login(offline).values())
    assert set(by_login(offline)) == {"olena", "zhang"}  # the board itself is still shown
    assert "presence unknown:" in cli(tmp_path, "workload").stderr


def test_presence_is_for_logged_in_agents_only(helpdesk: Helpdesk) -> None:
    answer = httpx.get(f"{helpdesk.server.url}/api/v1/presence")
    assert answer.status_code == 401
