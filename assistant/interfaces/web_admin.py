"""The Manage library tab's documents: the admin password gate, adding, removing and editing a document's
details (title, publisher, date, kind, status) without removing it.

Why apart from ``web.py``: every message here speaks of this form's fields and buttons ("fill in Date and
Status under Edit a document's details"), never the CLI's commands and flags. The library raises errors that
carry data (``IdTaken``, ``UnknownDocument``, an ``InputError``'s ``field``); ``words`` turns them into the
form's words, as ``cli_library.message`` does into the CLI's. The readers' corrections and question bank
sections of the same tab are in ``web_bank.py``.
"""
from __future__ import annotations

import hmac
import logging
import math
import threading
import time
from typing import Any, Callable

import gradio as gr

from ..config import Settings
from ..errors import AssistantError, IdTaken, UnknownDocument
from ..library.details import not_recorded
from ..service import Assistant
from .web_files import discard, uploaded_path
from .web_html import message as _message, plural as _plural

log = logging.getLogger("assistant.ui")

KIND_CHOICES = ["letter", "news report", "consultation document", "statutory guidance", "school policy", "document"]
STATUS_CHOICES = ["proposal under consultation", "news report of proposals", "enacted law", "statutory guidance"]
WRONG_PASSWORD_DELAY_S = 0.6
# The form's names for a document's details (the labels of the fields below).
LABELS = {"title": "Title", "publisher": "Publisher", "date": "Date", "kind": "Kind", "status": "Status"}
EDIT_SECTION, EDIT_BUTTON = "Edit a document's details", "Save details"
UNCHANGED = " The library has not been changed."


class AdminGate:
    """The admin password check: compared in constant time (``hmac.compare_digest``), and failed
    attempts rate-limited per client address. ``settings.admin_max_failures`` wrong passwords within
    15 minutes lock admin actions for that address for ``settings.admin_lockout_seconds``, doubling
    with each further lockout (up to an hour); a correct password resets the count. Counts are kept in
    this process (each app instance keeps its own)."""

    WINDOW_S = 900
    MAX_LOCKOUT_S = 3600

    def __init__(self, settings: Settings, clock=time.monotonic):
        self.settings, self.clock = settings, clock
        self._lock = threading.Lock()
        self._clients: dict[str, dict] = {}

    @property
    def on(self) -> bool:
        """Whether library management is switched on (an admin password is set)."""
        return bool(self.settings.admin_password and self.settings.admin_password.get_secret_value())

    def check_request(self, given: str | None, request: gr.Request | None) -> str | None:
        """``check`` for the client that sent ``request``."""
        return self.check(given, client_address(request))

    def check(self, given: str | None, client: str = "unknown") -> str | None:
        """None when ``given`` is the admin password and ``client`` is not locked out, else the reason."""
        s = self.settings
        secret = s.admin_password.get_secret_value() if s.admin_password else ""
        if not secret:
            return ("Changing the library is switched off on this server. To switch it on, restart the app with "
                    "ASSISTANT_ADMIN_PASSWORD set.")
        now = self.clock()
        with self._lock:
            state = self._clients.setdefault(client, {"failures": [], "until": 0.0, "lockouts": 0})
            if now < state["until"]:
                return (f"Too many wrong admin passwords from this address; try again in "
                        f"{math.ceil(state['until'] - now)} seconds.")
        if not given:
            return "Enter the admin password to change the library."
        if hmac.compare_digest(given.encode("utf-8", "replace"), secret.encode("utf-8")):
            with self._lock:
                state.update(failures=[], lockouts=0)
            return None
        with self._lock:
            state["failures"] = [t for t in state["failures"] if now - t < self.WINDOW_S] + [now]
            if len(state["failures"]) >= s.admin_max_failures:
                state["lockouts"] += 1
                wait = min(s.admin_lockout_seconds * 2 ** (state["lockouts"] - 1), self.MAX_LOCKOUT_S)
                state.update(failures=[], until=now + wait)
                log.warning("admin actions locked for %s s after %d wrong passwords", wait, s.admin_max_failures)
                return (f"That admin password is not correct. After {s.admin_max_failures} wrong passwords, admin "
                        f"actions from this address are locked for {math.ceil(wait)} seconds.")
            if len(self._clients) > 10_000:  # forget addresses with nothing to remember
                self._clients = {k: v for k, v in self._clients.items() if v["failures"] or v["until"] > now}
        time.sleep(WRONG_PASSWORD_DELAY_S)  # slows down guessing a little more
        return "That admin password is not correct."


