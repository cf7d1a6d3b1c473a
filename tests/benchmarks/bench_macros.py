"""Macro library speed, each figure beside a naive baseline measured in the same run.

    python tests/benchmarks/bench_macros.py [--macros N] [--runs N] [--json]

* render: p95 of rendering a typical shipped macro with its includes, compiled once,
  beside re-parsing the template on every render (target <= 1 ms)
* lint: the whole shipped library (target <= 1 s)
* picker: p95 per keystroke while typing queries over N generated macros (default 10,000)
  with the prepared MacroIndex, beside lowercasing every haystack on each keystroke
  (target <= 10 ms)
* terms: detecting glossary terms in a 2,000-character mixed message with one compiled
  regex, beside a substring loop over every term form (target <= 1 ms)
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from agentcli.macros.context import build_context
from agentcli.macros.glossary import Glossary
from agentcli.macros.lint import lint
from agentcli.macros.loader import load_roots
from agentcli.macros.model import Macro
from agentcli.macros.picker import MacroIndex
from agentcli.macros.render import Renderer

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "macros"
FIXTURES = ROOT / "tests" / "fixtures" / "macros" / "basic"


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]


def summary(samples: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(samples), 4), "p95_ms": round(p95(samples), 4)}


def demo_context() -> dict:
    return build_context(
        {
            "id": 1,
            "subject": "s",
            "status": "open",
            "priority": 1,
            "channel": "email",
            "queue": "q",
            "language": "zh-CN",
            "tags": "[]",
        },
        {"name": "王小明", "tier": "gold", "locale": "zh-CN", "email": "w@example.com"},
        {
            "number": "SO-1",
            "items": '[{"sku":"A","title":"杯","quantity":1,"unit_price":"9"}]',
            "total": "99.5",
            "currency": "CNY",
            "placed_at": 1_746_000_000,
            "carrier": "顺丰",
            "tracking_number": "SF1",
            "shipped_at": 1_746_100_000,
            "delivered_at": 1_746_200_000,
        },
        {"login": "li", "name": "小李"},
        {"name": "小店", "return_address": "上海", "support_hours": "9-21"},
        {"refund_amount": "50", "new_tracking_number": "SF2", "coupon_code": "C1"},
    )


def bench_render(runs: int) -> dict:
    root = SHIPPED if any(SHIPPED.rglob("*.toml")) else FIXTURES
    library = load_roots([("shipped", root)])
    renderer = Renderer(library.macros, library.terms)
    context = demo_context()
    # A typical macro: a visible one with an include that renders cleanly here.
    candidates = [
        m for m in library.macros.values() if not m.snippet and "include" in m.body["zh-CN"]
    ]
    macro = next(
        (m for m in candidates if renderer.render(m, context, "zh-CN").text), candidates[0]
    )
    renderer.render(macro, context, "zh-CN")  # compile once
    cached = timed(lambda: renderer.render(macro, context, "zh-CN"), runs)

    def recompile() -> None:
        fresh = Renderer(library.macros, library.terms)
        fresh.render(macro, context, "zh-CN")

    baseline = timed(recompile, max(runs // 10, 20))
    return {
        "macro": macro.id,
        "compiled_once": summary(cached),
        "recompile_each_time": summary(baseline),
    }


def bench_lint(runs: int) -> dict:
    root = SHIPPED if any(SHIPPED.rglob("*.toml")) else FIXTURES
    files = len(list(root.rglob("*.toml")))
    samples = timed(lambda: lint([root]), max(runs // 100, 3))
    return {"files": files, **summary(samples), "max_ms": round(max(samples), 1)}


WORDS = " ".join(
    (
        "退款 退货 物流 发货 换货 补发 维修 价保 投诉 优惠券 发票 地址 快递 签收 破损",
        "refund return shipping delay exchange coupon invoice address damaged warranty",
        "повернення доставка обмін гарантія купон рахунок адреса",
    )
).split()


def generated_macros(n: int, seed: int = 7) -> list[Macro]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        words = rng.sample(WORDS, 4)
        title = " ".join(words[:2])
        out.append(
            Macro(
                id=f"m{i}",
                category=f"area{i % 20}/{words[0]}",
                title={
                    "zh-CN": f"{title} {i}",
                    "en": f"{words[2]} {words[3]} {i}",
                    "uk": f"{words[1]} {i}",
                },
                body={
                    "zh-CN": " ".join(rng.choices(WORDS, k=60)),
                    "en": " ".join(rng.choices(WORDS, k=60)),
                },
                shortcut=f";m{i}" if i % 3 == 0 else None,
                tags=tuple(words[:2]),
            )
        )
    return out


QUERIES = ("refund delay", "退货 物流", "повернення", ";m12", "exchnge", "warranty 99")


def bench_picker(n: int) -> dict:
    macros = generated_macros(n)
    start = time.perf_counter()
    index = MacroIndex(macros)
    build_ms = (time.perf_counter() - start) * 1000
    keystrokes: list[float] = []
    naive: list[float] = []
    for query in QUERIES:
        for end in range(1, len(query) + 1):
            typed = query[:end]
            keystrokes += timed(lambda typed=typed: index.search(typed, 20), 1)
            naive += timed(lambda typed=typed: _naive_search(macros, typed), 1)
    return {
        "macros": n,
        "index_build_ms": round(build_ms, 1),
        "per_keystroke": summary(keystrokes),
        "naive_per_keystroke": summary(naive),
    }


def _naive_search(macros: list[Macro], query: str) -> list[Macro]:
    """Baseline: lowercase everything on every keystroke, then substring-match words."""
    words = query.lower().split()
    hits = []
    for macro in macros:
        hay = " ".join(
            [*macro.title.values(), macro.shortcut or "", macro.id, *macro.body.values()]
        ).lower()
        if all(w in hay for w in words):
            hits.append(macro)
    return hits[:20]


def bench_terms(runs: int) -> dict:
    root = SHIPPED if any((SHIPPED / "glossary").rglob("*.toml")) else FIXTURES
    library = load_roots([("shipped", root)])
    glossary = Glossary(library.terms.values())
    forms = sorted(
        {form for term in library.terms.values() for form in glossary.forms(term).values()},
        key=len,
        reverse=True,
    )
    rng = random.Random(3)
    text = ""
    while len(text) < 2000:
        text += rng.choice(forms) + " " + " ".join(rng.choices(WORDS, k=3)) + "，"
    text = text[:2000]
    detect = timed(lambda: glossary.detect(text), runs)

    def naive() -> list[tuple[str, int]]:
        lowered = text.lower()
        found = []
        for form in forms:
            start = lowered.find(form.lower())
            while start != -1:
                found.append((form, start))
                start = lowered.find(form.lower(), start + 1)
        return found

    baseline = timed(naive, runs)
    return {
        "terms": len(library.terms),
        "forms": len(forms),
        "chars": len(text),
        "hits": len(glossary.detect(text)),
        "compiled_regex": summary(detect),
        "substring_loop": summary(baseline),
    }


def calibration_ms() -> float:
    """A fixed pure-Python loop, so figures from a busy machine can be read in proportion."""
    start = time.perf_counter()
    sum(range(1_000_000))
    return round((time.perf_counter() - start) * 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--macros", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=2_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = {
        "calibration_sum_1e6_ms": calibration_ms(),
        "render": bench_render(args.runs),
        "lint": bench_lint(args.runs),
        "picker": bench_picker(args.macros),
        "terms": bench_terms(args.runs),
    }
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
        return
    results["calibration_after_ms"] = calibration_ms()
    for name, figures in results.items():
        print(f"{name}: {json.dumps(figures, ensure_ascii=False)}")


if __name__ == "__main__":
    main()
