"""Full-text search: query translation, recall against a substring scan, order, snippets, CLI."""

from __future__ import annotations

import json
import random
import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from agentcli.cli.main import main
from agentcli.domain.text import (
    CJK_CHAR,
    SNIPPET_CELLS,
    fts_query,
    index_text,
    indexed_source,
    make_snippet,
    match_spans,
    parse_query,
    tokenize,
)
from agentcli.store.db import open_store, transaction
from agentcli.store.search import index_message, reindex_message, search, unindex_message

# Sentences as customers and agents write them; near misses are deliberate (退货款 is not 退款,
# nonrefundable does not start with refund, 换货 and 換貨 are different scripts).
SENTENCES = [
    "我要申请退款，订单号{n}的外包装破损了。",
    "物流信息三天没有更新，请帮我查一下。",
    "商品收到了，但是外包装破损，里面的杯子碎了。",
    "请问发票什么时候可以开？我需要增值税专用发票。",
    "退货款项什么时候到账？",
    "我想换货，尺码太小了。",
    "快递到了但是包装有破洞，请尽快处理退款。",
    "iPhone退款申请已经提交了，订单{n}。",
    "我們已經收到您的換貨申請，請耐心等候。",
    "物流顯示已簽收，但我沒有收到包裹。",
    "請問退款需要幾天？發票可以補開嗎？",
    "這件商品有瑕疵，我要換貨或退款。",
    "Добрий день! Де моя доставка? Замовлення {n}.",
    "Доставки досі немає, хоча минув тиждень.",
    "Прошу оформити повернення коштів за замовлення {n}.",
    "Повернення товару можливе протягом 14 днів.",
    "Не можу звʼязатися з кур'єром, телефон не відповідає.",
    "Коли буде доставка посилки до відділення?",
    "Хочу повернути гроші, товар пошкоджений.",
    "Hello, I would like a refund for order {n}, the box arrived damaged.",
    "Your refund has been processed and should arrive in 3-5 business days.",
    "This item is nonrefundable according to the store policy.",
    "Could you send me the tracking number for my parcel?",
    "The tracking number {n} shows no movement since Monday.",
    "Tracking numbers are sent by e-mail once the parcel ships.",
    "Delivery was delayed because of the weather, sorry about that.",
    "I was refunded twice by mistake, please check.",
    "退款 already requested, доставка не потрібна.",
    "Customer asked about 物流 status and доставки timing.",
    'Please AND OR NOT ignore this "quoted" text: col:x NEAR(a b) * ^',
]
SUBJECTS = [
    "订单{n} 外包装破损",
    "退款申请",
    "換貨問題",
    "Доставка замовлення {n}",
    "Refund request",
    "Where is my parcel?",
]


def _add_ticket(conn: sqlite3.Connection, ticket_id: int, subject: str) -> None:
    conn.execute(
        "INSERT INTO tickets (id, subject, status, priority, channel, queue, requester_id,"
        " language, created_at, updated_at, sla_due) VALUES (?, ?, 'open', 1, 'email', 'general',"
        " 1, 'en', 0, 0, 0)",
        (ticket_id, subject),
    )


def _add_message(
    conn: sqlite3.Connection, message_id: int, ticket_id: int, body: str, subject: str | None
) -> None:
    conn.execute(
        "INSERT INTO messages (id, ticket_id, kind, author_kind, author, channel, body,"
        " created_at) VALUES (?, ?, 'public', 'customer', 'c', 'email', ?, ?)",
        (message_id, ticket_id, body, 1_700_000_000 + message_id),
    )
    index_message(conn, message_id, indexed_source(body, subject))


def build_store(path: Path, tickets: Iterable[tuple[str, list[str]]]) -> sqlite_utils.Database:
    """A store with the given (subject, [bodies]) tickets; message ids ascend from 1."""
    db = open_store(path)
    message_id = 0
    with transaction(db) as conn:
        for ticket_id, (subject, bodies) in enumerate(tickets, start=1):
            _add_ticket(conn, ticket_id, subject)
            for i, body in enumerate(bodies):
                message_id += 1
                # The opening message carries the subject in the index, as the seeder does.
                _add_message(conn, message_id, ticket_id, body, subject if i == 0 else None)
    return db


def corpus(seed: int = 7, tickets: int = 150) -> list[tuple[str, list[str]]]:
    rng = random.Random(seed)
    out = []
    for _ in range(tickets):
        subject = rng.choice(SUBJECTS).format(n=rng.randint(1000, 9999))
        bodies = [
            " ".join(
                rng.choice(SENTENCES).format(n=rng.randint(100000, 999999))
                for _ in range(rng.randint(1, 3))
            )
            for _ in range(rng.randint(1, 4))
        ]
        out.append((subject, bodies))
    return out


