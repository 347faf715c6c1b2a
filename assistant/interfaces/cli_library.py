"""CLI words for the library commands: ``edit``, and what ``add``, ``remove`` and ``show`` say when a
detail is missing or an id clashes — in the CLI's own terms (commands and flags).

Why a module of its own: the library raises errors that carry data (``IdTaken``, ``UnknownDocument``,
a ``field``), and each interface words them; the web form's wording is in ``web_admin.py``.
"""
from __future__ import annotations

import sys

from ..errors import AssistantError, IdTaken, UnknownDocument
from ..library.details import not_recorded

EXIT_OK = 0
FLAGS = {"title": "--title", "publisher": "--publisher", "date": "--date", "kind": "--kind", "status": "--status",
         "id": "--id"}


def add_parsers(sub) -> None:
    edit = sub.add_parser("edit", description="Change a document's details without removing it: only the options "
                          "given change. An empty value ('') sets a detail back to not recorded (the date: undated).")
    edit.add_argument("doc_id", metavar="ID", help="the document's id (see `assistant sources`)")
    edit.add_argument("--title")
    edit.add_argument("--publisher")
    edit.add_argument("--date", help="YYYY-MM-DD")
    edit.add_argument("--kind", help="e.g. 'school policy', 'statutory guidance'")
    edit.add_argument("--status", help="e.g. 'enacted law', 'proposal under consultation'")


def edit(assistant, args) -> int:
    changes = {k: getattr(args, k) for k in FLAGS if k != "id" and getattr(args, k) is not None}
    if not changes:
        print("error: give at least one of --title, --publisher, --date, --kind, --status to change.", file=sys.stderr)
        return 2
    source = assistant.edit(args.doc_id, **changes)
    print(f"edited {source.id}: " + " · ".join(f"{k} {shown_detail(source, k)}" for k in changes))
    unrecorded(source, added=False)
    return EXIT_OK


def recorded(field: str, value: str | None, named: bool = False) -> str:
    """A detail as a reader sees it: what the library stores when nobody gave it reads "not recorded"
    ("publisher not recorded" when ``named``, where a bare "not recorded" would not say what)."""
    return (f"{field} not recorded" if named else "not recorded") if not_recorded(field, value) else str(value)


def shown_detail(source, field: str) -> str:
    if field == "date":
        return source.display_date
    value = recorded(field, getattr(source, field))
    return value if value == "not recorded" else f"'{value}'"


def unrecorded(source, added: bool = True) -> None:
    """A warning on standard error when ``source`` has no date or status, and how to set them."""
    missing = source.unrecorded
    if not missing:
        return
    shown_date = "undated" if not source.date else f"dated {source.display_date} (found in its text)"
    flags = " ".join(f"--{m} " + ("YYYY-MM-DD" if m == "date" else '"..."') for m in missing)
    what = f"was added without its {' or '.join(missing)}" if added else f"has no recorded {' or '.join(missing)}"
    print(f"warning: '{source.title}' ({source.id}) {what}: it is shown as "
          f"{shown_date}, status {'not recorded' if 'status' in missing else repr(source.status)}, and every answer "
          f"quoting it says so. Set them with `assistant edit {source.id} {flags}` (or edit its entry "
          f"[{source.id}] in sources.toml and run `assistant index`).", file=sys.stderr)


def message(exc: AssistantError) -> str:
    """The error's message, with what to do next in the CLI's terms where the error carries the data."""
    text = str(exc)
    if isinstance(exc, IdTaken):
        return (f"{text} Remove it first (`assistant remove {exc.doc_id}`), or give this one another id "
                "(--id NEW-ID) or rename the file.")
    if isinstance(exc, UnknownDocument):
        return f"{text} See `assistant sources` for the ids."
    field = getattr(exc, "field", None)
    if field in FLAGS and FLAGS[field] not in text:
        return f"{FLAGS[field]}: {text}"
    return text
