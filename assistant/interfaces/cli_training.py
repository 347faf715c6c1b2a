"""CLI commands for governor training (a thin layer over ``Assistant``):

    assistant quiz -n 10 --seed 1 [--topic T] [--json]   one JSON object per question with --json
    assistant duties [--json]                              the duty explainer cards
    assistant glossary [--json]                            terms with their quoted definitions
    assistant pack --out DIR [--n 10] [--seed 1] [--topic T]   training pack as Markdown and PDF
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import textwrap
from pathlib import Path

from .. import identity
from ..training.quiz import MAX_QUESTIONS

EXIT_OK = 0
WIDTH = 100
LETTERS = "ABCDEFGH"


def _count(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a whole number") from None
    if not 1 <= n <= MAX_QUESTIONS:
        raise argparse.ArgumentTypeError(f"choose from 1 to {MAX_QUESTIONS} questions")
    return n


def _seed(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a whole number") from None


def _quiz_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-n", "--n", type=_count, default=10, help=f"number of questions, 1-{MAX_QUESTIONS} (default 10)")
    p.add_argument("--seed", type=_seed, default=None,
                   help="quiz number: the same seed gives the same questions (default: a new random one)")
    p.add_argument("--topic", default=None,
                   help="a duty id, e.g. duty-to-co-operate (see `assistant duties`); default: all duties")


def add_parsers(sub) -> None:
    quiz = sub.add_parser("quiz", description="Quiz questions from the documents, with answers and quoted sources.")
    _quiz_options(quiz)
    quiz.add_argument("--json", action="store_true", help="one JSON object per question")
    duties = sub.add_parser("duties", description="Duty explainer cards: every line a quoted, cited sentence.")
    duties.add_argument("--json", action="store_true")
    glossary = sub.add_parser("glossary", description="Terms a new governor meets, defined by quoted sentences.")
    glossary.add_argument("--json", action="store_true")
    pack = sub.add_parser("pack", description="Write the training pack (duty summaries, quiz, answers) as Markdown and PDF.")
    pack.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to write the pack into")
    _quiz_options(pack)
    pack.add_argument("--json", action="store_true", help="print what was written as JSON")


def dispatch(assistant, args) -> int:
    if args.command in ("quiz", "pack") and args.seed is None:
        args.seed = random.SystemRandom().randrange(1, 100_000)
    if args.command == "quiz":
        questions = assistant.quiz(n=args.n, seed=args.seed, topic=args.topic)
        if args.json:
            for q in questions:
                print(q.model_dump_json(), flush=True)
        else:
            print(render_quiz(questions, args.seed))
        return EXIT_OK
    if args.command == "duties":
        cards = assistant.duties()
        print(json.dumps([c.model_dump() for c in cards], ensure_ascii=False, indent=2) if args.json
              else render_cards(cards))
        return EXIT_OK
    if args.command == "glossary":
        entries = assistant.glossary()
        print(json.dumps([g.model_dump() for g in entries], ensure_ascii=False, indent=2) if args.json
              else render_glossary(entries))
        return EXIT_OK
    if args.command == "pack":
        written = assistant.training_pack(args.out, n=args.n, seed=args.seed, topic=args.topic)
        if args.json:
            print(json.dumps(written, ensure_ascii=False))
        else:
            print(f"wrote {written['markdown']}\nwrote {written['pdf']}\n"
                  f"({written['questions']} questions, {written['duties']} duty summaries, quiz number {written['seed']})")
        return EXIT_OK
    return 1


def _wrap(text: str, indent: str = "", rest: str | None = None) -> str:
    width = max(40, min(WIDTH, shutil.get_terminal_size((WIDTH, 24)).columns))  # the terminal's, at most 100
    return textwrap.fill(text, width, initial_indent=indent, subsequent_indent=indent if rest is None else rest)


def _source(c) -> str:
    return f"{c.title} ({c.publisher}, {c.display_date}; {c.status}; {c.location})"


def render_quiz(questions, seed: int) -> str:
    out = [_wrap(f"Quiz number {seed} ({len(questions)} questions). {identity.current().training_notice}"), ""]
    for q in questions:
        out.append(_wrap(f"{q.number}. {q.question}"))
        out += [f"     {LETTERS[i]}. {c}" for i, c in enumerate(q.choices)]
        out.append("")
    out += ["Answers", "-------"]
    for q in questions:
        out.append(_wrap(f"{q.number}. {LETTERS[q.answer_index]}. {q.answer} — {q.explanation}"))
        out.append(_wrap(f"“{q.citation.quote}”", "     "))
        out.append(_wrap(_source(q.citation), "     "))
    return "\n".join(out)


def render_cards(cards) -> str:
    out = [_wrap(identity.current().training_notice), ""]
    for card in cards:
        out += [_wrap(card.name.upper()), _wrap(" · ".join(b.label for b in card.badges), "  "),
                _wrap(f"topic id: {card.id} (for `assistant quiz --topic {card.id}`)", "  ")]
        for f in card.fields:
            out.append(f"  {f.label}:")
            for line in f.lines:
                label = line.level or line.tag
                out.append(_wrap(f"{'[' + label + '] ' if label else ''}“{line.citation.quote}”", "    - ", "      "))
                out.append(_wrap(_source(line.citation), "        "))
            out += [_wrap(f"({why})", "    - ", "      ") for why in f.missing]
            if f.note:
                out.append(_wrap(f"({f.note})", "    - ", "      "))
        out.append("")
    return "\n".join(out).rstrip()


def render_glossary(entries) -> str:
    out = [_wrap(identity.current().training_notice), ""]
    for g in entries:
        out.append(g.term)
        for line in g.lines:
            out.append(_wrap(f"“{line.citation.quote}”", "    "))
            out.append(_wrap(_source(line.citation), "        "))
        out += [_wrap(f"({why})", "    ") for why in g.missing]
        if g.note:
            out.append(_wrap(f"({g.note})", "    "))
    return "\n".join(out)
