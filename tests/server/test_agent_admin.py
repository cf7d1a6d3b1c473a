"""Admins change agents (role, languages, queues, capacity) over HTTP and the CLI; nobody else
can, the change reaches every client through the feed, and the last admin cannot be demoted."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import func, select

from agentcli.cli.main import main
from agentcli.server.db import read_tx
from agentcli.server.schema import agents, change_log
from tests.server.conftest import Live


def _agents_and_feed(live: Live) -> tuple[list[tuple], int]:
    with read_tx(live.engine) as conn:
        rows = [tuple(r) for r in conn.execute(select(agents).order_by(agents.c.login))]
        changes = conn.execute(select(func.count()).select_from(change_log)).scalar_one()
    return rows, changes


def test_admin_changes_capacity_languages_and_queues(live: Live) -> None:
    with live.client("admin") as http:
        after = http.get("/api/v1/changes").json()["next"]
        answer = http.patch(
            "/api/v1/agents/olena",
            json={"capacity": 35, "languages": ["uk", "en"], "queues": ["uk", "returns"]},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json() | {"capacity": 35} == answer.json()
        assert answer.json()["languages"] == ["uk", "en"]
        assert answer.json()["role"] == "agent"  # absent fields stay as they were
        feed = http.get("/api/v1/changes", params={"after": after}).json()["changes"]
    [change] = [c for c in feed if c["kind"] == "agent"]
    assert change["data"]["login"] == "olena" and change["data"]["capacity"] == 35
    assert "token_hash" not in change["data"]
    with live.client("olena") as olena:
        assert olena.get("/api/v1/me").json()["queues"] == ["uk", "returns"]


def test_only_admins_change_agents_and_nothing_changes_otherwise(live: Live) -> None:
    before = _agents_and_feed(live)
    for login in ("olena", "sup"):
        with live.client(login) as http:
            denied = http.patch("/api/v1/agents/olena", json={"capacity": 1})
            assert denied.status_code == 403
            assert http.patch("/api/v1/agents/li", json={"role": "admin"}).status_code == 403
    with live.client(None) as anonymous:
        assert anonymous.patch("/api/v1/agents/li", json={"capacity": 1}).status_code == 401
    with live.client("admin") as http:
        assert http.patch("/api/v1/agents/ghost", json={"capacity": 1}).status_code == 404
        assert http.patch("/api/v1/agents/li", json={"capacity": -1}).status_code == 422
        assert http.patch("/api/v1/agents/li", json={"role": "owner"}).status_code == 422
    assert _agents_and_feed(live) == before


def test_the_last_admin_cannot_be_demoted(live: Live) -> None:
    with live.client("admin") as http:
        refused = http.patch("/api/v1/agents/admin", json={"role": "supervisor"})
        assert refused.status_code == 409 and "last active admin" in refused.text
        assert http.post("/api/v1/agents/admin/disable").status_code == 409
        assert http.get("/api/v1/me").json()["role"] == "admin"  # still in charge
        assert http.patch("/api/v1/agents/sup", json={"role": "admin"}).status_code == 200
        # With a second admin the first may step down.
        assert http.patch("/api/v1/agents/admin", json={"role": "agent"}).json()["role"] == "agent"


def test_cli_agents_set(db_url: str) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["serve", "agents", "add", "mia", "--db", db_url]).exit_code == 0
    options = ["--capacity", "12", "--queues", "vip,returns", "--db", db_url]
    changed = runner.invoke(main, ["serve", "agents", "set", "mia", *options])
    assert changed.exit_code == 0, changed.output
    assert json.loads(changed.stdout) | {"capacity": 12, "queues": ["vip", "returns"]} == (
        json.loads(changed.stdout)
    )
    listed = json.loads(
        runner.invoke(main, ["serve", "agents", "list", "--json", "--db", db_url]).stdout
    )
    assert listed[0]["capacity"] == 12
    missing = runner.invoke(
        main, ["serve", "agents", "set", "ghost", "--capacity", "3", "--db", db_url]
    )
    assert missing.exit_code != 0 and "ghost" in missing.output
    nothing = runner.invoke(main, ["serve", "agents", "set", "mia", "--db", db_url])
    assert nothing.exit_code == 2 and "nothing to change" in nothing.output
