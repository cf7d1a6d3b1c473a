"""Macro library: loading, rendering, preview/mutations, lint, glossary, picker, suggest."""

from __future__ import annotations

import shutil
import textwrap
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from agentcli.domain.mutations import MutationType
from agentcli.macros.context import build_context
from agentcli.macros.filters import format_date, format_money
from agentcli.macros.glossary import Glossary
from agentcli.macros.lint import lint
from agentcli.macros.loader import load_library, load_roots
from agentcli.macros.model import MacroError
from agentcli.macros.picker import MacroIndex, search_macros
from agentcli.macros.preview import preview, to_mutations
from agentcli.macros.render import Renderer
from agentcli.macros.suggest import suggest

FIXTURES = Path(__file__).parent / "fixtures" / "macros" / "basic"
# Characters that exist only in Simplified Chinese (their Traditional forms differ).
SIMPLIFIED_ONLY = set("们这说还为发货订单联系请问经过时间退货运费实际处理东车买卖后复")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


MINIMAL = """
id = "{id}"
category = "test/{id}"
[title]
zh-CN = "标题"
en = "{title}"
uk = "Заголовок"
[body]
zh-CN = "中文 {id}"
en = "English {id}"
uk = "Українська {id}"
"""


def context(**overrides: object) -> dict:
    ticket = {
        "id": 7,
        "subject": "退款",
        "status": "open",
        "priority": 1,
        "channel": "chat",
        "queue": "after-sale",
        "language": "zh-CN",
        "tags": '["vip"]',
        "case_type": None,
        "case_state": None,
        "version": 3,
    }
    ticket.update(overrides)
    order = {
        "number": "SO-1001",
        "items": '[{"sku": "A1", "title": "保温杯", "quantity": 1, "unit_price": "99.00"}]',
        "total": "1234.50",
        "currency": "CNY",
        "placed_at": 1_746_000_000,
        "carrier": "顺丰",
        "tracking_number": "SF123",
        "shipped_at": int(datetime(2025, 5, 3, 20, 0, tzinfo=UTC).timestamp()),
    }
    return build_context(
        ticket,
        {"name": "王小明", "tier": "gold", "locale": "zh-CN", "email": "w@example.com"},
        order,
        {"login": "li", "name": "小李"},
        {"name": "好物小店", "return_address": "上海市 1 号", "support_hours": "9-21"},
    )


@pytest.fixture(scope="module")
def library():
    return load_library(shipped=FIXTURES, personal=None)


@pytest.fixture(scope="module")
def renderer(library):
    return Renderer(library.macros, library.terms)


# --- Loading -------------------------------------------------------------------------------


def test_personal_overrides_shared_overrides_shipped(tmp_path: Path) -> None:
    for layer in ("shipped", "shared", "personal"):
        write(tmp_path / layer / "a" / "x.toml", MINIMAL.format(id="x", title=layer))
    write(tmp_path / "shipped" / "a" / "y.toml", MINIMAL.format(id="y", title="shipped"))
    write(tmp_path / "shared" / "a" / "y.toml", MINIMAL.format(id="y", title="shared"))
    library = load_library(
        shipped=tmp_path / "shipped", shared=tmp_path / "shared", personal=tmp_path / "personal"
    )
    assert library.macros["x"].title["en"] == "personal"
    assert library.macros["x"].source == "personal"
    assert library.macros["y"].title["en"] == "shared"
    assert library.problems == []


def test_broken_file_is_skipped_and_named_with_line(tmp_path: Path) -> None:
    write(tmp_path / "a" / "good.toml", MINIMAL.format(id="good", title="Good"))
    bad = write(tmp_path / "a" / "bad.toml", 'id = "bad"\ncategory = "x"\ntags = [\n"a",,\n]\n')
    library = load_roots([("shipped", tmp_path)])
    assert list(library.macros) == ["good"]
    [problem] = library.problems
    assert problem.file == str(bad)
    assert problem.line == 4
    assert str(problem).startswith(f"{bad}:4:")


def test_missing_field_skips_file_with_position(tmp_path: Path) -> None:
    bad = write(tmp_path / "a" / "nobody.toml", 'id = "x"\ncategory = "c"\n[title]\nen = "t"\n')
    library = load_roots([("shipped", tmp_path)])
    assert library.macros == {}
    assert any("missing [body]" in p.message and p.file == str(bad) for p in library.problems)


# --- Rendering -----------------------------------------------------------------------------


