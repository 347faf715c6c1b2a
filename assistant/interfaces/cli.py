"""Command line: a thin layer over ``Assistant``. Errors print one plain line and exit non-zero.

    assistant ask Which bodies are bound by the duty to co-operate?
    assistant ask --json "..."            one JSON object (the API contract)
    assistant ask --json --batch FILE     one JSON object per input line {"id", "question", "history"?}
    assistant index | add PATH... | edit ID --date … --status … | remove ID | sources | show ID | feedback
    assistant quiz [--n 10] [--seed 1] [--topic T] [--json] | duties [--json] | glossary [--json] | pack --out DIR
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import textwrap
from pathlib import Path

from .. import identity

EXIT_OK, EXIT_ERROR, EXIT_INPUT = 0, 1, 2
PROGRESS_LOGGER = "assistant.progress"  # see assistant/live.py
REFUSED = ("invalid_input", "unsafe_input")  # statuses that exit with EXIT_INPUT
MAX_STDIN_BYTES = 4 * 1024 * 1024  # a question read from stdin; the question limit applies after
# The description and the two example questions (`assistant --help`) are the library's own:
# ``cli_description`` and ``cli_examples`` in corpus/library.toml.

EPILOG = """\
examples:
  assistant ask {first}
  assistant ask --json "{second}"
  assistant sources
  assistant duties

commands:
  ask QUESTION...       answer a question with quoted, cited sentences
  sources               list the documents in the library
  show ID               print a document's text
  duties                duty explainer cards (governor training)
  glossary              terms a new governor meets, defined by quoted sentences
  quiz                  quiz questions with answers and quoted sources
  pack --out DIR        the training pack as Markdown and PDF

managing the library:
  add FILE...           add documents (txt, md, pdf, docx, html) with --title, --date, --status
  edit ID               change a document's --title, --publisher, --date, --kind or --status
  remove ID             remove a document
  index                 bring the index up to date with the corpus folder
  bank list|add|remove|check|correct|review
                        the question bank (what each sentence answers) and readers' corrections
  feedback [--csv FILE] readers' ratings of answers (every instance's), or their CSV export

