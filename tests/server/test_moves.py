"""A supervisor's move carries what they saw (`payload.expect`): the server skips it as a
conflict when an agent took the ticket or wrote on it since, and applies it otherwise."""

from __future__ import annotations

from sqlalchemy import select

from agentcli.domain.vocabulary import AuthorKind, Channel, MessageKind
from agentcli.server.db import read_tx, write_tx
from agentcli.server.records import append_message, message_values
from agentcli.server.schema import tickets
from tests.server.conftest import Live
from tests.server.test_mutations import mutation, push, snapshot


def _assignee(live: Live, ticket_id: int) -> str | None:
    with read_tx(live.engine) as conn:
        return conn.execute(
            select(tickets.c.assignee).where(tickets.c.id == ticket_id)
        ).scalar_one()


def _move(ticket: int, to: str | None, *, saw: str | None, seen_message: int) -> dict:
    expect = {"assignee": saw, "seen_message": seen_message}
    return mutation("assign", ticket, 1, assignee=to, expect=expect)


def test_move_after_an_agent_reply_is_a_conflict_not_applied(live: Live) -> None:
    ticket = live.ticket(assignee="olena")
    with live.client("olena") as http:
        [reply] = push(http, mutation("reply", ticket, 1, body="Перевіряю вашу посилку."))
    assert reply["outcome"] == "applied"
    with live.client("sup") as http:
        # The supervisor decided at version 1, before the reply (seen_message 0).
        [answer] = push(http, _move(ticket, "li", saw="olena", seen_message=0))
    assert answer["outcome"] == "conflict"
    assert "olena wrote on it since" in answer["reason"]
    assert answer["current"]["assignee"] == "olena"
    assert _assignee(live, ticket) == "olena"


def test_move_applies_when_nothing_changed_and_a_customer_message_does_not_block(
    live: Live,
) -> None:
    ticket = live.ticket(assignee="olena")
    with write_tx(live.engine) as conn:
        append_message(
            conn,
            message_values(
                ticket_id=ticket,
                kind=MessageKind.PUBLIC,
                author_kind=AuthorKind.CUSTOMER,
                author="Olena",
                channel=Channel.CHAT,
                body="Ще щось?",
            ),
        )
    with live.client("sup") as http:
        [answer] = push(http, _move(ticket, "li", saw="olena", seen_message=0))
    assert answer["outcome"] == "applied"
    assert _assignee(live, ticket) == "li"


def test_move_of_a_ticket_someone_took_meanwhile_is_a_conflict(live: Live) -> None:
    ticket = live.ticket()  # unassigned in queue uk
    with live.client("olena") as http:
        [took] = push(http, mutation("assign", ticket, 1, assignee="olena"))
    assert took["outcome"] == "applied"
    with live.client("sup") as http:
        [answer] = push(http, _move(ticket, "li", saw=None, seen_message=0))
    assert answer["outcome"] == "conflict"
    assert _assignee(live, ticket) == "olena"


def test_an_agent_bulk_moving_others_tickets_is_forbidden_and_nothing_changes(
    live: Live,
) -> None:
    mine = [live.ticket(assignee="li", queue="zh") for _ in range(3)]
    before = snapshot(live)
    with live.client("olena") as http:
        answers = push(http, *[_move(t, "olena", saw="li", seen_message=0) for t in mine])
    assert [a["outcome"] for a in answers] == ["rejected"] * 3
    assert all(a["reason"].startswith("forbidden") for a in answers)
    assert snapshot(live) == before


def test_a_reply_written_before_a_move_still_lands_a_stranger_reply_does_not(
    live: Live,
) -> None:
    ticket = live.ticket(assignee="olena")
    with live.client("sup") as http:
        [moved] = push(http, _move(ticket, "li", saw="olena", seen_message=0))
    assert moved["outcome"] == "applied"
    with live.client("olena") as http:
        # Olena wrote on version 1, while the ticket was hers: the reply is not lost.
        [reply] = push(http, mutation("reply", ticket, 1, body="Вже перевіряю."))
        assert reply["outcome"] == "applied"
        # Written after she could know (on the moved version): her queue rules apply again.
        [late] = push(http, mutation("reply", ticket, moved["version"], body="І ще одне."))
        assert late["outcome"] == "rejected" and late["reason"].startswith("forbidden")
    other = live.ticket(assignee="li", queue="zh")
    with live.client("olena") as http:
        # Never hers: a low base version does not open someone else's ticket.
        [stranger] = push(http, mutation("reply", other, 1, body="Привіт"))
    assert stranger["outcome"] == "rejected"
    assert _assignee(live, ticket) == "li"


def test_unassigned_written_as_empty_text_matches_an_expected_nobody(live: Live) -> None:
    ticket = live.ticket(assignee="")  # the demo seed writes '' for unassigned
    with live.client("sup") as http:
        [answer] = push(http, _move(ticket, "li", saw=None, seen_message=0))
    assert answer["outcome"] == "applied"
    assert _assignee(live, ticket) == "li"


def test_a_malformed_expectation_is_rejected_alone_and_names_the_field(live: Live) -> None:
    tickets_ = [live.ticket(assignee="olena") for _ in range(6)]
    bad = [
        {"assignee": "olena", "seen_message": 2**63},  # past any 64-bit id
        {"seen_message": -1},
        {"seen_message": True},
        {"seen_message": "12"},
        ["olena"],
    ]
    moves = [
        mutation("assign", ticket, 1, assignee="li", expect=expect)
        for ticket, expect in zip(tickets_, bad, strict=False)
    ]
    good = _move(tickets_[-1], "li", saw="olena", seen_message=0)
    with live.client("sup") as http:
        answers = push(http, *moves, good)  # in one batch, as a client's outbox sends them
    for answer in answers[:-1]:
        assert answer["outcome"] == "rejected"
        assert answer["reason"].startswith("invalid: payload.expect")
    assert "seen_message must be a message id" in answers[0]["reason"]
    assert "must be an object" in answers[-2]["reason"]
    assert answers[-1]["outcome"] == "applied"
    assert [_assignee(live, t) for t in tickets_] == ["olena"] * 5 + ["li"]