@pytest.fixture(scope="module")
def corpus_db(tmp_path_factory: pytest.TempPathFactory) -> sqlite_utils.Database:
    return build_store(tmp_path_factory.mktemp("search") / "store.db", corpus())


def _indexed_texts(db: sqlite_utils.Database) -> dict[int, str]:
    """message id -> the raw text that was indexed (subject + body for opening messages)."""
    rows = db.conn.execute(
        "SELECT m.id, m.body, t.subject, m.id = (SELECT min(id) FROM messages"
        " WHERE ticket_id = m.ticket_id) FROM messages m JOIN tickets t ON t.id = m.ticket_id"
    )
    return {
        mid: indexed_source(body, subject if first else None) for mid, body, subject, first in rows
    }


# --- The reference: a plain scan, independent of the tokenizer --------------------------------


def _needle_pattern(needle: str, exact_end: bool) -> re.Pattern[str]:
    """Substring for CJK; for other scripts the needle must start a word (and end one if exact).

    A CJK character is a word of its own, so it is a boundary on either side.
    """
    body = re.escape(needle.lower())
    start = "" if CJK_CHAR.match(needle[0]) else r"(?:(?<![^\W_])|(?<=" + CJK_CHAR.pattern + "))"
    end = ""
    if exact_end and not CJK_CHAR.match(needle[-1]):
        end = r"(?:(?![^\W_])|(?=" + CJK_CHAR.pattern + "))"
    return re.compile(start + body + end)


def reference(texts: dict[int, str], query: str) -> set[int]:
    """Message ids whose text contains every needle of `query` (a scan, like instr(lower(..)))."""
    patterns = [_needle_pattern(q, exact_end=True) for q in re.findall(r'"([^"]+)"', query)]
    patterns += [
        _needle_pattern(q, exact_end=False) for q in re.sub(r'"[^"]*"', " ", query).split()
    ]
    return {mid for mid, text in texts.items() if all(p.search(text.lower()) for p in patterns)}


def found(db: sqlite_utils.Database, query: str) -> set[int]:
    return {hit.message_id for hit in search(db, query, limit=1_000_000)}


RECALL_QUERIES = [
    "退款",
    "物流",
    "破损",
    "发票",
    "換貨",
    "换货",
    "退",
    "外包装破损",
    "申请退款",
    "發票",
    "доставка",
    "доставк",
    "доставки",
    "повернення",
    "поверн",
    "Замовлення",
    "refund",
    "refunded",
    "tracking",
    "parcel",
    "iPhone退款",
    "退款 доставка",
    "refund 退款",
    "物流 доставки",
    '"tracking number"',
    '"外包装破损"',
    '"доставка посилки"',
    "14",
    "3-5",
]


@pytest.mark.parametrize("query", RECALL_QUERIES)
def test_recall_equals_a_substring_scan(corpus_db: sqlite_utils.Database, query: str) -> None:
    expected = reference(_indexed_texts(corpus_db), query)
    assert expected, f"corpus has no {query!r}: the test would prove nothing"
    assert found(corpus_db, query) == expected


@pytest.mark.parametrize("word", ["退款", "物流", "破损", "发票", "換貨"])
def test_two_character_chinese_words_found_inside_longer_runs(tmp_path: Path, word: str) -> None:
    db = build_store(
        tmp_path / "s.db",
        [("subject", [f"我们昨天{word}的事情还没处理", "完全无关的句子", f"{word}"])],
    )
    assert found(db, word) == {1, 3}


def test_unrelated_adjacent_characters_do_not_match(tmp_path: Path) -> None:
    db = build_store(tmp_path / "s.db", [("s", ["退货款项到账了", "款退"])])
    assert found(db, "退款") == set()
    assert found(db, "退") == {1, 2}


def test_traditional_and_simplified_are_searched_as_typed(tmp_path: Path) -> None:
    db = build_store(tmp_path / "s.db", [("s", ["我想换货", "我想換貨"])])
    assert found(db, "换货") == {1}
    assert found(db, "換貨") == {2}


def test_ukrainian_word_forms_by_prefix(tmp_path: Path) -> None:
    db = build_store(
        tmp_path / "s.db",
        [("s", ["Доставка затримується", "Доставки немає", "Повернення коштів", "недоставлено"])],
    )
    assert found(db, "доставк") == {1, 2}
    assert found(db, "доставка") == {1}
    assert found(db, "ДОСТАВКИ") == {2}
    assert found(db, "повернення") == {3}