for developers (from a clone; the evaluation is not part of the installed product):
  python -m evals       evaluate the answers (make eval rewrites the README's tables)
  python -m evals.bench benchmark indexing, latency, memory and start-up

Run `assistant COMMAND --help` for a command's options."""


def _description() -> str:
    """The library's own description (corpus/library.toml); a typo in that file is said under it."""
    said, problem = identity.current(), identity.current_problem()
    return said.cli_description + (f"\n\nwarning: {problem}" if problem else "")


def _epilog() -> str:
    first, *rest = identity.current().cli_examples
    return EPILOG.replace("{first}", first).replace("{second}", rest[-1] if rest else first)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="assistant", description=_description(), epilog=_epilog(),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    # The commands are listed, grouped, in the epilog; argparse's own list would mix them all together.
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", help="one of the commands below")

    ask = sub.add_parser("ask", description="Answer a question with quoted, cited sentences.")
    ask.add_argument("question", nargs="*", help="the question, quoted or not; '-' reads it from standard input "
                                                 "(omit with --batch)")
    ask.add_argument("--json", action="store_true", help="print the JSON object instead of text")
    ask.add_argument("--batch", type=Path, metavar="FILE", help="JSONL file of {\"id\", \"question\", \"history\"?}")
    ask.add_argument("--previous", action="append", default=[], metavar="QUESTION",
                     help="an earlier question of this conversation (repeatable), for follow-ups")

    idx = sub.add_parser("index", description="Build or update the index (incremental).")
    idx.add_argument("--rebuild", action="store_true", help="drop the index and build it from scratch")
    idx.add_argument("-v", "--verbose", action="store_true", help="one line on stderr per document indexed")

    add = sub.add_parser("add", description="Add documents (txt, md, pdf, docx, html) to the library.")
    add.add_argument("paths", nargs="+", type=Path)
    add.add_argument("--title")
    add.add_argument("--date", help="YYYY-MM-DD")
    add.add_argument("--kind", help="e.g. 'school policy', 'statutory guidance'")
    add.add_argument("--status", help="e.g. 'enacted law', 'proposal under consultation'")
    add.add_argument("--publisher")
    add.add_argument("--id", dest="doc_id", help="document id (single file only)")

    rm = sub.add_parser("remove", description="Remove a document from the library.")
    rm.add_argument("doc_id")

    src = sub.add_parser("sources", description="List the documents in the library.")
    src.add_argument("--json", action="store_true")

    show = sub.add_parser("show", description="Print a document's cleaned text.")
    show.add_argument("doc_id")

    _training_parsers(sub)
    from .cli_library import add_parsers as library_parsers

    library_parsers(sub)
    from .cli_bank import add_parsers as bank_parsers

    bank_parsers(sub)
    from .cli_feedback import add_parsers as feedback_parsers

    feedback_parsers(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:  # a bare `assistant`: what it does and its commands, not an error
        build_parser().print_help()
        return EXIT_OK
    if argv[0] in ("eval", "bench"):  # the evaluation lives beside the product (evals/), never inside it
        tool = "python -m evals" if argv[0] == "eval" else "python -m evals.bench"
        print(f"error: `assistant {argv[0]}` is not a command: the evaluation is run from a clone with `{tool}` "
              f"(or `make {argv[0]}`)", file=sys.stderr)
        return EXIT_INPUT
    args = build_parser().parse_args(argv)
    import logging

    logging.getLogger("assistant").addHandler(logging.NullHandler())  # messages below are the output
    # What a slow, one-off step is doing (building the index on first use, preparing the encoder), on
    # standard error so that standard output stays the answer (one JSON object with --json).
    status = logging.StreamHandler(sys.stderr)
    status.setFormatter(logging.Formatter("%(message)s"))
    progress = logging.getLogger(PROGRESS_LOGGER)
    progress.addHandler(status)
    progress.setLevel(logging.INFO)
    from ..errors import AssistantError

    try:
        return _dispatch(args)
    except AssistantError as exc:
        from .cli_library import message

        print(f"error: {message(exc)}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`| head -1`): what it wanted was written
        _discard_stdout()
        return EXIT_OK
    except Exception as exc:  # never a traceback for a person; ASSISTANT_DEBUG=1 shows it
        if os.environ.get("ASSISTANT_DEBUG"):
            raise
        print(f"error: unexpected {exc.__class__.__name__}: {exc} (set ASSISTANT_DEBUG=1 for details)", file=sys.stderr)
        return EXIT_ERROR


def _discard_stdout() -> None:
    """Point standard output at /dev/null, so the interpreter's last flush into the closed pipe is
    silent (otherwise Python prints "Exception ignored ... BrokenPipeError" at exit)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _dispatch(args) -> int:
    from .. import Assistant
    from ..safety.netguard import install_from_settings

    assistant = Assistant()
    install_from_settings(assistant.settings)  # nothing leaves the machine
    try:
        return _command(args, assistant)
    finally:
        for notice in assistant.notices:  # e.g. a damaged index was set aside and rebuilt
            print(f"warning: {notice}", file=sys.stderr)


def _command(args, assistant) -> int:
    from ..errors import InputError

    if args.command == "ask":
        if args.batch:
            return _batch(assistant, args.batch)
        if not args.question:
            raise InputError(f"Give a question, e.g. assistant ask {identity.current().cli_examples[-1]}")
        # Most people type the question without quotes: the words are joined back into one question.
        question = _read_stdin() if args.question == ["-"] else " ".join(args.question)
        answer = assistant.ask(question, history=args.previous)
        if args.json:
            print(answer.model_dump_json())
        else:
            print(render(answer))
        return EXIT_INPUT if answer.status in REFUSED else EXIT_OK
    if args.command == "index":
        log = (lambda line: print(line, file=sys.stderr, flush=True)) if args.verbose else None
        report = assistant.index(progress=sys.stderr.isatty() and not args.verbose, rebuild=args.rebuild, log=log)
        print(report.summary())
        for doc_id, why in report.failed.items():
            print(f"error: {doc_id}: {why}", file=sys.stderr)
        for problem in report.bank_problems:
            print(f"warning: question bank: {problem}", file=sys.stderr)
        return EXIT_INPUT if report.failed else EXIT_OK
    if args.command == "add":
        report = assistant.add(args.paths, title=args.title, date=args.date, kind=args.kind, status=args.status,
                               publisher=args.publisher, doc_id=args.doc_id, progress=sys.stderr.isatty())
        print(f"added: {', '.join(report.added) or 'nothing new'} — {report.summary()}")
        from .cli_library import unrecorded

        for doc_id in report.added:  # added without its date or status: say how to set them
            unrecorded(assistant.details(doc_id))
        return EXIT_OK
    if args.command == "edit":
        from .cli_library import edit

        return edit(assistant, args)
    if args.command == "remove":
        report = assistant.remove(args.doc_id)
        print(f"removed {args.doc_id} — {report.summary()}")
        uses = assistant.training_uses(args.doc_id)
        if uses:
            shown_uses = ", ".join(uses[:3]) + (f" and {len(uses) - 3} more" if len(uses) > 3 else "")
            print(f"warning: the training specification quotes '{args.doc_id}' in {len(uses)} "
                  f"line{'s' if len(uses) != 1 else ''} ({shown_uses}); the duty cards and glossary now show "
                  "them as missing. Add the document back, or edit training.toml.", file=sys.stderr)
        return EXIT_OK
    if args.command == "sources":
        from ..library.health import missing_note

        rows = assistant.sources()
        if args.json:
            print(json.dumps(rows, ensure_ascii=False, indent=2))
        else:
            from .cli_library import recorded

            for r in rows:  # a detail nobody gave reads "not recorded"
                print(f"{r['id']}\n  {r['title']}\n  {recorded('publisher', r['publisher'], named=True)} · {r['display_date']} · "
                      f"{r['kind']} · status: {recorded('status', r['status'])} · {r['passages']} passages")
        if note := missing_note(assistant.missing()):  # a killed add or rebuild, a file that failed to index
            print(f"warning: {note}", file=sys.stderr)
        return EXIT_OK
    if args.command == "show":
        print(assistant.document_text(args.doc_id))
        return EXIT_OK
    if args.command == "bank":
        from .cli_bank import dispatch as bank

        return bank(assistant, args)
    if args.command == "feedback":
        from .cli_feedback import dispatch as feedback

        return feedback(assistant, args)
    if args.command in ("quiz", "duties", "glossary", "pack"):
        from .cli_training import dispatch

        return dispatch(assistant, args)
    return EXIT_ERROR


def _training_parsers(sub) -> None:
    from .cli_training import add_parsers

    add_parsers(sub)


def _read_stdin() -> str:
    from ..errors import InputError

    data = sys.stdin.buffer.read(MAX_STDIN_BYTES + 1)
    if len(data) > MAX_STDIN_BYTES:
        raise InputError(f"The question on standard input is over {MAX_STDIN_BYTES // (1024 * 1024)} MB; "
                         "the question limit is far smaller. Please shorten it.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("The question on standard input is not UTF-8 text.") from None


def _batch(assistant, path: Path) -> int:
    from .batch import run_batch

    return EXIT_INPUT if run_batch(assistant, path) else EXIT_OK


def render(answer) -> str:
    """The answer and its sources, for a person at a terminal, wrapped to its width (at most 100)."""
    from ..markers import document_brackets

    width = max(40, min(100, shutil.get_terminal_size((100, 24)).columns))
    if answer.abstained:
        return textwrap.fill(answer.message or answer.answer, width)
    out = [textwrap.fill(f"{lead} “{quoted}”", width) + "\n" for lead, quoted in filter(None, [answer.reading()])]
    # The record line apart; the quotes as one paragraph, each citation group's white space (a quote that
    # runs over a paragraph break) shown as one space.
    out += [textwrap.fill(" ".join(part.split()), width) + "\n" for part in (answer.record, answer.quotes) if part]
    if own := document_brackets(answer.answer, answer.citations):  # a quoted footnote mark is no citation
        where = "; ".join(f"the [{m.n}] in “{' '.join(answer.answer[:m.start].split()[-3:])} [{m.n}]”" for m in own)
        out += [textwrap.fill(f"Note: {where}: part of the quoted text (the document's own footnote mark), not a "
                              "citation.", width), ""]
    if answer.notice:
        out += [textwrap.fill(f"Note: {answer.notice}", width), ""]
    if answer.mode == "extractive-fallback":
        out += [textwrap.fill(f"(Language-model answer not used: {answer.fallback_reason}.)", width), ""]
    out.append("Sources:")
    from .cli_library import recorded

    for c in answer.citations:
        out.append(textwrap.fill(f"[{c.n}] {c.title}", width, subsequent_indent="    "))
        out.append(textwrap.fill(f"{c.author + ' · ' if c.author else ''}{recorded('publisher', c.publisher, named=True)}, {c.display_date} · "
                                 f"{recorded('status', c.status, named=True)} · "
                                 f"{c.location}", width, initial_indent="    ", subsequent_indent="    "))
        out.append(textwrap.fill(f"“{' '.join(c.quote.split())}”", width, initial_indent="    ", subsequent_indent="    "))
    return "\n".join(out)
