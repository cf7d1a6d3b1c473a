"""Outbound email: public replies on email tickets, via a durable queue, to an SMTP relay.

`queue_reply` runs inside the reply's own transaction (the workflow's `after` hook): the reply
and its queued mail commit together, so a crash or a dead relay can delay a reply but not
lose it. `MailSender` drains the queue: it *leases* due rows in a short serialized write
transaction (moving next_attempt_at past the lease), sends outside any transaction, then
records sent or schedules a retry with exponential backoff (capped, never given up). Several
server processes never lease the same row; a process dying mid-send lets the lease lapse and
the mail is sent again with the *same* Message-ID, which receiving clients deduplicate.

Threading: Message-ID `<t{ticket}.m{message}.{random}@domain>`, In-Reply-To the newest
message of the thread we know a Message-ID for, References the thread's ids oldest first,
and `[#id]` in the subject so a reply from a client that drops headers still finds its ticket.
"""

from __future__ import annotations

import secrets
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, select

from agentcli.domain.clock import now_epoch
from agentcli.server.audit import SYSTEM, record_event
from agentcli.server.db import write_tx
from agentcli.server.mail_parse import TICKET_TAG
from agentcli.server.schema import customers, mail_outbox, messages
from agentcli.server.services import Periodic

MAX_REFERENCES = 20  # RFC 5322 allows trimming the middle of a long References chain
LEASE_SECONDS = 120
BATCH = 20


@dataclass(frozen=True)
class MailSettings:
    relay_host: str
    relay_port: int
    mail_from: str = "support@localhost"
    from_name: str = "Support"
    backoff_base: float = 30.0  # seconds before the first retry; doubles each time
    backoff_cap: float = 3600.0
    timeout: float = 10.0

    @property
    def domain(self) -> str:
        return self.mail_from.rsplit("@", 1)[-1]


def backoff(settings: MailSettings, attempts: int) -> int:
    return int(min(settings.backoff_cap, settings.backoff_base * 2 ** max(0, attempts - 1)))


