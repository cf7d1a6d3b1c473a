"""Locale-aware formatting behind the Liquid filters `money`, `local_date` and `term`.

Pure functions of (value, locale); render.py binds them into each locale's environment.
We name the date filter `local_date` and leave Liquid's builtin `date` (strftime) untouched,
so a template author who knows Shopify's `date` gets what they expect.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from agentcli.macros.chinese import to_traditional
from agentcli.macros.model import Term

# Currency -> symbol; a currency not here is written by its ISO code.
CURRENCY_SYMBOLS = {"CNY": "¥", "RMB": "¥", "TWD": "NT$", "UAH": "₴", "USD": "$"}
# Currency a bare number is in when neither it nor the order says.
LOCALE_CURRENCY = {"zh-CN": "CNY", "zh-TW": "TWD", "uk": "UAH", "en": "USD"}
# Currencies customers see without minor units (NT$1,200, not NT$1,200.00).
WHOLE_UNITS = frozenset({"TWD", "JPY"})
# Time zone a date is shown in when the shop sets none: the customer locale's home zone.
LOCALE_ZONE = {"zh-CN": "Asia/Shanghai", "zh-TW": "Asia/Taipei", "uk": "Europe/Kyiv", "en": "UTC"}

_EN_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
# Ukrainian dates take the genitive month: 3 травня 2025 р.
_UK_MONTHS = [
    "січня",
    "лютого",
    "березня",
    "квітня",
    "травня",
    "червня",
    "липня",
    "серпня",
    "вересня",
    "жовтня",
    "листопада",
    "грудня",
]
_NBSP = "\u00a0"  # keeps "1 234,50 ₴" on one line in chat bubbles


def to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(f"not an amount: {value!r}")
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return amount


def format_money(value: Any, locale: str, currency: str | None = None) -> str:
    """`{amount, currency}` or a bare number (in `currency`, else the locale's) as customers
    in `locale` write money: ¥1,234.50 · NT$1,235 · $1,234.50 · 1 234,50 ₴."""
    if isinstance(value, Mapping):
        currency = str(value.get("currency") or currency or "")
        value = value.get("amount")
    amount = to_decimal(value)
    currency = (currency or LOCALE_CURRENCY.get(locale, "USD")).upper()
    places = 0 if currency in WHOLE_UNITS else 2
    number = f"{abs(amount):,.{places}f}"
    sign = "-" if amount < 0 else ""
    symbol = CURRENCY_SYMBOLS.get(currency)
    if locale == "uk":
        number = number.replace(",", _NBSP).replace(".", ",")
        return f"{sign}{number}{_NBSP}{symbol or currency}"
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{currency} {number}"


def to_datetime(value: Any) -> datetime | date:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return datetime.fromtimestamp(int(text), UTC)
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"not a date: {value!r}") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    raise ValueError(f"not a date: {value!r}")


def format_date(value: Any, locale: str, zone: str | None = None) -> str:
    """The calendar date in the shop's zone (else the locale's): 2025年5月3日 · May 3, 2025 ·
    3 травня 2025 р."""
    moment = to_datetime(value)
    if isinstance(moment, datetime):
        try:
            moment = moment.astimezone(ZoneInfo(zone or LOCALE_ZONE.get(locale, "UTC")))
        except (ZoneInfoNotFoundError, ValueError):
            moment = moment.astimezone(UTC)  # no tz database: UTC beats failing
    day, month, year = moment.day, moment.month, moment.year
    if locale in ("zh-CN", "zh-TW"):
        return f"{year}年{month}月{day}日"
    if locale == "uk":
        return f"{day} {_UK_MONTHS[month - 1]} {year} р."
    return f"{_EN_MONTHS[month - 1]} {day}, {year}"


def term_form(term: Term, locale: str) -> str:
    """The term as written in `locale`; zh-TW from zh-CN via OpenCC when not given."""
    if form := term.forms.get(locale):
        return form
    if locale == "zh-TW" and "zh-CN" in term.forms:
        return to_traditional(term.forms["zh-CN"])
    return term.forms.get("en") or term.id
