"""The `macro` and `terms` commands end to end on a real local store, and packaging."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentcli.cli.main import main
from agentcli.store.db import open_store

FIXTURES = Path(__file__).parent / "fixtures" / "macros" / "basic"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # The fixture library as the personal layer: it overrides whatever ships.
    monkeypatch.setenv("AGENTCLI_PERSONAL_MACROS", str(FIXTURES))
    monkeypatch.delenv("AGENTCLI_SHARED_MACROS", raising=False)
    monkeypatch.setenv("AGENTCLI_AGENT", "li")
    path = tmp_path / "store.db"
    db = open_store(path)
    db["customers"].insert(
        {"id": 1, "name": "王小明", "locale": "zh-CN", "tier": "gold", "email": "w@example.com"}
    )
    db["orders"].insert(
        {
            "id": 10,
            "number": "SO-1001",
            "customer_id": 1,
            "items": json.dumps([{"sku": "A", "title": "杯子", "quantity": 1, "unit_price": "9"}]),
            "total": "1234.50",
            "currency": "CNY",
            "placed_at": 1_746_000_000,
            "carrier": "顺丰",
            "tracking_number": "SF1",
            "shipped_at": 1_746_300_000,
        }
    )
    db["agents"].insert({"login": "li", "name": "小李", "role": "agent"})
    for ticket_id, language in ((1, "zh-CN"), (2, "en")):
        db["tickets"].insert(
            {
                "id": ticket_id,
                "subject": "退款",
                "status": "open",
                "priority": 1,
                "channel": "chat",
                "queue": "after-sale",
                "requester_id": 1,
                "language": language,
                "tags": "[]",
                "order_id": 10,
                "created_at": 1_746_000_000,
                "updated_at": 1_746_000_000,
                "sla_due": 1_746_100_000,
                "version": 4,
            }
        )
    db["messages"].insert(
        {
            "id": 100,
            "ticket_id": 1,
            "kind": "public",
            "author_kind": "customer",
            "author": "王小明",
            "channel": "chat",
            "body": "我想申请仅退款",
            "created_at": 1_746_000_000,
        }
    )
    db.conn.close()
    return path


def run(store: Path, *args: str, stdin: str | None = None):
    return CliRunner().invoke(main, ["--db", str(store), *args], input=stdin)


def outbox(store: Path) -> list[dict]:
    db = open_store(store)
    rows = list(db.query("SELECT * FROM outbox ORDER BY seq"))
    db.conn.close()
    return rows


def test_list_show_and_render(store: Path) -> None:
    result = run(store, "macro", "list", "--json", "--category", "after-sale")
    assert result.exit_code == 0, result.output
    assert "refund-approved" in [m["id"] for m in json.loads(result.output)]
    shown = json.loads(run(store, "macro", "show", ";rr", "--json").output)
    assert shown["id"] == "refund-approved" and shown["source"] == "personal"
    rendered = run(
        store, "macro", "render", "refund-approved", "--ticket", "1", "--var", "refund_amount=88"
    )
    assert rendered.exit_code == 0, rendered.output
    assert "王小明" in rendered.output and "¥88.00" in rendered.output
    assert "小李" in rendered.output
    tw = run(store, "macro", "render", "order-shipped", "--ticket", "2", "--locale", "zh-TW")
    assert tw.exit_code == 0 and "訂單" in tw.output


def test_render_names_missing_variables_and_fails(store: Path) -> None:
    result = run(store, "macro", "render", "refund-approved", "--ticket", "1")
    assert result.exit_code != 0
    assert "missing variables: vars.refund_amount" in result.output
    assert "亲爱的" not in result.output


def test_apply_dry_run_writes_nothing(store: Path) -> None:
    result = run(
        store,
        "macro",
        "apply",
        "refund-approved",
        "--ticket",
        "1",
        "--var",
        "refund_amount=5",
        "--dry-run",
    )
    assert result.exit_code == 0, result.output
    assert "status: 'open' -> 'pending'" in result.output
    assert "¥5.00" in result.output
    assert outbox(store) == []


def test_apply_writes_outbox_and_local_effects(store: Path) -> None:
    result = run(
        store,
        "macro",
        "apply",
        "refund-approved",
        "-",
        "--var",
        "refund_amount=5",
        "--json",
        stdin="1 2\n",
    )
    assert result.exit_code == 0, result.output
    rows = outbox(store)
    assert [r["type"] for r in rows] == ["reply", "set-status", "tag", "set-case"] * 2
    assert {r["ticket_id"] for r in rows} == {1, 2} and {r["base_version"] for r in rows} == {4}
    assert json.loads(rows[3]["payload"]) == {"type": "refund-only", "state": "approved"}
    db = open_store(store)
    ticket = next(db.query("SELECT * FROM tickets WHERE id = 1"))
    assert (ticket["status"], ticket["case_state"], ticket["pending"]) == ("pending", "approved", 4)
    assert json.loads(ticket["tags"]) == ["退款"]
    db.conn.close()


def test_apply_refuses_when_any_ticket_misses_variables(store: Path) -> None:
    result = run(store, "macro", "apply", "refund-approved", "-", stdin="1 2")
    assert result.exit_code != 0 and "vars.refund_amount" in result.output
    assert outbox(store) == []


def test_apply_by_query(store: Path) -> None:
    result = run(store, "macro", "apply", "order-shipped", "--query", "status:open", "--json")
    assert result.exit_code == 0, result.output
    assert sorted({r["ticket_id"] for r in outbox(store)}) == [1, 2]


def test_suggest_and_terms(store: Path) -> None:
    suggested = json.loads(run(store, "macro", "suggest", "--ticket", "1", "--json").output)
    assert suggested[0]["id"] == "refund-approved"
    found = json.loads(run(store, "terms", "lookup", "REFUND ONLY", "--json").output)
    assert found[0]["id"] == "refund-only"
    flagged = run(store, "terms", "check", "-", "--json", stdin="这是你自己没看清")
    assert flagged.exit_code == 1
    assert json.loads(flagged.output)[0]["preferred"] == "为您办理仅退款"
    assert run(store, "terms", "check", "一切正常").exit_code == 0


def test_lint_command_exit_codes(store: Path, tmp_path: Path) -> None:
    ok = run(store, "macro", "lint", str(FIXTURES))
    assert ok.exit_code == 0, ok.output
    bad = tmp_path / "bad" / "a" / "x.toml"
    bad.parent.mkdir(parents=True)
    bad.write_text('id = "x"\ncategory = ', encoding="utf-8")
    result = run(store, "macro", "lint", str(tmp_path / "bad"))
    assert result.exit_code == 1
    assert f"{bad}:2:" in result.output


@pytest.mark.slow
def test_wheel_ships_macros_and_installed_loader_finds_them(tmp_path: Path) -> None:
    if not any((REPO / "macros").rglob("*.toml")):
        pytest.skip("no shipped macros yet")
    source = tmp_path / "src"
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(
            ".git", "build", "*.egg-info", "__pycache__", ".*cache", ".venv", "*.db*"
        ),
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-w", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("agentcli-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = sorted(
        p.relative_to(source / "macros").as_posix() for p in (source / "macros").rglob("*.toml")
    )
    assert (
        sorted(
            n.removeprefix("agentcli/_macros/")
            for n in names
            if n.startswith("agentcli/_macros/") and n.endswith(".toml")
        )
        == shipped
    )
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    probe = (
        "import agentcli, json; from agentcli.macros.loader import shipped_dir, load_library;"
        "lib = load_library(personal=None);"
        "print(json.dumps([agentcli.__file__, str(shipped_dir()), len(lib.macros)]))"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run(
        [sys.executable, "-c", probe],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    package_file, found_dir, count = json.loads(out.stdout)
    assert package_file.startswith(str(target))
    assert found_dir == str(target / "agentcli" / "_macros")
    assert count > 0