def queue_reply(
    settings: MailSettings, conn: Connection, ticket: RowMapping, message_id: int
) -> None:
    """Queue the public reply `message_id` on email ticket `ticket` (same transaction)."""
    rcpt = conn.execute(
        select(customers.c.email).where(customers.c.id == ticket["requester_id"])
    ).scalar_one_or_none()
    body = conn.execute(select(messages.c.body).where(messages.c.id == message_id)).scalar_one()
    if not rcpt:
        return  # nobody to mail: the reply stays visible in the console only
    thread = _thread_ids(conn, ticket)
    subject = ticket["subject"]
    if not TICKET_TAG.search(subject):
        subject = f"{subject} [#{ticket['id']}]"
    if not subject.lower().startswith("re:"):
        subject = f"Re: {subject}"
    now = now_epoch()
    conn.execute(
        mail_outbox.insert().values(
            ticket_id=ticket["id"],
            message_id=message_id,
            rfc_message_id=f"<t{ticket['id']}.m{message_id}.{secrets.token_hex(6)}@{settings.domain}>",
            mail_from=settings.mail_from,
            rcpt_to=rcpt,
            subject=subject,
            in_reply_to=thread[-1] if thread else None,
            refs=" ".join(_trim(thread)) or None,
            body=body,
            state="queued",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )


def _thread_ids(conn: Connection, ticket: RowMapping) -> list[str]:
    """Every Message-ID of the ticket's mail thread, oldest first."""
    received = conn.execute(
        select(messages.c.id, messages.c.external_id).where(
            messages.c.ticket_id == ticket["id"],
            messages.c.channel == "email",
            messages.c.external_id.is_not(None),
        )
    ).all()
    sent = conn.execute(
        select(mail_outbox.c.message_id, mail_outbox.c.rfc_message_id).where(
            mail_outbox.c.ticket_id == ticket["id"]
        )
    ).all()
    ordered = sorted([*received, *sent], key=lambda row: row[0])  # message ids grow in time
    ids = [row[1] for row in ordered]
    first = ticket["thread_key"]
    if first and first not in ids:
        ids.insert(0, first)
    return ids


def _trim(ids: list[str]) -> list[str]:
    if len(ids) <= MAX_REFERENCES:
        return ids
    return [ids[0], *ids[-(MAX_REFERENCES - 1) :]]  # keep the root and the newest


def build_message(row: RowMapping | dict[str, Any], settings: MailSettings) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = formataddr((settings.from_name, row["mail_from"]))
    mail["To"] = row["rcpt_to"]
    mail["Subject"] = row["subject"]
    mail["Message-ID"] = row["rfc_message_id"]
    mail["Date"] = formatdate(row["created_at"], usegmt=True)
    if row["in_reply_to"]:
        mail["In-Reply-To"] = row["in_reply_to"]
    if row["refs"]:
        mail["References"] = row["refs"]
    mail.set_content(row["body"], charset="utf-8")
    return mail


class MailSender(Periodic):
    """Drain the outbox every `every` seconds (in every process; leases keep it once)."""

    def __init__(self, engine: Engine, settings: MailSettings, every: float = 1.0) -> None:
        super().__init__("mail", self.drain, every)
        self.engine, self.settings = engine, settings

    def drain(self) -> int:
        """Send what is due; the number of delivery events written (each nudges clients)."""
        events = 0
        for row in self._lease():
            try:
                self._send(row)
            except (OSError, smtplib.SMTPException) as error:
                events += self._failed(row, error)
            else:
                events += self._sent(row)
        return events

    def _lease(self) -> list[dict[str, Any]]:
        now = now_epoch()
        with write_tx(self.engine) as conn:
            rows = (
                conn.execute(
                    select(mail_outbox)
                    .where(mail_outbox.c.state == "queued", mail_outbox.c.next_attempt_at <= now)
                    .order_by(mail_outbox.c.next_attempt_at, mail_outbox.c.id)
                    .limit(BATCH)
                )
                .mappings()
                .all()
            )
            if rows:
                conn.execute(
                    mail_outbox.update()
                    .where(mail_outbox.c.id.in_([r["id"] for r in rows]))
                    .values(next_attempt_at=now + LEASE_SECONDS)
                )
        return [dict(r) for r in rows]

    def _send(self, row: dict[str, Any]) -> None:
        s = self.settings
        with smtplib.SMTP(s.relay_host, s.relay_port, timeout=s.timeout) as smtp:
            smtp.send_message(
                build_message(row, s), from_addr=row["mail_from"], to_addrs=[row["rcpt_to"]]
            )

    # Delivery shows in the ticket's history (field "mail", old = the reply's message id), so
    # an agent sees that a reply went out, or that the relay is refusing it, without server
    # access. Only the first failure is recorded: retries with backoff would flood the trail.

    def _sent(self, row: dict[str, Any]) -> int:
        now = now_epoch()
        with write_tx(self.engine) as conn:
            conn.execute(
                mail_outbox.update()
                .where(mail_outbox.c.id == row["id"])
                .values(state="sent", sent_at=now, attempts=row["attempts"] + 1)
            )
            self._delivery(conn, row, f"sent to {row['rcpt_to']}", now)
        return 1

    def _failed(self, row: dict[str, Any], error: Exception) -> int:
        attempts = row["attempts"] + 1
        reason = f"{type(error).__name__}: {error}"[:1000]
        now = now_epoch()
        with write_tx(self.engine) as conn:
            conn.execute(
                mail_outbox.update()
                .where(mail_outbox.c.id == row["id"])
                .values(
                    attempts=attempts,
                    last_error=reason,
                    next_attempt_at=now + backoff(self.settings, attempts),
                )
            )
            if attempts > 1:
                return 0
            self._delivery(conn, row, f"retrying: {reason}"[:300], now)
        return 1

    @staticmethod
    def _delivery(conn: Connection, row: dict[str, Any], outcome: str, now: int) -> None:
        record_event(
            conn,
            ticket_id=row["ticket_id"],
            actor=SYSTEM,
            client="smtp",
            field="mail",
            old=row["message_id"],
            new=outcome,
            at=now,
        )
