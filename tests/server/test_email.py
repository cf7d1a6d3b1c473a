"""Email both ways over real SMTP on loopback: smtplib -> our aiosmtpd listener -> tickets;
agent replies -> the durable mail queue -> an aiosmtpd relay (threading headers, retries)."""

from __future__ import annotations

import email
import email.policy
import functools
import smtplib
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.header import Header
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, select

from agentcli.domain.vocabulary import Role
from agentcli.server import auth
from agentcli.server.app import create_app
from agentcli.server.db import read_tx
from agentcli.server.mail_in import SmtpListener
from agentcli.server.mail_out import MailSender, MailSettings, queue_reply
from agentcli.server.mail_parse import parse_mail
from agentcli.server.runner import ThreadedServer, start_in_thread
from agentcli.server.schema import customers, mail_outbox, messages, tickets
from agentcli.server.workflow import Workflow
from tests.server.test_mutations import mutation, push


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Relay:
    """A real SMTP relay on loopback (aiosmtpd) that keeps what it receives."""

    port: int
    received: list[EmailMessage] = field(default_factory=list)
    controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append(parsed)  # type: ignore[arg-type]
        return "250 OK"

    def start(self) -> Relay:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()

    def wait(self, count: int, timeout: float = 10) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.received) >= count, f"relay got {len(self.received)} of {count}"
        return self.received


