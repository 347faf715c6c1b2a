"""The README's evaluation tables, rewritten from a run (``python -m evals --readme README.md``), so the
figures a reader sees are the ones a run measured, never copied by hand.

Each table sits between two markers, ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``:

* ``eval-table``: every system on all questions together (any run; the README must have it);
* ``by-set``: each question set, judge / no judge / dense (needs ``--systems dense,ours --ablation``);
* ``held-out``: ours on each held-out set, with counts and 95% intervals (needs ``ours``);
* ``paired``: each component's paired test (needs ``--ablation``);
* ``acceptance``: issue 11's quality criteria against their targets: every held-out set, then the
  held-out sets together, and the whole set (needs ``ours``). Speed is measured by ``evals.bench``.

A table whose run lacks what it needs is left as it was, and :func:`update` names it, so a quick run
(``--systems ours``) never blanks a table that only the full run can fill.
"""
from __future__ import annotations

from pathlib import Path

from .figures import ABLATION_NOTES, wilson
from .figures import fmt as _fmt
from .figures import with_interval as _with_interval
from .paired import p_text as _p

MIN_SET = 10  # a set of fewer questions (blind-dev: 1) is reported in evals/out/report.md, not the README
ROWS = [("first_cite_gold", "First citation from gold doc"), ("key_fact_recall", "Key-fact recall"),
            ("answered_rate", "Answered (answerable)"), ("abstention_recall_offtopic", "Off-topic school questions refused"),
            ("abstention_recall", "Unanswerable refused (all)"), ("follow_up_correct", "Follow-ups correct"),
            ("cite_precision", "Citation precision"), ("verbatim", "Quotes verbatim")]
HELD_OUT_ROWS = [k for k in ROWS if k[0] not in ("abstention_recall", "verbatim")]


# Issue 11's acceptance: (metric, criterion, target). The held-out criteria are read on each held-out set and
# on all of them together (a share of questions: counts added; a mean per question: weighted by its count).
HELD_OUT_TARGETS = [("first_cite_gold", "first citation from a gold document", 0.92),
                    ("key_fact_recall", "key facts in the answer", 0.85),
                    ("answered_rate", "answerable answered", 0.92),
                    ("abstention_recall_offtopic", "off-topic abstained", 0.90),
                    ("follow_up_correct", "follow-ups correct", 7 / 8)]
WHOLE_SET_TARGETS = [("cite_precision", "citation precision, whole set", 0.88),
                     ("verbatim", "quotes verbatim, whole set", 1.00)]
# The original set's floors when issue 11 was filed (``tests/test_eval_floors.py`` at the time): "no
# regression on the existing 92 questions below the current floors".
ORIGINAL_FLOORS = [("first_cite_gold", "first citation", 0.94), ("answered_rate", "answered", 0.98),
                   ("abstention_recall_oos", "out-of-scope refused", 0.94),
                   ("abstention_recall_injection", "injections refused", 1.00)]


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def has_block(text: str, name: str) -> bool:
    start, end = _markers(name)
    return start in text and end in text.split(start, 1)[-1]


def replace_block(text: str, name: str, body: str) -> str:
    """``text`` with what stands between ``name``'s markers replaced by ``body``."""
    start, end = _markers(name)
    if not has_block(text, name):
        raise ValueError(f"no {start} … {end} markers")
    head, rest = text.split(start, 1)
    return f"{head}{start}\n{body.strip()}\n{end}{rest.split(end, 1)[1]}"


