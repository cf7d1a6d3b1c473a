"""Shared by the differential tests of set-based push paths (test_push_runs,
test_move_runs): two stores on one backend under one clock, dumped and compared.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import Engine, select

from agentcli.server.db import read_tx
from agentcli.server.schema import (
    applied_mutations,
    change_log,
    mail_outbox,
    messages,
    ticket_events,
    tickets,
)

NOW = 1_790_000_000  # the pinned clock (conftest's `pinned`)
TABLES = [tickets, messages, change_log, ticket_events, applied_mutations, mail_outbox]


def dump(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every row a push writes, by table, in key order."""
    with read_tx(engine) as conn:
        return {
            table.name: [dict(r) for r in conn.execute(select(table).order_by(*table.primary_key))
                         .mappings()]
            for table in TABLES
        }  # fmt: skip


def renumbered(answers: list[dict[str, Any]], dump: dict[str, list[dict[str, Any]]]) -> Any:
    """Answers and tables with message and event ids, seqs and outbox ids replaced by their
    rank, wherever they appear.
    """
    rank = {
        table: {old: new for new, old in enumerate(sorted(row[key] for row in dump[table]), 1)}
        for table, key in (("messages", "id"), ("ticket_events", "id"), ("change_log", "seq"),
                           ("mail_outbox", "id"))
    }  # fmt: skip
    message, event, seq = rank["messages"], rank["ticket_events"], rank["change_log"]

    def fix_answer(a: dict[str, Any]) -> dict[str, Any]:
        return a | {k: rank[t][a[k]] for k, t in (("seq", "change_log"), ("message_id", "messages"))
                    if a.get(k) is not None}  # fmt: skip

    def fix_event(e: dict[str, Any]) -> dict[str, Any]:
        new = str(message[int(e["new"])]) if e["field"] in ("reply", "note") else e["new"]
        return e | {"id": event[e["id"]], "new": new}

    def fix_mail_ids(text: str | None) -> str | None:
        return text and re.sub(r"\.m(\d+)\.", lambda m: f".m{message[int(m[1])]}.", text)

    def fix_change(c: dict[str, Any]) -> dict[str, Any]:
        data, entity = json.loads(c["payload"]), c["entity_id"]
        if c["kind"] == "message":
            data["id"] = message[data["id"]]
        elif c["kind"] == "event":
            data = fix_event(data)
        if c["kind"] in ("message", "event"):
            entity = str(data["id"])
        return c | {"seq": seq[c["seq"]], "entity_id": entity, "payload": data}

    return (
        [fix_answer(a) for a in answers],
        dump["tickets"],
        [m | {"id": message[m["id"]]} for m in dump["messages"]],
        [fix_event(e) for e in dump["ticket_events"]],
        [fix_change(c) for c in dump["change_log"]],
        [r | {"result": fix_answer(json.loads(r["result"]))} for r in dump["applied_mutations"]],
        [o | {"id": rank["mail_outbox"][o["id"]], "message_id": message[o["message_id"]]}
         | {k: fix_mail_ids(o[k]) for k in ("rfc_message_id", "in_reply_to", "refs")}
         for o in dump["mail_outbox"]],
    )  # fmt: skip
