"""The README's evaluation tables, rewritten from a run (``python -m evals --readme README.md``), so the
figures a reader sees are the ones a run measured, never copied by hand.

Each table sits between two markers, ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``:

* ``eval-table``: every system on all questions together (any run; the README must have it);
* ``by-set``: each question set, judge / no judge / dense (needs ``--systems dense,ours --ablation``);
* ``held-out``: ours on each held-out set, with counts and 95% intervals (needs ``ours``);
* ``paired``: each component's paired test (needs ``--ablation``).

A table whose run lacks what it needs is left as it was, and :func:`update` names it, so a quick run
(``--systems ours``) never blanks a table that only the full run can fill.
"""
from __future__ import annotations

from pathlib import Path

from .harness import ABLATION_NOTES, _fmt, _with_interval
from .paired import _p

MIN_SET = 10  # a set of fewer questions (blind-dev: 1) is reported in evals/out/report.md, not the README
ROWS = [("first_cite_gold", "First citation from gold doc"), ("key_fact_recall", "Key-fact recall"),
            ("answered_rate", "Answered (answerable)"), ("abstention_recall_offtopic", "Off-topic school questions refused"),
            ("abstention_recall", "Unanswerable refused (all)"), ("follow_up_correct", "Follow-ups correct"),
            ("cite_precision", "Citation precision"), ("verbatim", "Quotes verbatim")]
HELD_OUT_ROWS = [k for k in ROWS if k[0] not in ("abstention_recall", "verbatim")]


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
    lines = ["| Without | what is switched off | training: shipped right, ablated wrong / the reverse (p) | "
             "held-out: shipped right, ablated wrong / the reverse (p) |", "|---|---|---|---|"]
    for component, parts in tested.items():
        cells = [f"{parts[p]['better']} / {parts[p]['worse']} ({_p(parts[p]['p'])})" for p in ("training", "held-out")]
        lines.append(f"| `{component}` | {ABLATION_NOTES.get(component, '')} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def update(path: Path, blocks: dict[str, str | None]) -> list[str]:
    """Rewrite each block of ``blocks`` that has a table and whose markers ``path`` has; returns the names
    left as they were. ``eval-table`` must be there: a README without it is an error, not a silent no-op."""
    text = path.read_text("utf-8")
    if not has_block(text, "eval-table"):
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
