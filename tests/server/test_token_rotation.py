"""A new token for an agent: shown once, and the old one stops working at once."""

from __future__ import annotations

from click.testing import CliRunner

from agentcli.cli.main import main
from agentcli.server.auth import rotate_token
from tests.server.conftest import Live


def test_rotated_token_replaces_the_old_one(live: Live) -> None:
    old_token = live.tokens["olena"]
    new_token = rotate_token(live.engine, "olena")
    assert new_token and new_token != old_token
    with live.client(None) as http:
        old = http.get("/api/v1/me", headers={"Authorization": f"Bearer {old_token}"})
        assert old.status_code == 401
        me = http.get("/api/v1/me", headers={"Authorization": f"Bearer {new_token}"})
        assert me.status_code == 200 and me.json()["login"] == "olena"
    assert rotate_token(live.engine, "nobody") is None


def test_cli_prints_a_new_token_and_refuses_unknown_agents(db_url: str) -> None:
    runner = CliRunner()
    added = runner.invoke(main, ["serve", "agents", "add", "li", "--db", db_url])
    assert added.exit_code == 0, added.output
    rotated = runner.invoke(main, ["serve", "agents", "token", "li", "--db", db_url])
    assert rotated.exit_code == 0, rotated.output
    assert rotated.stdout.strip().startswith("acli_")
    assert rotated.stdout.strip() != added.stdout.strip()
    missing = runner.invoke(main, ["serve", "agents", "token", "ghost", "--db", db_url])
    assert missing.exit_code != 0 and "ghost" in missing.output