def client_address(request: gr.Request | None) -> str:
    client = getattr(request, "client", None)
    return str(getattr(client, "host", None) or "unknown")


def words(exc: AssistantError) -> str:
    """An error's message in this form's words: what to do next names its fields and buttons."""
    text = str(exc)
    if isinstance(exc, IdTaken):
        return (f"{text} To replace it, remove it first under “Remove a document”; to keep both, rename the file "
                "on your computer and upload it again.")
    if isinstance(exc, UnknownDocument):
        return f"{text} It may have just been removed; choose a document from the list."
    label = LABELS.get(getattr(exc, "field", None) or "")
    return f"{label}: {text}" if label and not text.startswith(label) else text


def unrecorded_words(source) -> str:
    """What the form says about a document added without its date or status, and where to set them."""
    missing = source.unrecorded
    shown_date = "undated" if not source.date else f"dated {source.display_date} (found in its text)"
    fields = " and ".join(LABELS[m] for m in missing)
    return (f"“{source.title}” was added without its {' or '.join(missing)}: readers see it as {shown_date}, "
            f"status {'not recorded' if 'status' in missing else source.status}, and every answer quoting it says "
            f"so. To set {'them' if len(missing) > 1 else 'it'}, fill in {fields} under “{EDIT_SECTION}” below "
            f"(the document is already chosen there) and press “{EDIT_BUTTON}”.")


FIELDS = ("title", "date", "kind", "status", "publisher")  # the order of the form's fields and the handlers'


def details_form(source) -> list:
    """The edit section's field values for ``source`` (in ``FIELDS`` order); not recorded: an empty field."""
    return ["" if not_recorded(field, getattr(source, field)) else getattr(source, field) for field in FIELDS]


