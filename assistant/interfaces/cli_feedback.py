"""CLI for readers' ratings (``library.feedback``): the library manager's list and its CSV export.

    assistant feedback [--json]          every rating, oldest first (with a Chroma server: every instance's)
    assistant feedback --csv FILE        all of them as CSV (UTF-8 with a BOM, so Excel reads it)
"""
from __future__ import annotations

import json
from pathlib import Path

EXIT_OK = 0


def add_parsers(sub) -> None:
    fb = sub.add_parser("feedback", description="Readers' ratings of answers (personal details already removed); "
                                                "with a Chroma server, those taken by every instance.")
    fb.add_argument("--csv", metavar="FILE", type=Path, help="write them all to FILE as CSV")
    fb.add_argument("--json", action="store_true")


def dispatch(assistant, args) -> int:
    from ..library import feedback
    from ..safety.inputs import shown

    if args.csv:
        n = feedback.export_csv(args.csv, assistant.settings)
        print(f"{n} rating{'s' if n != 1 else ''} written to {args.csv}")
        return EXIT_OK
    rows = feedback.rows(assistant.settings)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return EXIT_OK
    for r in rows:
        comment = f"  \u2014 {shown(r['comment'], 120)}" if r["comment"] else ""
        print(f"{r['created_at']}  {r['rating']:<4}  {shown(r['question'], 80)}{comment}")
    print(f"{len(rows)} rating{'s' if len(rows) != 1 else ''}")
    return EXIT_OK
