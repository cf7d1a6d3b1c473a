"""Fixtures: a real server on a loopback port over a real SQLite file or a fresh PostgreSQL db.

PostgreSQL tests read an admin URL from AGENTCLI_TEST_PG and create a throwaway database per
test. Without it they skip locally, but FAIL under CI=true so a broken CI setup can't hide.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import Engine

from agentcli.domain.vocabulary import Channel, Role
from agentcli.server import auth
from agentcli.server.app import create_app
from agentcli.server.db import open_engine, write_tx
from agentcli.server.records import create_customer, create_ticket
from agentcli.server.runner import ThreadedServer, start_in_thread
from tests.server import differential

PG_ENV = "AGENTCLI_TEST_PG"


def pg_admin_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{PG_ENV} is not set under CI=true (run tests/server/ci_postgres.sh)")
        pytest.skip(f"{PG_ENV} not set: PostgreSQL tests skipped locally")
    return url


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A database migrated once per session; each test's database is a copy of it.

    CREATE DATABASE ... TEMPLATE copies files (~0.4 s) where running the migrations on every
    fresh database cost another ~0.6-0.9 s a test. The template must have no connections
    while it is copied, so the migrating engine is disposed at once.
    """
    admin = pg_admin_url()
    name = f"acli_tmpl_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    open_engine(admin.rsplit("/", 1)[0] + "/" + name).dispose()
    yield name
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_template: str) -> Iterator[str]:
    """A fresh PostgreSQL database (migrated, no rows) for one test, dropped afterwards."""
    admin = pg_admin_url()
    name = f"acli_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    yield admin.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "server.db")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = open_engine(db_url)
    yield engine
    engine.dispose()


@dataclass
class Live:
    """A running server plus handles the tests need."""

    engine: Engine
    server: ThreadedServer
    tokens: dict[str, str]

    @property
    def url(self) -> str:
        return self.server.url

    def client(self, login: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[login]}"} if login else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def ticket(self, **fields: object) -> int:
        """Create a ticket (and its customer) directly in the store; return its id."""
        with write_tx(self.engine) as conn:
            customer = create_customer(conn, "Olena", locale="uk", email="olena@example.com")
            values = {"subject": "Де моє замовлення?", "channel": Channel.CHAT, "queue": "uk"}
            values |= fields
            row = create_ticket(conn, requester_id=customer["id"], **values)  # type: ignore[arg-type]
        return int(row["id"])


@pytest.fixture
def live(engine: Engine) -> Iterator[Live]:
    tokens = {
        "admin": auth.add_agent(engine, "admin", Role.ADMIN),
        "sup": auth.add_agent(engine, "sup", Role.SUPERVISOR, languages=["en"]),
        "olena": auth.add_agent(engine, "olena", Role.AGENT, languages=["uk"], queues=["uk"]),
        "li": auth.add_agent(engine, "li", Role.AGENT, languages=["zh-CN"], queues=["zh"]),
    }
    server = start_in_thread(create_app(engine))
    yield Live(engine, server, tokens)
    server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def two_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    """Two empty stores on one backend, for differential tests (tests/server/differential.py)."""
    if request.param == "sqlite":
        urls = [str(tmp_path / "a.db"), str(tmp_path / "b.db")]
    else:
        admin, template = pg_admin_url(), request.getfixturevalue("pg_template")
        names = [f"acli_test_{uuid.uuid4().hex[:12]}" for _ in range(2)]
        with psycopg.connect(admin, autocommit=True) as conn:
            for name in names:
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        urls = [admin.rsplit("/", 1)[0] + "/" + name for name in names]
    engines = [open_engine(url) for url in urls]
    yield engines[0], engines[1]
    for engine in engines:
        engine.dispose()
    if request.param == "postgres":
        with psycopg.connect(admin, autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pinned(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """One clock for both stores of `two_stores`."""
    for module in ("mutations", "push", "records", "changelog", "mail_out", "sla", "auth"):
        monkeypatch.setattr(f"agentcli.server.{module}.now_epoch", lambda: differential.NOW)
    yield