def test_render_every_locale_with_include_and_filters(library, renderer) -> None:
    ctx = context()
    ctx["vars"] = {"refund_amount": "99"}
    zh = renderer.render(library.macros["refund-approved"], ctx, "zh-CN").text
    assert zh is not None
    assert "王小明" in zh and "仅退款" in zh and "¥99.00" in zh and "小李" in zh
    en = renderer.render(library.macros["order-shipped"], ctx, "en").text
    assert "¥1,234.50" in en and "May 4, 2025" not in en  # en dates are shown in UTC
    assert "May 3, 2025" in en
    uk = renderer.render(library.macros["order-shipped"], ctx, "uk").text
    assert "1\u00a0234,50\u00a0₴" not in uk and "1\u00a0234,50\u00a0¥" in uk
    assert "3 травня 2025 р." in uk


def test_missing_variables_all_reported_and_nothing_rendered(library, renderer) -> None:
    ctx = build_context({"id": 1, "language": "en"})
    result = renderer.render(library.macros["order-shipped"], ctx, "en")
    assert result.text is None
    assert set(result.missing) == {
        "customer.name",
        "order.number",
        "order.total",
        "order.shipped_at",
        "order.carrier",
        "order.tracking_number",
    }


def test_missing_var_in_include_and_vars_named(library, renderer) -> None:
    ctx = context()
    result = preview(library.macros["refund-approved"], ctx, "en", {}, renderer=renderer)
    assert result.text is None
    assert result.missing_vars == ("vars.refund_amount",)
    with pytest.raises(MacroError, match=r"vars\.refund_amount"):
        to_mutations(result, 7, 3, "li")


def test_zh_tw_from_opencc_has_no_simplified_only_characters(library, renderer) -> None:
    ctx = context(language="zh-TW")
    text = renderer.render(library.macros["order-shipped"], ctx, "zh-TW").text
    assert text is not None
    assert "訂單" in text and "軟體" in text  # s2twp: 软件 -> 軟體
    template_chars = set(text) - set("王小明顺丰")  # customer data is left as the shop wrote it
    assert not (template_chars & SIMPLIFIED_ONLY)
    assert "NT$" not in text  # the order is in CNY, whatever the locale


@pytest.mark.parametrize(
    ("value", "locale", "currency", "expected"),
    [
        ({"amount": Decimal("1234.5"), "currency": "CNY"}, "zh-CN", None, "¥1,234.50"),
        ("1200", "zh-TW", None, "NT$1,200"),
        ("1234.5", "uk", None, "1\u00a0234,50\u00a0₴"),
        ("1234.5", "en", None, "$1,234.50"),
        ("-5", "en", "EUR", "-EUR 5.00"),
    ],
)
def test_money_per_locale(value, locale, currency, expected) -> None:
    assert format_money(value, locale, currency) == expected


def test_money_rejects_non_amounts() -> None:
    with pytest.raises(ValueError, match="not an amount"):
        format_money("abc", "en")


def test_local_date_per_locale() -> None:
    moment = datetime(2025, 5, 3, 20, 0, tzinfo=UTC)  # 4 May in Shanghai and Taipei
    assert format_date(moment, "zh-CN") == "2025年5月4日"
    assert format_date(moment, "zh-TW") == "2025年5月4日"
    assert format_date(moment, "en") == "May 3, 2025"
    assert format_date(moment, "uk") == "3 травня 2025 р."
    assert format_date("2025-01-31", "en") == "January 31, 2025"


def test_sandbox_limits_loops(tmp_path: Path) -> None:
    write(
        tmp_path / "a" / "loop.toml",
        MINIMAL.format(id="loop", title="L").replace(
            'en = "English loop"', 'en = "{% for i in (1..100000) %}x{% endfor %}"'
        ),
    )
    library = load_roots([("shipped", tmp_path)])
    renderer = Renderer(library.macros, library.terms)
    with pytest.raises(MacroError, match="limit"):
        renderer.render(library.macros["loop"], context(), "en")


# --- Preview and mutations -----------------------------------------------------------------