def test_ukrainian_apostrophes_are_interchangeable(tmp_path: Path) -> None:
    db = build_store(tmp_path / "s.db", [("s", ["звʼязатися", "зв'язатися", "зв’язатися"])])
    for typed in ("звʼязатися", "зв'язатися", "зв’язатися", "звʼяз"):
        assert found(db, typed) == {1, 2, 3}, typed


def test_english_prefix_and_case(tmp_path: Path) -> None:
    db = build_store(tmp_path / "s.db", [("s", ["Refunded twice", "nonrefundable", "REFUND"])])
    assert found(db, "refund") == {1, 3}
    assert found(db, "Refunded") == {1}


def test_terms_are_anded_across_scripts(tmp_path: Path) -> None:
    db = build_store(
        tmp_path / "s.db",
        [("s", ["退款 і доставка", "лише доставка", "只有退款", "iPhone退款 refund"])],
    )
    assert found(db, "退款 доставка") == {1}
    assert found(db, "iPhone退款") == {4}
    assert found(db, "iphone 退款 refund") == {4}


def test_phrases_are_exact_and_ordered(tmp_path: Path) -> None:
    db = build_store(
        tmp_path / "s.db",
        [
            (
                "s",
                [
                    "the tracking number is 123",
                    "number tracking",
                    "tracking numbers",
                    "外包装破损了",
                    "外包装没有破损",
                ],
            )
        ],
    )
    assert found(db, '"tracking number"') == {1}
    assert found(db, "tracking number") == {1, 2, 3}
    assert found(db, '"外包装破损"') == {4}


def test_subject_is_searched_through_the_opening_message(tmp_path: Path) -> None:
    db = build_store(tmp_path / "s.db", [("发票问题", ["请帮忙", "谢谢"])])
    hits = search(db, "发票")
    assert [(h.message_id, h.subject) for h in hits] == [(1, "发票问题")]
    assert hits[0].snippet_marked == "«发票»问题"  # the subject matched, so it is the snippet


def test_phrase_across_subject_and_body_is_not_a_hit(tmp_path: Path) -> None:
    # Indexed as "退款申请\n退款已提交": FTS5 matches 申请退款 across the newline; search drops it.
    db = build_store(tmp_path / "s.db", [("退款申请", ["退款已提交"])])
    assert db.conn.execute(
        "SELECT count(*) FROM search_index WHERE search_index MATCH ?", (fts_query("申请退款"),)
    ).fetchone() == (1,)
    assert found(db, "申请退款") == set()
    assert found(db, "申请 退款") == {1}


INJECTIONS = [
    'AND OR NOT "unbalanced',
    "*",
    "^",
    "NEAR(",
    "col:x",
    "text:退款",
    "a OR b",
    "-refund",
    "refund*",
    "^refund",
    '"',
    '""',
    '"""',
    "()",
    "(退款",
    "{text}: x",
    "NEAR(a b, 2)",
    "\x00",
    "'; DROP TABLE messages; --",
    "退款 AND",
    "",
    "   ",
    "，。！？",
]


@pytest.mark.parametrize("text", INJECTIONS)
def test_fts_syntax_in_user_text_is_literal(corpus_db: sqlite_utils.Database, text: str) -> None:
    hits = search(corpus_db, text)
    for order in ("newest", "relevance"):
        search(corpus_db, text, order=order)
    if not parse_query(text):
        assert hits == []


def test_operators_are_searched_as_words(tmp_path: Path) -> None:
    db = build_store(tmp_path / "s.db", [("s", ["please AND OR NOT this", "col:x NEAR(a b)", "x"])])
    assert found(db, "AND OR NOT") == {1}
    assert found(db, "col:x") == {2}
    assert found(db, "NEAR(") == {2}


def test_punctuation_only_finds_nothing(corpus_db: sqlite_utils.Database) -> None:
    assert fts_query("!!! ??? ... ，。") is None
    assert search(corpus_db, "!!! *** ^^^") == []


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=40))
def test_any_text_never_raises(text: str) -> None:
    match = fts_query(text)
    if match is not None:
        with sqlite3.connect(":memory:") as conn:
            conn.execute(
                "CREATE VIRTUAL TABLE s USING fts5(text, content='',"
                " tokenize='unicode61 remove_diacritics 0')"
            )
            conn.execute("INSERT INTO s(rowid, text) VALUES (1, 'x 退 款')")
            conn.execute("SELECT rowid FROM s WHERE s MATCH ? ORDER BY rowid DESC", (match,))
    snippet = make_snippet(text + " " + text, parse_query(text))
    assert all(0 <= s < e <= len(snippet.text) for s, e in snippet.spans)