class AdminUI:
    """The handlers of the tab's add, remove and edit sections. ``library``: the Sources tab's list and
    the document choices, refreshed after each change."""

    def __init__(self, assistant: Assistant, gate: AdminGate, library: Callable[[], tuple]):
        self.assistant, self.gate, self.library = assistant, gate, library

    def _refused(self, password: str, request) -> str | None:
        why = self.gate.check_request(password, request)
        return _message("error", why + UNCHANGED) if why else None

    def add_document(self, files, title: str, date: str, kind: str, status: str, publisher: str, password: str,
                     request: gr.Request = None, progress=gr.Progress(track_tqdm=True)):
        """Add document(s) to the library (admin password required). Returns (message HTML, library HTML,
        removal choices, edit choices)."""
        skip = (gr.skip(),) * 3
        refused = self._refused(password, request)
        if refused:
            return refused, *skip
        try:
            paths = [uploaded_path(f) for f in (files if isinstance(files, list) else [files] if files else [])]
        except AssistantError as exc:
            return _message("error", words(exc) + UNCHANGED), *skip
        if not paths:
            return _message("error", "Choose a file to add (txt, md, pdf, docx or html)."), *skip
        progress(0.05, desc="Reading and checking the document…")
        try:
            return self._add(paths, title, date, kind, status, publisher, skip, progress)
        finally:  # the upload has been read (and copied into the corpus) or refused: it no longer waits
            discard(paths)

    def _add(self, paths, title, date, kind, status, publisher, skip, progress):
        try:
            report = self.assistant.add(paths, title=(title or "").strip() or None, date=(date or "").strip() or None,
                                        kind=(kind or "").strip() or None, status=(status or "").strip() or None,
                                        publisher=(publisher or "").strip() or None, progress=True)
        except AssistantError as exc:
            return _message("error", words(exc) + UNCHANGED), *skip
        except Exception as exc:
            log.exception("adding a document failed")
            return _message("error", f"The document could not be added ({exc.__class__.__name__}: {exc})."
                            + UNCHANGED), *skip
        progress(1.0, desc="Done")
        rows = {r["id"]: r for r in self.assistant.sources()}
        added = [f"“{rows[i]['title']}” (id {i}, {_plural(int(rows[i]['passages']), 'passage')})" if i in rows else i
                 for i in report.added]
        lib_html, choices, edit_choices = self.library()
        text = (f"Added {', '.join(added)}. It can now be searched and quoted; see the Sources tab."
                if added else f"Nothing new was added ({report.summary()}).")
        message = _message("ok", text)
        for doc_id in report.added:  # added without its date or status: say where to set them, and choose it there
            source = self.assistant.details(doc_id)
            if source.unrecorded:
                message += _message("info", unrecorded_words(source))
                edit_choices = gr.update(choices=edit_choices.get("choices"), value=doc_id)
        return message, lib_html, choices, edit_choices

    def remove_document(self, doc_id: str, password: str, request: gr.Request = None, progress=gr.Progress()):
        """Remove a document from the library (admin password required)."""
        skip = (gr.skip(),) * 3
        refused = self._refused(password, request)
        if refused:
            return refused, *skip
        if not doc_id:
            return _message("error", "Choose a document to remove under “Document to remove”." + UNCHANGED), *skip
        progress(0.2, desc="Removing and re-indexing…")
        try:
            self.assistant.remove(doc_id)
        except AssistantError as exc:
            return _message("error", words(exc) + UNCHANGED), *skip
        uses = len(self.assistant.training_uses(doc_id))
        note = (f" Note: the training specification quotes it in {uses} line{'s' if uses != 1 else ''}; the duty "
                "cards and glossary now show those lines as missing." if uses else "")
        return _message("ok", f"Removed '{doc_id}' from the library.{note}"), *self.library()

    def choose(self, doc_id: str | None):
        """The edit section's fields filled in with the chosen document's details as recorded."""
        if not doc_id:
            return ["", "", "", None, None]
        try:
            return details_form(self.assistant.details(doc_id))
        except AssistantError:
            return [gr.skip()] * 5

    def open_from_library(self, evt: gr.EventData):
        """"Edit details" beside a document in the Sources tab: this tab, its edit section open, the
        document chosen and its details in the fields."""
        doc_id = str((evt._data or {}).get("doc") or "")
        return (gr.Tabs(selected="admin"), gr.Accordion(open=True), gr.update(value=doc_id or None),
                *self.choose(doc_id))

    def edit_details(self, doc_id: str, title: str, date: str, kind: str, status: str, publisher: str,
                     password: str, request: gr.Request = None):
        """Save the details changed in the edit section (admin password required); the document stays, and
        is re-indexed without re-reading its text. A field left empty: not recorded (Date: undated)."""
        skip = (gr.skip(),) * 3
        refused = self._refused(password, request)
        if refused:
            return refused, *skip
        if not doc_id:
            return _message("error", f"Choose a document under “{EDIT_SECTION}” first." + UNCHANGED), *skip
        given = dict(zip(FIELDS, ((v or "").strip() for v in (title, date, kind, status, publisher))))
        try:
            now = dict(zip(FIELDS, details_form(self.assistant.details(doc_id))))
            changes = {k: v for k, v in given.items() if v != now[k]}
            if not changes:
                return _message("info", "Nothing to save: the fields show the details already recorded."), *skip
            source = self.assistant.edit(doc_id, **changes)
        except AssistantError as exc:
            return _message("error", words(exc) + UNCHANGED), *skip
        except Exception as exc:
            log.exception("editing a document's details failed")
            return _message("error", f"The details could not be saved ({exc.__class__.__name__})." + UNCHANGED), *skip
        names = [LABELS[k] for k in changes]
        saved = " and ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " and " + names[-1]
        return _message("ok", f"Saved the new {saved} of “{source.title}” ({source.id}); answers and the Sources tab "
                        "show them from now on."), *self.library()