def test_preview_field_changes_and_mutations(library, renderer) -> None:
    ctx = context()
    result = preview(
        library.macros["refund-approved"], ctx, None, {"refund_amount": "50"}, renderer=renderer
    )
    assert result.locale == "zh-CN" and result.ok
    changes = {c.field: (c.before, c.after) for c in result.field_changes}
    assert changes["status"] == ("open", "pending")
    assert changes["tags"] == (["vip"], ["vip", "退款"])
    assert changes["case_type"] == (None, "refund-only")
    assert changes["case_state"] == (None, "approved")
    mutations = to_mutations(result, 7, 3, "li")
    assert [m.type for m in mutations] == [
        MutationType.REPLY,
        MutationType.SET_STATUS,
        MutationType.TAG,
        MutationType.SET_CASE,
    ]
    assert all(m.ticket_id == 7 and m.base_version == 3 for m in mutations)
    assert mutations[3].payload == {"type": "refund-only", "state": "approved"}


def test_preview_rejects_impossible_case_step(library, renderer) -> None:
    ctx = context(case_type="refund-only", case_state="closed")
    result = preview(
        library.macros["refund-approved"], ctx, "en", {"refund_amount": "1"}, renderer=renderer
    )
    assert result.errors and "closed" in result.errors[0]
    with pytest.raises(MacroError, match="cannot go from closed"):
        to_mutations(result, 7, 3, "li")


# --- Lint ----------------------------------------------------------------------------------


def _lint_one(tmp_path: Path, text: str, name: str = "m.toml") -> list:
    shutil.copytree(FIXTURES, tmp_path / "lib")
    path = write(tmp_path / "lib" / "t" / name, text)
    return [p for p in lint([tmp_path / "lib"]) if p.file == str(path)]


def _errors(problems: list) -> list[tuple[int, int, str]]:
    return [(p.line, p.col, p.message) for p in problems if p.severity == "error"]


GOOD_HEAD = """
id = "t"
category = "test/t"
[title]
zh-CN = "标题"
zh-TW = "標題"
en = "Title"
uk = "Заголовок"
[body]
zh-CN = "中文"
zh-TW = "中文"
uk = "Текст"
"""


def test_fixture_library_lints_clean() -> None:
    assert [p for p in lint([FIXTURES]) if p.severity != "info"] == []


def test_lint_toml_syntax(tmp_path: Path) -> None:
    [(line, _, message)] = _errors(_lint_one(tmp_path, 'id = "t"\ncategory = \n'))
    assert line == 2 and "TOML syntax" in message


def test_lint_unknown_variable_and_filter_positions(tmp_path: Path) -> None:
    text = GOOD_HEAD + 'en = """Hi {{ customer.nmae }},\nsee {{ order.total | monee }}"""\n'
    errors = _errors(_lint_one(tmp_path, text))
    assert (12, 15, errors[0][2]) == errors[0] and "customer.nmae" in errors[0][2]
    assert errors[1][0] == 13 and "unknown filter 'monee'" in errors[1][2]


def test_lint_liquid_syntax_line(tmp_path: Path) -> None:
    text = GOOD_HEAD + 'en = """line one\n{% if %}x{% endif %}"""\n'
    [(line, col, message)] = _errors(_lint_one(tmp_path, text))
    assert (line, col) == (13, 4) and "Liquid syntax" in message


def test_lint_unknown_action_value_and_impossible_case(tmp_path: Path) -> None:
    text = (
        GOOD_HEAD
        + 'en = "x"\n[[actions]]\ntype = "set-status"\nvalue = "done"\n'
        + '[[actions]]\ntype = "explode"\n'
    )
    errors = _errors(_lint_one(tmp_path, text))
    assert errors[0][:2] == (15, 1) and "unknown status 'done'" in errors[0][2]
    assert errors[1][:2] == (17, 1) and "unknown action type 'explode'" in errors[1][2]
    text = (
        GOOD_HEAD
        + 'en = "x"\n[[actions]]\ntype = "set-case"\n'
        + 'case_type = "refund-only"\nstate = "repaired"\n'
    )
    [(line, _, message)] = _errors(_lint_one(tmp_path / "b", text))
    assert line == 13 and "impossible case steps" in message


def test_lint_duplicates_missing_locale_include_and_term(tmp_path: Path) -> None:
    text = (
        GOOD_HEAD.replace('id = "t"', 'id = "signature"').replace(
            'category = "test/t"', 'category = "c"\nshortcut = ";rr"'
        )
        + 'en = "x"\n'
    )
    errors = _errors(_lint_one(tmp_path, text, "a.toml"))
    messages = " | ".join(m for _, _, m in errors)
    assert "duplicate id 'signature'" in messages or "duplicate shortcut" in messages
    text = (
        GOOD_HEAD.replace('uk = "Текст"\n', "")
        + "en = \"{% include 'nope' %} {{ 'no-such' | term }}\"\n"
    )
    errors = _errors(_lint_one(tmp_path / "b", text))
    messages = [m for _, _, m in errors]
    assert any("[body] missing uk" in m for m in messages)
    assert any("include of unknown macro 'nope'" in m for m in messages)
    assert any("unknown glossary term 'no-such'" in m for m in messages)


