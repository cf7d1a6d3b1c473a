"""The server's tables (SQLAlchemy Core) and its numbered migrations, one code path for both.

Times are Unix seconds (BIGINT) and structured values are JSON text, so SQLite and PostgreSQL
store the same thing and no dialect-specific type leaks into queries.
Append a migration to MIGRATIONS to change the schema; never edit a released one.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    inspect,
    select,
    text,
)

# BIGINT autoincrement keys: on SQLite only INTEGER PRIMARY KEY aliases the rowid and counts up.
BigId = BigInteger().with_variant(Integer, "sqlite")

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
)

agents = Table(
    "agents",
    metadata,
    Column("login", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("languages", Text, nullable=False, default="[]"),  # JSON list
    Column("capacity", Integer, nullable=False, default=20),
    Column("queues", Text, nullable=False, default="[]"),  # JSON list
    Column("active", Boolean, nullable=False, default=True),
    # sha256 hex of the bearer token; the token itself is never stored.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
)

customers = Table(
    "customers",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False),
    Column("locale", String(16), nullable=False),
    Column("tier", String(16), nullable=False, default="regular"),
    Column("email", Text, index=True),
    Column("phone", Text),
    Column("handles", Text, nullable=False, default="{}"),  # JSON: channel -> handle
)

orders = Table(
    "orders",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("number", Text, nullable=False),
    Column("customer_id", BigInteger, nullable=False, index=True),
    Column("items", Text, nullable=False),  # JSON list
    Column("total", Text, nullable=False),  # decimal string
    Column("currency", String(3), nullable=False),
    Column("placed_at", BigInteger, nullable=False),
    Column("carrier", Text),
    Column("tracking_number", Text),
    Column("shipped_at", BigInteger),
    Column("delivered_at", BigInteger),
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("subject", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("priority", String(16), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("queue", String(64), nullable=False),
    Column("assignee", String(64)),
    Column("requester_id", BigInteger, nullable=False),
    Column("language", String(16), nullable=False),
    Column("tags", Text, nullable=False, default="[]"),  # JSON list
    Column("order_id", BigInteger),
    Column("case_type", String(32)),
    Column("case_state", String(32)),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("first_reply_due", BigInteger),
    Column("next_reply_due", BigInteger),
    Column("resolution_due", BigInteger),
    Column("snoozed_until", BigInteger),
    Column("version", Integer, nullable=False, default=1),
    # The ticket version at which each compare-and-set field last changed: a mutation based
    # on version v conflicts only when *its* field changed after v, not on any unrelated edit.
    Column("assignee_version", Integer, nullable=False, default=1),
    Column("status_version", Integer, nullable=False, default=1),
    Column("case_version", Integer, nullable=False, default=1),
    # The channel's conversation id (chat thread, marketplace dialog, first Message-ID): inbound
    # messages carrying it are threaded onto this ticket.
    Column("thread_key", String(255)),
    Index("tickets_by_assignee", "assignee", "status"),
    Index("tickets_by_queue", "queue", "status"),
    Index("tickets_by_thread", "channel", "thread_key"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("ticket_id", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("author_kind", String(16), nullable=False),
    Column("author", Text, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    # Id of the message in the channel it came from (webhook id, Message-ID): dedupe key.
    Column("external_id", String(255)),
    Index("messages_by_ticket", "ticket_id", "id"),
    Index("messages_by_external", "channel", "external_id", unique=True),
)

change_log = Table(
    "change_log",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("entity_id", Text, nullable=False),
    Column("payload", Text, nullable=False),  # JSON snapshot of the entity after the change
    Column("created_at", BigInteger, nullable=False),
)

applied_mutations = Table(
    "applied_mutations",
    metadata,
    Column("client_id", String(36), primary_key=True),
    Column("agent", String(64), nullable=False),
    Column("result", Text, nullable=False),  # JSON of the first answer, replayed on duplicates
    Column("created_at", BigInteger, nullable=False),
)

# Who is viewing or replying to which ticket; ephemeral, read by every process's SSE poller.
presence = Table(
    "presence",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("agent", String(64), nullable=False),
    Column("ticket_id", BigInteger, nullable=False),
    Column("activity", String(16), nullable=False),
    Column("at", BigInteger, nullable=False),
)

# SLA breaches already announced: one row per ticket, target and due time, so the periodic
# check appends each breach event once however many server processes run it.
sla_breaches = Table(
    "sla_breaches",
    metadata,
    Column("ticket_id", BigInteger, primary_key=True),
    Column("target", String(16), primary_key=True),
    Column("due_at", BigInteger, primary_key=True),
    Column("breached_at", BigInteger, nullable=False),
)

# Round-robin among equally loaded agents: the turn (a counter that only grows) at which each
# agent was last auto-assigned; the oldest turn goes next.
assignment_turns = Table(
    "assignment_turns",
    metadata,
    Column("login", String(64), primary_key=True),
    Column("last_turn", BigInteger, nullable=False),
)

# Replies waiting for (or handed to) the SMTP relay: a durable queue, so a relay outage
# delays a reply but never loses it. Written in the reply's own transaction.
mail_outbox = Table(
    "mail_outbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("ticket_id", BigInteger, nullable=False),
    Column("message_id", BigInteger, nullable=False, unique=True),  # messages.id
    Column("rfc_message_id", String(255), nullable=False, unique=True),  # our Message-ID
    Column("mail_from", Text, nullable=False),
    Column("rcpt_to", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("in_reply_to", Text),
    Column("refs", Text),  # the References header
    Column("body", Text, nullable=False),
    Column("state", String(8), nullable=False),  # queued | sent
    Column("attempts", Integer, nullable=False, default=0),
    # Next try; while a sender holds a lease on the row it is set past the lease.
    Column("next_attempt_at", BigInteger, nullable=False),
    Column("last_error", Text),
    Column("created_at", BigInteger, nullable=False),
    Column("sent_at", BigInteger),
    Index("mail_outbox_due", "state", "next_attempt_at"),
)

# The per-ticket audit trail: one row per changed field (or message, breach, rating), each
# also logged to the change feed as an `event`. Written only through agentcli.server.audit.
ticket_events = Table(
    "ticket_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("ticket_id", BigInteger, nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("actor", String(64), nullable=False),  # agent login, `system` or `customer`
    Column("client", Text),  # "<user agent> <mutation id>", smtp, webhook:<channel>, sla, ...
    Column("field", String(32), nullable=False),
    Column("old", Text),
    Column("new", Text),
    Index("ticket_events_by_ticket", "ticket_id", "id"),
)

# SLA pause bookkeeping on tickets, added by migration 3 (see _add_columns).
_SLA_COLUMNS = {
    # When the clock stopped (pending, on-hold, solved, closed); NULL while it runs.
    "sla_paused_at": "BIGINT",
    # Business seconds spent paused so far: supervisors' metrics subtract it.
    "sla_paused_seconds": "BIGINT NOT NULL DEFAULT 0",
}
tickets.append_column(Column("sla_paused_at", BigInteger))
tickets.append_column(
    Column("sla_paused_seconds", BigInteger, nullable=False, default=0, server_default="0")
)

_V1_TABLES = [agents, customers, orders, tickets, messages, change_log, applied_mutations]


def _migration_1(conn: Connection) -> None:
    metadata.create_all(conn, tables=_V1_TABLES)


def _migration_2(conn: Connection) -> None:
    metadata.create_all(conn, tables=[presence])


def _add_columns(conn: Connection, table: str, columns: dict[str, str]) -> None:
    # A store created at this version already has them (create_all uses today's Table);
    # an older store gets them added in place.
    have = {c["name"] for c in inspect(conn).get_columns(table)}
    for name, ddl in columns.items():
        if name not in have:
            conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {name} {ddl}"))


def _migration_3(conn: Connection) -> None:
    _add_columns(conn, "tickets", _SLA_COLUMNS)
    metadata.create_all(conn, tables=[sla_breaches, assignment_turns])


def _migration_4(conn: Connection) -> None:
    metadata.create_all(conn, tables=[mail_outbox])


def _migration_5(conn: Connection) -> None:
    metadata.create_all(conn, tables=[ticket_events])


Migration = Callable[[Connection], None]
MIGRATIONS: list[Migration] = [
    _migration_1,
    _migration_2,
    _migration_3,
    _migration_4,
    _migration_5,
]
SCHEMA_VERSION = len(MIGRATIONS)


def current_version(conn: Connection) -> int:
    if not inspect(conn).has_table("schema_version"):
        return 0
    return conn.execute(select(schema_version.c.version)).scalar_one_or_none() or 0


def migrate(conn: Connection) -> int:
    """Bring the schema to SCHEMA_VERSION inside the caller's (serialized) transaction."""
    metadata.create_all(conn, tables=[schema_version])
    current = current_version(conn)
    if current > SCHEMA_VERSION:
        raise RuntimeError(
            f"server schema version {current} is newer than this agentcli ({SCHEMA_VERSION})"
        )
    for number in range(current + 1, SCHEMA_VERSION + 1):
        MIGRATIONS[number - 1](conn)
    if current == 0:
        conn.execute(schema_version.insert().values(version=SCHEMA_VERSION))
    elif current < SCHEMA_VERSION:
        conn.execute(schema_version.update().values(version=SCHEMA_VERSION))
    return SCHEMA_VERSION