@dataclass
class MailDesk:
    engine: Engine
    server: ThreadedServer
    smtp_port: int
    relay_port: int
    token: str

    def send(self, mail: EmailMessage | MIMEMultipart | MIMEText) -> None:
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=10) as smtp:
            smtp.send_message(mail)

    def http(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.Client(base_url=self.server.url, headers=headers, timeout=30)

    def sent_rows(self, count: int, timeout: float = 10) -> list[dict]:
        """Outbox rows once `count` are marked sent (the relay sees a mail just before)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = self.rows(mail_outbox)
            if sum(r["state"] == "sent" for r in rows) >= count:
                return rows
            time.sleep(0.05)
        raise AssertionError(f"fewer than {count} outbound mails marked sent")

    def rows(self, table: Any) -> list[dict]:
        with read_tx(self.engine) as conn:
            return [dict(r) for r in conn.execute(select(table)).mappings()]


@pytest.fixture
def desk(engine: Engine) -> Iterator[MailDesk]:
    smtp_port, relay_port = free_port(), free_port()
    settings = MailSettings(
        "127.0.0.1", relay_port, mail_from="help@shop.example", backoff_base=1.0
    )
    workflow = Workflow(queue_reply=functools.partial(queue_reply, settings))
    services = [
        SmtpListener(engine, workflow, "127.0.0.1", smtp_port, queue="mail"),
        MailSender(engine, settings, every=0.2),
    ]
    token = auth.add_agent(engine, "sup", Role.SUPERVISOR)
    app = create_app(engine, workflow=workflow, background=services)
    server = start_in_thread(app)
    yield MailDesk(engine, server, smtp_port, relay_port, token)
    server.stop()


def plain(
    subject: str,
    body: str,
    *,
    sender: str = "Olena <olena@example.com>",
    charset: str = "utf-8",
    **headers: str,
) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = "help@shop.example"
    mail["Subject"] = subject
    mail["Message-ID"] = f"<{uuid.uuid4().hex}@example.com>"
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content(body, charset=charset)
    return mail


def test_mail_opens_a_ticket_and_replies_thread_both_ways(desk: MailDesk) -> None:
    relay = Relay(desk.relay_port).start()
    try:
        first = plain("Посилка не прийшла", "Добрий день! Де моє замовлення №1042?")
        desk.send(first)
        [ticket] = desk.rows(tickets)
        assert ticket["channel"] == "email" and ticket["queue"] == "mail"
        assert ticket["subject"] == "Посилка не прийшла" and ticket["language"] == "uk"
        assert ticket["thread_key"] == first["Message-ID"]
        [customer] = desk.rows(customers)
        assert customer["email"] == "olena@example.com" and customer["name"] == "Olena"

        with desk.http() as http:
            [reply] = push(http, mutation("reply", ticket["id"], None, body="Вже перевіряємо."))
        assert reply["outcome"] == "applied"
        [sent] = relay.wait(1)
        assert sent["To"] == "olena@example.com"
        assert sent["Subject"] == f"Re: Посилка не прийшла [#{ticket['id']}]"
        assert sent["In-Reply-To"] == first["Message-ID"]
        assert sent["References"] == first["Message-ID"]
        assert sent.get_content().strip() == "Вже перевіряємо."
        [queued] = desk.sent_rows(1)
        assert queued["rfc_message_id"] == sent["Message-ID"]

        # The customer answers our mail (In-Reply-To only): threaded, same customer.
        answer = plain("Re: Посилка", "Дякую!", In_Reply_To=sent["Message-ID"])
        desk.send(answer)
        # A client that dropped every header but kept [#id] in the subject: threaded too.
        desk.send(plain(f"Re: [#{ticket['id']}]", "Ще одне питання"))
        assert len(desk.rows(tickets)) == 1 and len(desk.rows(customers)) == 1
        bodies = [m["body"] for m in desk.rows(messages) if m["author_kind"] == "customer"]
        assert bodies == ["Добрий день! Де моє замовлення №1042?", "Дякую!", "Ще одне питання"]

        with desk.http() as http:
            push(http, mutation("reply", ticket["id"], None, body="Відправили повторно."))
        second = relay.wait(2)[1]
        # The newest known message is answered; References carry the thread oldest first.
        assert second["In-Reply-To"] != first["Message-ID"]
        refs = second["References"].split()
        assert refs[0] == first["Message-ID"] and sent["Message-ID"] in refs
        assert answer["Message-ID"] in refs
        # Resending the same mail (an MTA retry) stores nothing new.
        before = len(desk.rows(messages))
        desk.send(answer)
        assert len(desk.rows(messages)) == before
    finally:
        relay.stop()


def test_a_dead_relay_never_loses_the_reply(desk: MailDesk) -> None:
    desk.send(plain("Where is my order?", "Tracking has not moved for a week."))
    [ticket] = desk.rows(tickets)
    with desk.http() as http:
        push(http, mutation("reply", ticket["id"], None, body="Looking into it."))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the relay port is closed: attempts fail and back off
        [row] = desk.rows(mail_outbox)
        if row["attempts"] >= 1:
            break
        time.sleep(0.05)
    assert row["state"] == "queued" and row["last_error"] and "Connection" in row["last_error"]
    relay = Relay(desk.relay_port).start()  # the relay comes back
    try:
        [sent] = relay.wait(1, timeout=15)
        assert sent["Subject"] == f"Re: Where is my order? [#{ticket['id']}]"
        [row] = desk.sent_rows(1)
        assert row["attempts"] >= 2 and row["sent_at"]
    finally:
        relay.stop()
    # The ticket's history tells agents both: the relay refused it once, then it went out.
    with desk.http() as http:
        feed = http.get("/api/v1/changes").json()["changes"]
    delivery = [c["data"] for c in feed if c["kind"] == "event" and c["data"]["field"] == "mail"]
    assert [(d["actor"], d["client"], d["old"]) for d in delivery] == [
        ("system", "smtp", str(row["message_id"]))
    ] * 2
    assert delivery[0]["new"].startswith("retrying: ") and "Connection" in delivery[0]["new"]
    assert delivery[1]["new"] == "sent to olena@example.com"


def test_mime_structures_and_charsets(desk: MailDesk) -> None:
    # GB2312 plain text beside an HTML alternative: the plain part wins, decoded properly.
    gb = MIMEMultipart("alternative")
    gb["From"] = formataddr(("王芳", "wangfang@example.cn"), charset="gb2312")
    gb["Subject"] = Header("快递三天没更新", "gb2312")
    gb["Message-ID"] = "<gb-1@example.cn>"
    gb["To"] = big5_to = "help@shop.example"
    gb.attach(MIMEText("我的快递三天没更新了，想申请退款。", "plain", "gb2312"))
    gb.attach(MIMEText("<p>HTML 版本</p>", "html", "gb2312"))
    desk.send(gb)
    # Big5, HTML only: stripped to text.
    big5 = MIMEText(
        "<html><head><style>p{}</style></head><body><p>請問這個商品還有貨嗎？</p>"
        "<p>謝謝&amp;祝好</p></body></html>",
        "html",
        "big5",
    )
    big5["From"] = "chen@example.tw"
    big5["Subject"] = Header("詢問庫存", "big5")
    big5["Message-ID"] = "<big5-1@example.tw>"
    big5["To"] = big5_to
    desk.send(big5)
    # KOI8-U plain text.
    desk.send(
        plain(
            "Повернення",
            "Хочу повернути ґудзик і їжачка.",
            charset="koi8-u",
            sender="taras@example.ua",
        )
    )
    rows = {t["subject"]: t for t in desk.rows(tickets)}
    bodies = {m["ticket_id"]: m["body"] for m in desk.rows(messages)}
    assert bodies[rows["快递三天没更新"]["id"]] == "我的快递三天没更新了，想申请退款。"
    assert rows["快递三天没更新"]["language"] == "zh-CN"
    assert bodies[rows["詢問庫存"]["id"]] == "請問這個商品還有貨嗎？\n\n謝謝&祝好"
    assert rows["詢問庫存"]["language"] == "zh-TW"
    assert bodies[rows["Повернення"]["id"]] == "Хочу повернути ґудзик і їжачка."
    names = {c["email"]: c["name"] for c in desk.rows(customers)}
    assert names["wangfang@example.cn"] == "王芳"


def test_a_mail_without_sender_is_refused_with_550(desk: MailDesk) -> None:
    mail = plain("hi", "no sender", sender="nobody")
    with (
        smtplib.SMTP("127.0.0.1", desk.smtp_port, timeout=10) as smtp,
        pytest.raises(smtplib.SMTPDataError) as refused,
    ):
        smtp.sendmail("x@example.com", ["help@shop.example"], mail.as_bytes())
    assert refused.value.smtp_code == 550
    assert desk.rows(tickets) == []


def test_gbk_characters_in_gb2312_labelled_mail_survive() -> None:
    # 镕 is in GBK but not GB2312; clients still label such mail gb2312.
    raw = (
        b"From: a@example.cn\r\nSubject: x\r\nContent-Type: text/plain; charset=gb2312\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + "朱镕基".encode("gbk")
    )
    assert parse_mail(raw, fallback_id="<x@y>").text == "朱镕基"


def test_concurrent_mail_from_many_senders(desk: MailDesk) -> None:
    def send(n: int) -> None:
        desk.send(plain(f"Order {n}", f"Question {n}", sender=f"c{n}@example.com"))

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(desk.rows(tickets)) == 8 and len(desk.rows(customers)) == 8