@settings(max_examples=100, deadline=None)
@given(
    text=st.text(
        alphabet=st.sampled_from(list('退款物流доставкаrefund "*^:()-AND OR NEAR')), max_size=30
    )
)
def test_any_query_against_the_store_never_raises(
    corpus_db: sqlite_utils.Database, text: str
) -> None:
    search(corpus_db, text, limit=5)
    search(corpus_db, text, limit=5, order="relevance")


# Not 🤔 and other emoji newer than SQLite's Unicode tables: word characters to SQLite only.
TOKEN_ALPHABET = [*"aZé9 ,.-_'ʼ’:доставкаЇї退款換貨の한\u0301\n\t😀!?#«»", "\x00"]


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(TOKEN_ALPHABET), max_size=30))
def test_python_tokens_agree_with_sqlite(text: str) -> None:
    # Snippet highlighting and the subject/body check rely on tokenizing as unicode61 does.
    with sqlite3.connect(":memory:") as conn:
        conn.execute(
            "CREATE VIRTUAL TABLE s USING fts5(text, tokenize='unicode61 remove_diacritics 0')"
        )
        conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(s, 'instance')")
        conn.execute("INSERT INTO s(rowid, text) VALUES (1, ?)", (index_text(text),))
        sqlite_tokens = [t for (t,) in conn.execute("SELECT term FROM v ORDER BY offset")]
    assert [t.text for t in tokenize(text)] == sqlite_tokens


def _token_spans(text: str, query: str) -> set[tuple[int, int]]:
    """Match spans found the slow, obvious way: compare token sequences."""
    tokens = tokenize(text)
    words = [t.text for t in tokens]
    spans = set()
    for term in parse_query(query):
        for variant in term.variants:
            *head, last = [t.text for t in tokenize(variant)]
            for i in range(len(tokens) - len(head)):
                word = words[i + len(head)]
                hit = word.startswith(last) if term.prefix else word == last
                if hit and words[i : i + len(head)] == head:
                    spans.add((tokens[i].start, tokens[i + len(head)].end))
    return spans


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(TOKEN_ALPHABET), max_size=40),
    query=st.text(alphabet=st.sampled_from([*TOKEN_ALPHABET, '"']), max_size=8),
)
def test_highlight_regex_agrees_with_token_matching(text: str, query: str) -> None:
    found_spans = match_spans(text, parse_query(query))
    expected = _token_spans(text, query)
    # match_spans merges overlapping spans; every token match must lie inside one of them.
    assert all(any(s <= a and b <= e for s, e in found_spans) for a, b in expected)
    assert all(any(s == a for a, _ in expected) for s, _ in found_spans)


# --- Order and paging ---------------------------------------------------------------------------


def test_newest_first_and_keyset_pages(corpus_db: sqlite_utils.Database) -> None:
    everything = [h.message_id for h in search(corpus_db, "退款", limit=10_000)]
    assert everything == sorted(everything, reverse=True)
    pages, before = [], None
    while page := search(corpus_db, "退款", limit=7, before=before):
        pages += [h.message_id for h in page]
        before = page[-1].message_id
    assert pages == everything


def test_relevance_ranks_by_bm25(tmp_path: Path) -> None:
    db = build_store(
        tmp_path / "s.db",
        [("s", ["refund " + "filler words here " * 20, "refund refund refund", "nothing"])],
    )
    hits = search(db, "refund", order="relevance")
    assert [h.message_id for h in hits] == [2, 1]
    assert hits[0].score is not None and hits[1].score is not None
    assert hits[0].score > hits[1].score
    assert all(h.score is None for h in search(db, "refund"))


def test_unknown_order_is_an_error(corpus_db: sqlite_utils.Database) -> None:
    with pytest.raises(ValueError, match="order"):
        search(corpus_db, "refund", order="oldest")  # type: ignore[arg-type]


# --- Index maintenance --------------------------------------------------------------------------


def test_unindex_and_reindex_a_message(tmp_path: Path) -> None:
    db = build_store(tmp_path / "s.db", [("退款申请", ["物流太慢", "доставка"])])
    with transaction(db) as conn:
        unindex_message(conn, 2, "доставка")
        reindex_message(conn, 1, indexed_source("物流太慢", "退款申请"), "refund please")
    assert found(db, "доставка") == set()
    assert found(db, "物流") == set()
    assert found(db, "退款") == set()
    assert found(db, "refund") == {1}