def add_document_sections(admin_on: bool) -> dict:
    """The add, remove and edit sections (called inside the Manage library tab). Returns its components."""
    c: dict[str, Any] = {}
    with gr.Accordion("Add a document", open=True):
        c["upload"] = gr.File(label="Document (txt, md, pdf, docx or html)", file_count="single",
                              file_types=[".txt", ".md", ".pdf", ".docx", ".html", ".htm"], elem_id="admin-file",
                              interactive=admin_on)
        c["add_fields"] = _detail_fields("add", "Taken from the document's heading (or file name) if empty")
        c["add_btn"] = gr.Button("Add to library", variant="primary", interactive=admin_on, elem_id="add-btn")
    with gr.Accordion("Remove a document", open=False):
        c["remove_choice"] = gr.Dropdown([], label="Document to remove", value=None, allow_custom_value=True)
        c["remove_btn"] = gr.Button("Remove from library", variant="stop", interactive=admin_on)
    with gr.Accordion(EDIT_SECTION, open=False, elem_id="edit-details") as c["edit_section"]:
        gr.Markdown("Correct or complete a document's title, publisher, date, kind or status without removing it. "
                    "A field left empty is shown to readers as not recorded.")
        c["edit_choice"] = gr.Dropdown([], label="Document", value=None, elem_id="edit-doc")
        c["edit_fields"] = _detail_fields("edit", "")
        c["edit_btn"] = gr.Button(EDIT_BUTTON, variant="primary", interactive=admin_on, elem_id="edit-save")
    return c


def _detail_fields(prefix: str, title_hint: str) -> list:
    """The detail fields, in ``FIELDS`` order (the order the handlers take them in)."""
    with gr.Row():
        title = gr.Textbox(label=LABELS["title"], placeholder=title_hint, elem_id=f"{prefix}-title")
        publisher = gr.Textbox(label=LABELS["publisher"], placeholder="e.g. DCSF", elem_id=f"{prefix}-publisher")
    with gr.Row():
        date = gr.Textbox(label=f"{LABELS['date']} (YYYY-MM-DD)", elem_id=f"{prefix}-date",
                          placeholder="e.g. 2008-07-03" + ("; empty = found in the text" if prefix == "add" else ""))
        kind = gr.Dropdown(KIND_CHOICES, label=LABELS["kind"], value=None, allow_custom_value=True,
                           elem_id=f"{prefix}-kind")
        status = gr.Dropdown(STATUS_CHOICES, label=f"{LABELS['status']} (what the text is)", value=None,
                             allow_custom_value=True, elem_id=f"{prefix}-status")
    return [title, date, kind, status, publisher]


def wire_document_sections(ui: AdminUI, c: dict, password, admin_msg, library_html, tabs) -> None:
    """The sections' events, and the Sources tab's "Edit details" links (``library_html``'s 'edit' event)."""
    private = {"api_visibility": "private"}
    lists = [library_html, c["remove_choice"], c["edit_choice"]]
    add_form = [c["upload"], *c["add_fields"]]
    c["add_btn"].click(ui.add_document, [c["upload"], *c["add_fields"], password], [admin_msg, *lists],
                       api_name="add_document", show_progress_on=[admin_msg]).then(
        lambda m: [None, "", "", None, None, ""] if 'msg-ok' in (m or "") else [gr.skip()] * 6, [admin_msg],
        add_form, queue=False, **private)
    c["remove_btn"].click(ui.remove_document, [c["remove_choice"], password], [admin_msg, *lists],
                          api_name="remove_document",
                          js="(doc, pw) => (doc && !window.confirm('Remove this document from the library for "
                             "everyone?')) ? [null, pw] : [doc, pw]")
    c["edit_choice"].change(ui.choose, [c["edit_choice"]], c["edit_fields"], queue=False, **private)
    c["edit_btn"].click(ui.edit_details, [c["edit_choice"], *c["edit_fields"], password], [admin_msg, *lists],
                        api_name="edit_document", show_progress_on=[admin_msg])
    library_html.edit(ui.open_from_library, None, [tabs, c["edit_section"], c["edit_choice"], *c["edit_fields"]],
                      show_progress="hidden", **private)