def test_lint_duplicate_shortcut(tmp_path: Path) -> None:
    text = (
        GOOD_HEAD.replace('category = "test/t"', 'category = "c"\nshortcut = ";rr"') + 'en = "x"\n'
    )
    [(line, col, message)] = _errors(_lint_one(tmp_path, text, "z.toml"))
    assert (line, col) == (3, 1) and "duplicate shortcut ';rr'" in message


def test_lint_include_cycle_and_length(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    write(
        root / "a" / "a.toml",
        MINIMAL.format(id="a", title="A").replace('en = "English a"', "en = \"{% include 'b' %}\""),
    )
    write(
        root / "a" / "b.toml",
        MINIMAL.format(id="b", title="B").replace('en = "English b"', "en = \"{% include 'a' %}\""),
    )
    long = write(
        root / "a" / "long.toml",
        MINIMAL.format(id="long", title="L")
        .replace('category = "test/long"', 'category = "c"\nchannels = ["social"]')
        .replace('en = "English long"', 'en = "' + "x" * 501 + '"'),
    )
    problems = lint([root])
    cycles = [p for p in problems if "include cycle" in p.message]
    assert len(cycles) == 1
    assert "a -> b -> a" in cycles[0].message
    [too_long] = [p for p in problems if "characters" in p.message]
    assert too_long.file == str(long) and too_long.line == 10 and too_long.severity == "error"


def test_lint_zh_tw_missing_is_info(tmp_path: Path) -> None:
    problems = _lint_one(tmp_path, GOOD_HEAD.replace('zh-TW = "中文"\n', "") + 'en = "x"\n')
    assert [(p.severity, p.line) for p in problems] == [("info", 8)]


# --- Glossary, picker, suggest -------------------------------------------------------------


def test_glossary_detects_longest_terms_in_all_languages(library) -> None:
    glossary = Glossary(library.terms.values())
    text = (
        "我要退货退款，不是仅退款。僅退款也行. I want a Refund Only, or повернення товару та коштів"
    )
    hits = [(h.term_id, h.locale) for h in glossary.detect(text)]
    assert hits == [
        ("return-and-refund", "zh-CN"),
        ("refund-only", "zh-CN"),
        ("refund-only", "zh-TW"),
        ("refund-only", "en"),
        ("return-and-refund", "uk"),
    ]
    assert glossary.detect("refund onlyx") == []


def test_glossary_check_and_lookup(library) -> None:
    glossary = Glossary(library.terms.values())
    [hit] = glossary.check("这是你自己没看清的问题")
    assert hit.term_id == "refund-only" and hit.preferred == "为您办理仅退款"
    [tw] = glossary.check("這是你自己沒看清的問題")
    assert tw.locale == "zh-TW" and tw.preferred == "為您辦理僅退款"
    assert [t.id for t in glossary.lookup("Refund Only")] == ["refund-only"]
    assert glossary.lookup("僅退款")[0].id == "refund-only"


def test_picker_ranks_shortcut_title_and_fuzzy(library) -> None:
    macros = list(library.macros.values())
    assert search_macros(macros, ";rr")[0].id == "refund-approved"
    assert search_macros(macros, "已发货")[0].id == "order-shipped"
    assert search_macros(macros, "Повернення")[0].id == "refund-approved"
    assert search_macros(macros, "rfa")[0].id == "refund-approved"  # fuzzy letters in order
    assert "signature" not in [m.id for m in search_macros(macros, "")]  # snippets hidden
    index = MacroIndex(macros)
    assert index.search("ord")[0].id == "order-shipped"  # the other matches in its body
    assert index.search("order sh")[0].id == "order-shipped"  # narrowed from "ord"


def test_suggest_prefers_case_type_and_message_words(library) -> None:
    glossary = Glossary(library.terms.values())
    ctx = context(case_type="refund-only", case_state="requested")
    found = suggest(library.macros.values(), ctx, "我想申请仅退款", glossary, "zh-CN")
    assert found[0].macro.id == "refund-approved"
    assert any("case type refund-only" in r for r in found[0].reasons)
    assert any("term refund-only" in r for r in found[0].reasons)