def test_unindex_with_the_wrong_text_leaves_stale_tokens(tmp_path: Path) -> None:
    # Why every writer must pass indexed_source(...) exactly: FTS5 cannot tell, nor can
    # 'integrity-check' on a contentless table.
    db = build_store(tmp_path / "s.db", [("s", ["foo bar"])])
    with transaction(db) as conn:
        unindex_message(conn, 1, "foo baz")
        conn.execute("INSERT INTO search_index(search_index) VALUES ('integrity-check')")
    assert found(db, "bar") == {1}


def test_index_row_without_message_is_skipped(tmp_path: Path) -> None:
    db = build_store(tmp_path / "s.db", [("s", ["退款一"])])
    with transaction(db) as conn:
        index_message(conn, 99, "退款二")
    assert [h.message_id for h in search(db, "退款")] == [1]


# --- Snippets -----------------------------------------------------------------------------------

LONG_UK = (
    "Добрий день! Я замовляла чайник ще минулого місяця, оплатила одразу, але досі нічого не"
    " отримала. Де моя доставка? Менеджер обіцяв, що все буде за три дні, а минуло вже два тижні."
)


def test_snippet_is_a_window_around_the_first_match() -> None:
    snippet = make_snippet(LONG_UK, parse_query("доставк"))
    assert "доставка" in snippet.text
    assert snippet.text.startswith("…") and snippet.text.endswith("…")
    assert cell_len(snippet.text) <= SNIPPET_CELLS + 2
    assert [snippet.text[s:e] for s, e in snippet.spans] == ["доставка"]
    assert "«доставка»" in snippet.marked


def test_snippet_width_counts_cells_for_chinese() -> None:
    text = "前面有很多很多无关的文字" * 5 + "申请退款" + "后面还有很多很多无关的文字" * 5
    snippet = make_snippet(text, parse_query("退款"))
    assert cell_len(snippet.text) <= SNIPPET_CELLS + 2
    assert len(snippet.text) < SNIPPET_CELLS  # 2 cells a character: about half the characters
    assert [snippet.text[s:e] for s, e in snippet.spans] == ["退款"]


def test_snippet_is_plain_text_without_markup_or_controls() -> None:
    text = "[bold red]退款[/] \x1b[2J\x07 new\nline\ttab \u202eevil"
    snippet = make_snippet(text, parse_query("退款"))
    assert "[bold red]" in snippet.text  # kept literally: never interpreted
    assert not any(c in snippet.text for c in "\x1b\x07\n\t\u202e")
    assert "[" not in snippet.marked.replace("[bold red]", "").replace("[/]", "").replace("[2J", "")


def test_snippet_marks_every_term_in_the_window() -> None:
    snippet = make_snippet("I need a refund. 退款 доставка", parse_query("refund 退款 доставка"))
    assert snippet.marked == "I need a «refund». «退款» «доставка»"


def test_hit_carries_snippet_and_spans(corpus_db: sqlite_utils.Database) -> None:
    for hit in search(corpus_db, "物流 доставки"):
        assert hit.spans
        assert all(hit.snippet[s:e] for s, e in hit.spans)
        assert "«" in hit.snippet_marked


# --- CLI ----------------------------------------------------------------------------------------


def test_cli_json(corpus_db: sqlite_utils.Database) -> None:
    path = corpus_db.conn.execute("PRAGMA database_list").fetchone()[2]
    result = CliRunner().invoke(
        main, ["--db", path, "search", "退款", "доставка", "--json", "--limit", "1000"]
    )
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert hits and {"ticket_id", "message_id", "subject", "snippet"} <= set(hits[0])
    assert {h["message_id"] for h in hits} == reference(_indexed_texts(corpus_db), "退款 доставка")


def test_cli_table_and_relevance(corpus_db: sqlite_utils.Database) -> None:
    path = corpus_db.conn.execute("PRAGMA database_list").fetchone()[2]
    result = CliRunner().invoke(
        main, ["--db", path, "search", "refund", "--limit", "3", "--relevance"]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 6  # a heading and a snippet line per hit
    assert all("msg " in line for line in lines[0::2])
    assert all("«refund" in line.lower() for line in lines[1::2])


def test_cli_no_matches_and_errors_go_to_stderr(tmp_path: Path) -> None:
    runner = CliRunner()
    empty = runner.invoke(main, ["--db", str(tmp_path / "e.db"), "search", "退款"])
    assert empty.exit_code == 0 and empty.stdout == "" and "No matches" in empty.stderr
    (tmp_path / "bad.db").write_text("this is not a database")
    broken = runner.invoke(main, ["--db", str(tmp_path / "bad.db"), "search", "退款"])
    assert broken.exit_code != 0
    assert broken.stdout == "" and broken.stderr
