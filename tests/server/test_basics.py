"""Schema migrations, the change feed and the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import httpx
from click.testing import CliRunner
from sqlalchemy import select

from agentcli.cli.main import main
from agentcli.server.db import open_engine, read_tx
from agentcli.server.schema import SCHEMA_VERSION, schema_version
from tests.server.conftest import Live


def test_migrations_are_idempotent(db_url: str) -> None:
    for _ in range(2):
        engine = open_engine(db_url)
        with read_tx(engine) as conn:
            assert conn.execute(select(schema_version.c.version)).scalar_one() == SCHEMA_VERSION
        engine.dispose()


def test_unauthenticated_is_401(live: Live) -> None:
    with live.client(None) as http:
        for path in ("/api/v1/me", "/api/v1/changes", "/api/v1/agents"):
            response = http.get(path)
            assert response.status_code == 401
            assert response.headers["www-authenticate"] == "Bearer"
    with httpx_client(live.url, "acli_not-a-token") as http:
        assert http.get("/api/v1/me").status_code == 401


def httpx_client(url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"})


def test_me(live: Live) -> None:
    with live.client("olena") as http:
        assert http.get("/api/v1/me").json() == {
            "login": "olena",
            "name": "olena",
            "role": "agent",
            "languages": ["uk"],
            "capacity": 20,
            "queues": ["uk"],
            "active": True,
        }


def test_change_feed_pages_in_seq_order(live: Live) -> None:
    for _ in range(5):
        live.ticket()
    with live.client("olena") as http:
        seen, after = [], 0
        while True:
            page = http.get("/api/v1/changes", params={"after": after, "limit": 3}).json()
            seen += page["changes"]
            after = page["next"]
            if not page["more"]:
                break
        # 4 agents + 5 x (customer, ticket)
        assert [c["seq"] for c in seen] == list(range(1, 15))
        tickets = [c["data"] for c in seen if c["kind"] == "ticket"]
        assert len(tickets) == 5
        assert tickets[0]["subject"] == "Де моє замовлення?"
        assert tickets[0]["created_at"].endswith("Z")
        assert tickets[0]["version"] == 1
        empty = http.get("/api/v1/changes", params={"after": after}).json()
        assert empty == {"changes": [], "next": after, "more": False}
        assert http.get("/api/v1/changes", params={"limit": 5000}).status_code == 422


def test_cli_agents_add_list_disable(db_url: str) -> None:
    runner = CliRunner()
    added = runner.invoke(
        main,
        [
            "serve",
            "agents",
            "add",
            "mia",
            "--role",
            "supervisor",
            "--languages",
            "zh,uk,en",
            "--db",
            db_url,
        ],
    )
    assert added.exit_code == 0, added.output
    token = added.stdout.strip().splitlines()[0]
    assert token.startswith("acli_") and len(token) > 40
    listed = runner.invoke(main, ["serve", "agents", "list", "--json", "--db", db_url])
    assert json.loads(listed.stdout)[0]["languages"] == ["zh", "uk", "en"]
    assert token not in listed.stdout
    again = runner.invoke(main, ["serve", "agents", "add", "mia", "--db", db_url])
    assert again.exit_code != 0
    assert runner.invoke(main, ["serve", "agents", "disable", "mia", "--db", db_url]).exit_code == 0
    listed = runner.invoke(main, ["serve", "agents", "list", "--json", "--db", db_url])
    assert json.loads(listed.stdout)[0]["active"] is False
    engine = open_engine(db_url)
    with read_tx(engine) as conn:
        from agentcli.server.auth import agent_for_token

        assert agent_for_token(conn, token) is None  # disabled: token no longer works
        stored = conn.exec_driver_sql("SELECT token_hash FROM agents").scalar_one()
        assert token not in stored and len(stored) == 64
    engine.dispose()