def by_set_block(sets: dict, ablated: dict | None) -> str | None:
    """Each set with at least ``MIN_SET`` questions: the shipped pipeline (bold), the first stage alone
    (the ``reranker`` ablation) and the LangChain baseline. None without dense or the ablation."""
    if "ours" not in sets or "dense" not in sets or not ablated or "reranker" not in ablated:
        return None
    names = [n for n, agg in sets["ours"].items() if agg["n"] >= MIN_SET]
    lines = ["| Metric | " + " | ".join(f"{n} ({sets['ours'][n]['n']}): judge / no judge / dense" for n in names) + " |",
             "|---|" + "---|" * len(names)]
    for key, label in ROWS:
        cells = [f"**{_fmt(sets['ours'][n].get(key))}** / {_fmt(ablated['reranker'][n].get(key))} / "
                 f"{_fmt(sets['dense'][n].get(key))}" for n in names]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def held_out_block(sets: dict) -> str | None:
    """Ours on every held-out set: each figure with its count and 95% interval."""
    if "ours" not in sets:
        return None
    names = [n for n in sets["ours"] if n.endswith("-heldout")]
    lines = ["| Held-out metric (ours) | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for key, label in HELD_OUT_ROWS:
        lines.append(f"| {label} | " + " | ".join(_with_interval(sets["ours"][n], key) for n in names) + " |")
    return "\n".join(lines)


def paired_block(tested: dict | None) -> str | None:
    """One row per component: shipped right and ablated wrong / the reverse (p), training and held-out."""
    if not tested:
        return None
    lines = ["| Without | what is switched off | first dev sets (original, *-dev): shipped right, ablated wrong / the reverse (p) | "
             "former held-out sets (now dev) or sealed: the same (p) |", "|---|---|---|---|"]
    for component, parts in tested.items():
        cells = [f"{parts[p]['better']} / {parts[p]['worse']} ({_p(parts[p]['p'])})" for p in ("training", "held-out")]
        lines.append(f"| `{component}` | {ABLATION_NOTES.get(component, '')} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def pooled(aggs: list[dict], key: str) -> dict | None:
    """``key`` over several sets together: ``{"value", "n"}``, with ``"k"``, ``"low"``, ``"high"`` (95% Wilson)
    for a share of questions; a mean of per-question fractions is weighted by each set's count (no interval:
    the per-question values are not kept in the aggregates)."""
    parts = [(a[key], a["intervals"][key]) for a in aggs if a.get(key) is not None and key in (a.get("intervals") or {})]
    if not parts:
        return None
    n = sum(ci["n"] for _, ci in parts)
    if all("k" in ci for _, ci in parts):
        k = sum(ci["k"] for _, ci in parts)
        return {"value": k / n, **wilson(k, n)}
    return {"value": sum(v * ci["n"] for v, ci in parts) / n, "n": n}


def _verdict(value: float | None, target: float, high: float | None = None) -> str:
    if value is None:
        return "n/a"
    if value >= target - 1e-9:
        return "**yes**"
    if high is not None and high >= target:
        return f"no (its 95% interval reaches it: up to {high:.2f})"
    return "no"


def acceptance_block(sets: dict, overall: dict) -> str | None:
    """Issue 11's quality criteria, each against its target: every held-out set's figure, the held-out sets
    together (with its count and 95% interval), and met or not on that pooled figure; then the whole-set
    criteria and the original set against its floors. None without ``ours``."""
    if "ours" not in sets or "ours" not in overall:
        return None
    ours = sets["ours"]
    names = [n for n in ours if n.endswith("-heldout")]
    lines = [f"| criterion (target) | {' / '.join(n.removesuffix('-heldout') for n in names)} | held-out together | met |",
             "|---|---|---|---|"]

    def one(agg: dict, key: str) -> str:
        ci = (agg.get("intervals") or {}).get(key)
        if agg.get(key) is None:
            return "n/a"
        return f"{ci['k']}/{ci['n']}" if key == "follow_up_correct" and ci else _fmt(agg[key])

    for key, label, target in HELD_OUT_TARGETS:
        goal = "7 of 8" if key == "follow_up_correct" else f"{target:.2f}"
        together = pooled([ours[n] for n in names], key)
        if together is None:
            lines.append(f"| {label}, held-out (≥ {goal}) | n/a | n/a | n/a |")
            continue
        shown = (f"{together['k']}/{together['n']} = {together['value']:.2f} ({together['low']:.2f}–{together['high']:.2f})"
                 if "k" in together else f"{together['value']:.2f} (n {together['n']})")
        lines.append(f"| {label}, held-out (≥ {goal}) | {' / '.join(one(ours[n], key) for n in names)} | {shown} | "
                     f"{_verdict(together['value'], target, together.get('high'))} |")
    for key, label, target in WHOLE_SET_TARGETS:
        value = overall["ours"].get(key)
        lines.append(f"| {label} (≥ {target:.2f}) | | {_fmt(value)} | {_verdict(value, target)} |")
    original = ours.get("original")
    if original:
        figures = [(label, original.get(key), floor) for key, label, floor in ORIGINAL_FLOORS if original.get(key) is not None]
        below = [label for label, value, floor in figures if value < floor - 1e-9]
        lines.append("| original set at or above its floors when the issue was filed ("
                     + ", ".join(f"{label} {floor:.2f}" for label, _, floor in figures) + ") | | "
                     + ", ".join(f"{label} {_fmt(value)}" for label, value, _ in figures) + " | "
                     + ("**yes**" if not below else f"no ({', '.join(below)})") + " |")
    return "\n".join(lines)


def update(path: Path, blocks: dict[str, str | None], require: bool = True) -> list[str]:
    """Rewrite each block of ``blocks`` that has a table and whose markers ``path`` has; returns the names
    left as they were. With ``require``, ``eval-table`` must be there: a README without it is an error, not a
    silent no-op (the other pages the tables live on, docs/EVALUATION.md, are updated with ``require=False``)."""
    text = path.read_text("utf-8")
    if require and not has_block(text, "eval-table"):
        start, end = _markers("eval-table")
        raise SystemExit(f"{path}: no {start} … {end} markers to replace")
    kept = []
    for name, body in blocks.items():
        if body is None or not has_block(text, name):
            kept.append(name)
            continue
        text = replace_block(text, name, body)
    path.write_text(text, "utf-8")
    return kept
