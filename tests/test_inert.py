"""Customer text reaching a terminal shows escape sequences, never runs them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from agentcli.domain.inert import inert


def test_escape_sequences_become_visible() -> None:
    hostile = "退款\x1b[2J\x1b]8;;http://evil\x07click\x1b]8;;\x07\x9b31m"
    shown = inert(hostile)
    assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown
    assert shown.startswith("退款␛[2J␛]8;;http://evil␇click")


def test_newlines_tabs_and_markup_text_stay_as_typed() -> None:
    assert inert("第一行\n\tдругий [bold]рядок[/bold]") == "第一行\n\tдругий [bold]рядок[/bold]"


@given(st.text())
def test_no_control_character_survives(text: str) -> None:
    shown = inert(text)
    assert not any((ord(c) < 0x20 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F for c in shown)
