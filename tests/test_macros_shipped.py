"""The shipped library (`macros/`): lints without errors and renders in every locale."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from agentcli.macros.context import build_context
from agentcli.macros.lint import lint
from agentcli.macros.loader import load_roots
from agentcli.macros.model import LOCALES, Severity
from agentcli.macros.preview import preview, to_mutations
from agentcli.macros.render import Renderer
from agentcli.macros.schema import ANY, CONTEXT_SCHEMA

SHIPPED = Path(__file__).resolve().parents[1] / "macros"
pytestmark = pytest.mark.skipif(
    not any(SHIPPED.rglob("*.toml")), reason="no shipped macros in macros/ yet"
)


def demo_context(locale: str, case_type: str | None = None) -> dict:
    """A ticket with every field of the context schema filled in."""
    currency = {"zh-CN": "CNY", "zh-TW": "TWD", "uk": "UAH", "en": "USD"}[locale]
    moment = int(datetime(2025, 5, 3, 8, tzinfo=UTC).timestamp())
    return build_context(
        {
            "id": 42,
            "subject": "Order question",
            "status": "open",
            "priority": 2,
            "channel": "email",
            "queue": "after-sale",
            "language": locale,
            "tags": '["vip"]',
            "case_type": case_type,
            "case_state": "requested" if case_type else None,
        },
        {"name": "Olena", "tier": "gold", "locale": locale, "email": "o@example.com"},
        {
            "number": "SO-2025-0042",
            "items": '[{"sku": "CUP-1", "title": "Cup", "quantity": 2, "unit_price": "19.90"}]',
            "total": "39.80",
            "currency": currency,
            "placed_at": moment - 86400 * 3,
            "carrier": "SF Express",
            "tracking_number": "SF1234567890",
            "shipped_at": moment - 86400,
            "delivered_at": moment,
        },
        {"login": "li", "name": "Li"},
        {
            "name": "Demo Shop",
            "support_hours": "09:00-21:00",
            "return_address": "1 Demo Road, Shanghai",
            "return_window_days": 7,
            "refund_days": 3,
        },
    )


def test_shipped_library_lints_without_errors() -> None:
    errors = [p for p in lint([SHIPPED]) if p.severity == Severity.ERROR]
    assert errors == [], "\n".join(str(p) for p in errors)


def test_shipped_library_loads_every_file() -> None:
    library = load_roots([("shipped", SHIPPED)])
    assert library.problems == []
    assert library.macros and library.terms


def _vars_used(renderer: Renderer, macro, locale: str) -> dict[str, str]:
    """A value for every `vars.x` the macro (and its includes) uses."""
    template = renderer.template(macro, locale)
    names = {
        str(var.segments[1])
        for var in template.analyze(include_partials=True).globals.get("vars", [])
        if len(var.segments) > 1
    }
    assert CONTEXT_SCHEMA["vars"] == ANY
    return {name: "100" for name in names}


@pytest.mark.parametrize("locale", LOCALES)
def test_every_shipped_macro_renders_for_a_demo_ticket(locale: str) -> None:
    library = load_roots([("shipped", SHIPPED)])
    renderer = Renderer(library.macros, library.terms)
    failures = []
    for macro in library.macros.values():
        case_types = {a.case_type for a in macro.actions if a.type == "set-case"} - {None}
        context = demo_context(locale, next(iter(case_types), None))
        result = preview(
            macro, context, locale, _vars_used(renderer, macro, locale), renderer=renderer
        )
        if result.missing_vars:
            failures.append(f"{macro.id}: missing {', '.join(result.missing_vars)}")
            continue
        if not macro.snippet:
            assert result.text and result.text.strip(), macro.id
        if locale == "zh-TW":
            assert "为" not in (result.text or "") and "们" not in (result.text or ""), macro.id
        if not result.errors:
            to_mutations(result, 42, 1, "li")
    assert failures == [], "\n".join(failures)
