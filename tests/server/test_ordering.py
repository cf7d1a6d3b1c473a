"""A poller during many concurrent writers must see every change exactly once (no skipped seq).

On PostgreSQL this is the case a plain BIGSERIAL cursor gets wrong; the server serializes
change-log writers with pg_advisory_xact_lock so seqs become visible in commit order.
"""

from __future__ import annotations

import threading
import uuid

import httpx
from sqlalchemy import select

from agentcli.server.db import read_tx
from agentcli.server.schema import change_log
from tests.server.conftest import Live

WRITERS = 8
BATCHES = 15


def test_poller_sees_every_change_exactly_once(live: Live) -> None:
    ticket_ids = [live.ticket(queue="uk") for _ in range(WRITERS)]
    done = threading.Event()
    errors: list[BaseException] = []
    seen: list[int] = []

    def writer(ticket_id: int) -> None:
        try:
            with live.client("sup") as http:
                for n in range(BATCHES):
                    batch = [
                        {
                            "client_id": str(uuid.uuid4()),
                            "type": kind,
                            "ticket_id": ticket_id,
                            "base_version": None,
                            "payload": payload,
                        }
                        for kind, payload in (
                            ("note", {"body": f"note {n}"}),
                            ("tag", {"add": [f"t{n}"]}),
                        )
                    ]
                    response = http.post("/api/v1/mutations", json={"mutations": batch})
                    assert response.status_code == 200
        except BaseException as error:
            errors.append(error)

    def poll_once(http: httpx.Client, after: int) -> int:
        page = http.get("/api/v1/changes", params={"after": after, "limit": 7}).json()
        seen.extend(change["seq"] for change in page["changes"])
        return page["next"]

    threads = [threading.Thread(target=writer, args=(t,)) for t in ticket_ids]
    with live.client("olena") as poller:
        after = 0
        for thread in threads:
            thread.start()
        while any(t.is_alive() for t in threads):
            after = poll_once(poller, after)
        for thread in threads:
            thread.join()
        done.set()
        while True:  # drain what committed after the last poll
            previous = after
            after = poll_once(poller, after)
            if after == previous:
                break
    assert not errors, errors
    with read_tx(live.engine) as conn:
        committed = list(
            conn.execute(select(change_log.c.seq).order_by(change_log.c.seq)).scalars()
        )
    assert len(seen) == len(set(seen)), "a change was delivered twice"
    assert seen == committed, "the poller skipped a change"
    # Each batch logs note(message + ticket) + tag(ticket) = 3 changes.
    assert len(committed) >= WRITERS * BATCHES * 3
