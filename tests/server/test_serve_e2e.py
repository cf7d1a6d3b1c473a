"""The issue's "done when", end to end through the real `agentcli serve` process:
agents created by the CLI, mail to the SMTP port becomes a ticket, a signed webhook becomes a
ticket (auto-assigned), replies go out through an SMTP relay, a supervisor reassigns."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage

import httpx
import pytest
from click.testing import CliRunner

from agentcli.cli.main import main
from tests.server.test_email import Relay, free_port
from tests.server.test_live_and_webhooks import signed
from tests.server.test_mutations import mutation, push

SECRET = "e2e-chat-secret"


@pytest.fixture
def served(db_url: str) -> Iterator[dict]:
    runner = CliRunner()
    tokens = {}
    for login, role, extra in (
        ("ivan", "agent", ["--languages", "uk,en", "--queues", "general"]),
        ("marta", "agent", ["--languages", "uk", "--queues", "general"]),
        ("boss", "supervisor", []),
    ):
        result = runner.invoke(
            main, ["serve", "agents", "add", login, "--role", role, "--db", db_url, *extra]
        )
        assert result.exit_code == 0, result.output
        tokens[login] = result.output.strip().splitlines()[0]
    port, smtp, relay = free_port(), free_port(), free_port()
    command = [
        sys.executable, "-c", "from agentcli.cli.main import main; main()",
        "serve", "--db", db_url, "--port", str(port), "--smtp-port", str(smtp),
        "--smtp-relay", f"127.0.0.1:{relay}", "--mail-from", "help@shop.example",
        "--webhook-secret", f"chat={SECRET}", "--auto-assign", "general",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=os.environ.copy()
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/api/v1/health").status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise AssertionError(process.communicate()[0].decode())
        time.sleep(0.1)
    try:
        yield {"url": url, "smtp": smtp, "relay": relay, "tokens": tokens}
    finally:
        process.terminate()
        process.wait(10)


def client(served: dict, login: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {served['tokens'][login]}"}
    return httpx.Client(base_url=served["url"], headers=headers, timeout=30)


def tickets(http: httpx.Client) -> dict[int, dict]:
    found, after = {}, 0
    while True:
        page = http.get("/api/v1/changes", params={"after": after}).json()
        found |= {c["data"]["id"]: c["data"] for c in page["changes"] if c["kind"] == "ticket"}
        after = page["next"]
        if not page["more"]:
            return found


def test_done_when(served: dict) -> None:
    import smtplib

    relay = Relay(served["relay"]).start()
    try:
        mail = EmailMessage()
        mail["From"], mail["To"] = "Olena <olena@example.com>", "help@shop.example"
        mail["Subject"], mail["Message-ID"] = "Де посилка?", f"<{uuid.uuid4().hex}@example.com>"
        mail.set_content("Замовлення №1042 не прийшло.")
        with smtplib.SMTP("127.0.0.1", served["smtp"], timeout=10) as smtp:
            smtp.send_message(mail)
        body = {
            "external_id": "wa-1",
            "thread_id": "wa-conv-1",
            "customer": {"name": "Taras", "handle": "taras"},
            "text": "Привіт, де мій трек-номер?",
            "language": "uk",
        }
        raw, headers = signed(body, SECRET)
        hooked = httpx.post(f"{served['url']}/api/v1/inbound/chat", content=raw, headers=headers)
        assert hooked.status_code == 202, hooked.text
        with client(served, "boss") as boss:
            seen = tickets(boss)
        by_channel = {t["channel"]: t for t in seen.values()}
        email_ticket, chat_ticket = by_channel["email"], by_channel["chat"]
        # Auto-assigned round-robin across the two Ukrainian speakers; SLA clocks running.
        assert {email_ticket["assignee"], chat_ticket["assignee"]} == {"ivan", "marta"}
        assert email_ticket["first_reply_due"] and chat_ticket["resolution_due"]
        owner = email_ticket["assignee"]
        with client(served, owner) as http:
            [reply] = push(http, mutation("reply", email_ticket["id"], None, body="Шукаємо."))
        assert reply["outcome"] == "applied"
        [sent] = relay.wait(1, timeout=15)
        assert sent["In-Reply-To"] == mail["Message-ID"]
        assert f"[#{email_ticket['id']}]" in sent["Subject"]
        other = "marta" if owner == "ivan" else "ivan"
        with client(served, other) as http:  # not theirs: rejected, nothing changed
            [denied] = push(http, mutation("assign", email_ticket["id"], None, assignee=other))
        assert denied["outcome"] == "rejected"
        with client(served, "boss") as boss:
            [moved] = push(boss, mutation("assign", email_ticket["id"], None, assignee=other))
            assert moved["outcome"] == "applied"
            assert tickets(boss)[email_ticket["id"]]["assignee"] == other
            assert json.dumps(boss.get("/api/v1/me").json())
    finally:
        relay.stop()
