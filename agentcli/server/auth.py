"""Bearer tokens and agent accounts.

Tokens are 256 bits from `secrets`, shown once and stored only as their SHA-256. A slow password
hash (bcrypt, argon2) protects *guessable* secrets; a 256-bit random token cannot be guessed, so
a fast hash loses nothing and lets every request find its agent by an indexed equality lookup
instead of a per-request key-stretching cost. A leaked database does not reveal usable tokens.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, select

from agentcli.domain.clock import now_epoch
from agentcli.domain.vocabulary import Role
from agentcli.server.changelog import append_change
from agentcli.server.db import read_tx, write_tx
from agentcli.server.schema import agents

TOKEN_PREFIX = "acli_"


class AgentExists(ValueError):
    pass


class LastAdmin(ValueError):
    """The change would leave the server with no active admin to manage it."""


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_agent(
    engine: Engine,
    login: str,
    role: Role,
    *,
    name: str | None = None,
    languages: Sequence[str] = (),
    queues: Sequence[str] = (),
    capacity: int = 20,
) -> str:
    """Create an agent and return its bearer token (the only time it exists in clear)."""
    token = new_token()
    with write_tx(engine) as conn:
        if conn.execute(select(agents.c.login).where(agents.c.login == login)).first():
            raise AgentExists(f"agent {login!r} already exists")
        row = {
            "login": login,
            "name": name or login,
            "role": str(Role(role)),
            "languages": json.dumps(list(languages)),
            "capacity": capacity,
            "queues": json.dumps(list(queues)),
            "active": True,
            "token_hash": hash_token(token),
            "created_at": now_epoch(),
        }
        conn.execute(agents.insert().values(**row))
        append_change(conn, "agent", row)
    return token


def set_active(engine: Engine, login: str, active: bool) -> bool:
    """Enable or disable an agent; False when there is no such agent."""
    with write_tx(engine) as conn:
        current = conn.execute(select(agents).where(agents.c.login == login)).mappings().first()
        if current is None:
            return False
        if not active and current["role"] == Role.ADMIN:
            _keep_an_admin(conn, login)
        conn.execute(agents.update().where(agents.c.login == login).values(active=active))
        row = conn.execute(select(agents).where(agents.c.login == login)).mappings().one()
        append_change(conn, "agent", row)
    return True


def _keep_an_admin(conn: Connection, login: str) -> None:
    """Refuse a change that takes `login`, an admin, away while no other active admin exists."""
    others = select(agents.c.login).where(
        agents.c.role == str(Role.ADMIN), agents.c.active, agents.c.login != login
    )
    if conn.execute(others).first() is None:
        raise LastAdmin(f"{login!r} is the last active admin")


def update_agent(engine: Engine, login: str, changes: Mapping[str, Any]) -> dict[str, Any] | None:
    """Change an agent's name, role, languages, queues or capacity (the keys present in
    `changes`); the new state goes to the change feed so supervisors' boards see it. None: no
    such agent."""
    values = {
        key: json.dumps(list(value)) if key in ("languages", "queues") else value
        for key, value in changes.items()
    }
    if "role" in values:
        values["role"] = str(Role(values["role"]))
    with write_tx(engine) as conn:
        current = conn.execute(select(agents).where(agents.c.login == login)).mappings().first()
        if current is None:
            return None
        if current["role"] == Role.ADMIN and values.get("role", Role.ADMIN) != Role.ADMIN:
            _keep_an_admin(conn, login)
        if values:
            conn.execute(agents.update().where(agents.c.login == login).values(**values))
        row = conn.execute(select(agents).where(agents.c.login == login)).mappings().one()
        if values:
            append_change(conn, "agent", row)
    return agent_public(row)


def rotate_token(engine: Engine, login: str) -> str | None:
    """Give an agent a new token (the old one stops working at once); None: no such agent.

    For a lost token, and for `agentcli demo`, which logs in as a seeded agent on every run.
    """
    token = new_token()
    with write_tx(engine) as conn:
        updated = conn.execute(
            agents.update().where(agents.c.login == login).values(token_hash=hash_token(token))
        )
        if updated.rowcount == 0:
            return None
    return token


def list_agents(engine: Engine) -> list[dict[str, Any]]:
    with read_tx(engine) as conn:
        rows = conn.execute(select(agents).order_by(agents.c.login)).mappings().all()
    return [agent_public(row) for row in rows]


def agent_public(row: Any) -> dict[str, Any]:
    return {
        "login": row["login"],
        "name": row["name"],
        "role": row["role"],
        "languages": json.loads(row["languages"]),
        "capacity": row["capacity"],
        "queues": json.loads(row["queues"]),
        "active": bool(row["active"]),
    }


# Built once: every request looks its token up.
_BY_TOKEN = select(agents).where(agents.c.token_hash == bindparam("token_hash"))


def agent_for_token(conn: Connection, token: str) -> dict[str, Any] | None:
    """The active agent holding `token`, or None."""
    row = conn.execute(_BY_TOKEN, {"token_hash": hash_token(token)}).mappings().first()
    if row is None or not row["active"]:
        return None
    return agent_public(row)
