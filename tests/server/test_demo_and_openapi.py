"""`serve --demo` seeding; the OpenAPI document checked by schemathesis on a live server."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from sqlalchemy import Engine, func, select

from agentcli.server.db import read_tx
from agentcli.server.demo_seed import seed_demo
from agentcli.server.schema import change_log, tickets
from tests.server.conftest import Live


def test_demo_seeds_an_empty_store_once(engine: Engine) -> None:
    report = seed_demo(engine, ticket_count=50)
    assert "seeded 50 tickets" in report and "acli_" in report
    with read_tx(engine) as conn:
        assert conn.execute(select(func.count()).select_from(tickets)).scalar_one() == 50
        logged = conn.execute(
            select(func.count()).select_from(change_log).where(change_log.c.kind == "ticket")
        ).scalar_one()
        assert logged == 50
    assert "nothing seeded" in seed_demo(engine, ticket_count=50)


def test_openapi_is_clean_under_schemathesis(live: Live) -> None:
    if "postgres" in str(live.engine.url):
        return  # the API surface is the same; one backend keeps the suite fast
    live.ticket(queue="uk")
    schema = schemathesis.openapi.from_url(
        f"{live.url}/api/v1/openapi.json",
        headers={"Authorization": f"Bearer {live.tokens['admin']}"},
    )
    failures: list[str] = []
    for operation in schema.get_all_operations():
        op = operation.ok()
        if op.path.endswith("/events"):
            continue  # an endless stream: covered by the SSE test

        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers={"Authorization": f"Bearer {live.tokens['admin']}"})

        try:
            given(op.as_strategy())(check)()
        except Exception as error:  # collect every operation's problem, then report all
            failures.append(f"{op.method.upper()} {op.path}: {error}")
    assert not failures, "\n\n".join(failures)
