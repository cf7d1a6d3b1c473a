"""Making untrusted customer text inert before it reaches a terminal.

Customer text may carry terminal escape sequences (ESC [ ..., OSC 8 links, bells) meant to
restyle, hide or rewrite the screen. We replace every C0/C1 control character except newline
and tab with its visible Unicode control picture (ESC -> ␛), so the bytes show, never act.
Rich markup is a separate concern: callers wrap text in `rich.text.Text`, never in markup.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # U+2400.. Control Pictures: ␀ ␁ ... ␛ ...
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"\\x{code:02x}"


def inert(text: str) -> str:
    """`text` with control characters shown as symbols; newlines and tabs kept."""
    return _CONTROL.sub(_picture, text)
