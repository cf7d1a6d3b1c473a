"""Simplified -> Traditional (Taiwan) conversion, so zh-TW customers never get Simplified text.

`s2twp` also swaps mainland words for Taiwanese ones (软件 -> 軟體, 信息 -> 資訊), which a
character-only conversion would miss. Building the converter loads dictionaries (~50 ms), so
it is made once, on first use; conversions are memoised because the same bodies and titles
are converted again and again.
"""

from __future__ import annotations

from functools import cache, lru_cache

from opencc import OpenCC


@cache
def _converter() -> OpenCC:
    return OpenCC("s2twp")


@lru_cache(maxsize=4096)
def to_traditional(text: str) -> str:
    return _converter().convert(text) if text else text


@cache
def _to_simplified() -> OpenCC:
    return OpenCC("tw2sp")


@lru_cache(maxsize=1024)
def to_simplified(text: str) -> str:
    """Traditional (Taiwan) -> Simplified, for matching a zh-TW query against zh-CN text."""
    return _to_simplified().convert(text) if text else text


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for char in text)
