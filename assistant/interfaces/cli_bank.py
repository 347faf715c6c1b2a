"""CLI commands for the question bank and readers' corrections (a thin layer over ``Assistant.bank``):

    assistant bank list [--doc ID] [--json]              every bank entry (or those pointing into one document)
    assistant bank add QUESTION --sentence TEXT [...]    a question those sentences answer (--not-covered: none does)
    assistant bank remove QUESTION                       from every bank file and the index
    assistant bank check                                 anchors that match no sentence, files that do not parse
    assistant bank correct QUESTION --doc ID --start N   a reader's correction, for the review list (or --not-covered)
    assistant bank review [--json]                       the review list
    assistant bank review ID --accept | --reject | --edit QUESTION
"""
from __future__ import annotations

import json

EXIT_OK, EXIT_INPUT = 0, 2


def add_parsers(sub) -> None:
    bank = sub.add_parser("bank", description="The question bank (corpus/bank/*.toml): what each sentence answers, "
                                              "in the words people ask it; and readers' corrections waiting for review.")
    cmds = bank.add_subparsers(dest="bank_command", required=True, metavar="ACTION")
    ls = cmds.add_parser("list", description="Every bank entry: its questions and the sentences that answer them.")
    ls.add_argument("--doc", help="only entries pointing at a sentence of this document")
    ls.add_argument("--json", action="store_true")
    add = cmds.add_parser("add", description="Add a bank question (written to corpus/bank/added.toml).")
    add.add_argument("question", nargs="+")
    add.add_argument("--sentence", action="append", default=[], help="a sentence that answers it, exactly as "
                                                                     "`assistant show ID` prints it (repeatable)")
    add.add_argument("--not-covered", action="store_true", help="a question the documents do not cover")
    rm = cmds.add_parser("remove", description="Remove a bank question from every bank file and the index.")
    rm.add_argument("question", nargs="+")
    cmds.add_parser("check", description="Report bank anchors that match no sentence, and bank files that do not parse.")
    fix = cmds.add_parser("correct", description="Send a reader's correction to the review list.")
    fix.add_argument("question", nargs="+")
    fix.add_argument("--doc", help="the document whose sentence answers the question")
    fix.add_argument("--start", type=int, help="a character offset inside that sentence (as in a citation's start)")
    fix.add_argument("--sentence", help="or the sentence's text")
    fix.add_argument("--not-covered", action="store_true", help="the documents don't cover this question")
    rev = cmds.add_parser("review", description="The review list; with an ID, accept, edit or reject that correction.")
    rev.add_argument("id", nargs="?")
    what = rev.add_mutually_exclusive_group()
    what.add_argument("--accept", action="store_true")
    what.add_argument("--reject", action="store_true")
    what.add_argument("--edit", metavar="QUESTION", help="accept it with this wording of the question")
    rev.add_argument("--json", action="store_true")


def dispatch(assistant, args) -> int:
    from ..errors import InputError

    desk = assistant.bank
    cmd = args.bank_command
    if cmd == "list":
        keys = assistant.sentence_keys(args.doc) if args.doc else None
        entries = desk.entries(keys)
        if args.json:
            print(json.dumps(entries, ensure_ascii=False, indent=2))
        else:
            for e in entries:
                print(f"{e['file']}:{e['line']}  " + (" + ".join(f"“{s[:70]}”" for s in e["sentences"]) or
                                                      f"not covered ({e['topic']})"))
                for q in e["questions"]:
                    print(f"    - {q}")
        return EXIT_OK
    if cmd == "add":
        if bool(args.sentence) == bool(args.not_covered):
            raise InputError("Give the --sentence(s) that answer the question, or --not-covered (not both).")
        report = desk.add(" ".join(args.question), args.sentence)
        print(f"added — question bank {report.bank_size} questions (+{report.bank_added})")
        return EXIT_OK
    if cmd == "remove":
        n = desk.remove(" ".join(args.question))
        print(f"removed {n} question{'s' if n != 1 else ''}")
        return EXIT_OK
    if cmd == "check":
        problems = assistant.bank_problems()
        for p in problems:
            print(p)
        print(f"{len(problems)} problem{'s' if len(problems) != 1 else ''}")
        return EXIT_INPUT if problems else EXIT_OK
    if cmd == "correct":
        row = desk.correct(" ".join(args.question), doc_id=args.doc, start=args.start, sentence=args.sentence,
                           not_covered=args.not_covered)
        print(f"sent for review: {row['id']}")
        return EXIT_OK
    if cmd == "review":
        if not args.id:
            rows = desk.pending()
            if args.json:
                print(json.dumps(rows, ensure_ascii=False, indent=2))
            else:
                for r in rows:
                    said = "the documents don't cover it" if r["kind"] == "not_covered" else f"answered by “{r['sentence'][:90]}” ({r['doc_id']})"
                    print(f"{r['id']}  {r['created_at']}\n    question: {r['question']}\n    reader says: {said}")
                print(f"{len(rows)} waiting for review")
            return EXIT_OK
        action = "reject" if args.reject else "edit" if args.edit else "accept" if args.accept else None
        if action is None:
            raise InputError("Say what to do with it: --accept, --edit QUESTION or --reject.")
        desk.review(args.id, action, args.edit)
        print({"accept": "accepted: it is in the bank and answering now", "edit": "accepted as edited: it is in the "
               "bank and answering now", "reject": "rejected"}[action])
        return EXIT_OK
    return EXIT_INPUT
