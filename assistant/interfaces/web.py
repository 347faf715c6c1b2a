"""The web UI: a thin Gradio layer over ``Assistant`` (no retrieval or answering logic here).

    python app.py                      # http://127.0.0.1:7860 (ASSISTANT_HOST/_PORT or GRADIO_SERVER_NAME/_PORT)

Tabs: Ask (chat with cited quotes, source viewer, feedback, readers' corrections after "Not helpful",
export), Sources (the library), Manage library (add/remove documents, corrections to review, the question
bank; needs ASSISTANT_ADMIN_PASSWORD). Named API endpoints for scripts: ``/ask`` (same JSON as
``assistant ask --json``), ``/sources``, ``/document``, ``/add_document``, ``/remove_document``, and
``/correct``, ``/corrections``, ``/review`` (``web_bank.py``).

Every piece of document or user text that goes into HTML passes through ``html.escape`` (``web_html.e``).
The HTML itself is made in ``web_html.py``, the browser side (JS, CSS, theme) in ``web_assets.py``, the
governor training tabs in ``web_training.py``.
"""
from __future__ import annotations

import datetime as dt
import hmac
import logging
import math
import os
import re
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import gradio as gr

from .. import export
from . import feedback
from ..config import Settings
from ..errors import AssistantError, InputError
from ..service import Assistant
from .web_bank import CSS as BANK_CSS
from .web_bank import PICK_JS, BankUI, add_bank_admin, add_bank_api  # readers' corrections, the question bank
from .web_assets import ANNOUNCE_JS, CONVERSATION_JS, CSS, HEAD, LIBRARY_JS, SOURCE_JS, theme
from .web_html import (STARTERS, SOURCE_PLACEHOLDER, _message, _plural, e, highlight_span, render_conversation,
                       render_library, render_source, say)
from .web_training import CSS as TRAINING_CSS
from .web_training import add_training_tabs  # Duties and Quiz tabs (governor training)

log = logging.getLogger("assistant.ui")

APP_TITLE = "Children's trusts & pupils' well-being: the 2008 proposals"
KIND_CHOICES = ["letter", "news report", "consultation document", "statutory guidance", "school policy", "document"]
STATUS_CHOICES = ["proposal under consultation", "news report of proposals", "enacted law", "statutory guidance",
                  "unspecified"]
HISTORY_TURNS = 6  # earlier question/answer pairs passed to ``ask`` for follow-ups
WRONG_PASSWORD_DELAY_S = 0.6



def history_of(turns: list[dict]) -> list[dict]:
    """The conversation so far as ``ask`` history: [{"role", "content", "status"?}, ...] (an answer's status
    with it, so a follow-up knows what was answered). A turn asked "as a new
    question" (``fresh``) starts the history again: its reading as a follow-up was wrong, so neither it
    nor the questions after it should lean on the turns before it. To get the history for pending turn
    ``i``, pass ``turns[:i + 1]``: the pending turn adds nothing, but its ``fresh`` mark still counts."""
    out: list[dict] = []
    for t in turns:
        if t.get("fresh"):
            out = []
        a = t.get("answer")
        if not a or t.get("pending"):
            continue
        out.append({"role": "user", "content": t["question"]})
        if not a.get("abstained"):  # an abstention message names every topic; it would mislead follow-ups
            out.append({"role": "assistant", "content": a.get("answer") or "", "status": a.get("status") or "answered"})
    return out[-2 * HISTORY_TURNS:]


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


def uploaded_path(file: Any) -> Path:
    """The server path of a file that was uploaded through this app, from the raw FileData the
    browser or gradio_client sends. A link, or a path outside Gradio's upload folder (``/etc/...``,
    ``../``), is refused: the app never fetches URLs and never reads server files for a client."""
    raw = file.get("path") if isinstance(file, dict) else getattr(file, "path", None) or file
    if not isinstance(raw, str) or not raw:
        raise InputError("The upload could not be read; choose the file again.")
    if re.match(r"^[a-z][a-z0-9+.-]*://", raw, re.I):
        raise InputError("Documents must be uploaded from your computer; links are not fetched.")
    from gradio.utils import get_upload_folder

    path = Path(raw).resolve()
    if Path(get_upload_folder()).resolve() not in path.parents:
        raise InputError("That file was not uploaded through this app; upload it from your computer.")
    return path


# ---- the app ----------------------------------------------------------------------------------------
class UI:
    """Event handlers: each one is a thin call into ``Assistant`` plus rendering."""

    def __init__(self, assistant: Assistant):
        self.assistant = assistant
        self.settings = assistant.settings
        self.admin = AdminGate(self.settings)
        self.bank = BankUI(assistant, lambda given, request: self.admin.check(given, client_address(request)))
        self._export_dir = Path(tempfile.mkdtemp(prefix="assistant-exports-"))

    # chat ------------------------------------------------------------------------------------------
    def start(self, question: str, turns: list[dict]):
        """Show the question at once, with a 'searching' placeholder; ``answer`` fills it in."""
        question = (question or "").strip()
        if not question:
            return turns, gr.skip(), gr.skip(), say("Type a question first.")
        turns = [*turns, {"question": question, "pending": True}]
        return turns, render_conversation(turns), "", say("Searching the documents.")

    def start_starter(self, turns: list[dict], evt: gr.EventData):
        """A suggested question was chosen (only suggested ones are accepted from this event)."""
        q = str((evt._data or {}).get("q") or "")
        return self.start(q if q in STARTERS else "", turns)

    def start_again(self, turns: list[dict], evt: gr.EventData):
        """"Ask as a new question": the question of turn ``turn`` again, answered without the conversation
        before it (its reading as a follow-up was wrong). The text comes from the page's state, not from
        the browser, so only a question already asked can be re-asked."""
        try:
            question = turns[int((evt._data or {})["turn"])]["question"]
        except (KeyError, IndexError, TypeError, ValueError):
            return gr.skip(), gr.skip(), gr.skip(), ""
        turns = [*turns, {"question": question, "pending": True, "fresh": True}]
        return turns, render_conversation(turns), gr.skip(), say("Asking again as a new question.")

    def answer(self, turns: list[dict]):
        turns = [dict(t) for t in turns]
        said = ""
        for i, t in enumerate(turns):
            if not t.get("pending"):
                continue
            try:
                a = self.assistant.ask(t["question"], history=history_of(turns[:i + 1]))
                t["answer"] = a.model_dump()
                if a.warnings:  # personal details were removed: keep them out of the page state and exports too
                    t["question"] = a.question
                said = ("No answer: " + (a.message or "")) if a.abstained else \
                    f"Answer ready, quoting {len(a.citations)} source{'s' if len(a.citations) != 1 else ''}."
            except AssistantError as exc:
                t["error"] = str(exc)
                said = f"Error: {exc}"
            except Exception as exc:  # keep the page usable; details go to the server log
                log.exception("answering failed")
                t["error"] = f"The assistant could not answer ({exc.__class__.__name__}). Please try again."
                said = t["error"]
            t.pop("pending", None)
        return turns, render_conversation(turns), say(said)

    def answer_stream(self, turns: list[dict]):
        """LLM mode: show the model's words as they stream in, then replace them with the verified answer."""
        turns = [dict(t) for t in turns]
        said = ""
        for i, t in enumerate(turns):
            if not t.get("pending"):
                continue
            try:
                for event in self.assistant.ask_stream(t["question"], history=history_of(turns[:i + 1])):
                    if event["event"] == "token":
                        t["draft"] = t.get("draft", "") + event["text"]
                        yield turns, render_conversation(turns), gr.skip()
                    else:
                        a = event["answer"]
                        t["answer"] = a.model_dump()
                        said = ("No answer: " + (a.message or "")) if a.abstained else \
                            f"Answer ready, citing {len(a.citations)} source{'s' if len(a.citations) != 1 else ''}."
            except AssistantError as exc:
                t["error"] = str(exc)
                said = f"Error: {exc}"
            except Exception as exc:  # keep the page usable; details go to the server log
                log.exception("answering failed")
                t["error"] = f"The assistant could not answer ({exc.__class__.__name__}). Please try again."
                said = t["error"]
            t.pop("pending", None)
            t.pop("draft", None)
        yield turns, render_conversation(turns), said

    def answer_with_exports(self, turns: list[dict]):
        """The answer and the two save buttons in one update, so the buttons are enabled in the same
        frame as the answer appears (a separate step after it left them grey for seconds)."""
        turns, html, said = self.answer(turns)
        return (turns, html, said, *self.exports(turns))

    def answer_stream_with_exports(self, turns: list[dict]):
        """LLM mode: as ``answer_stream``; the final (verified) update carries the save buttons too."""
        for update in self.answer_stream(turns):
            done = not any(t.get("pending") for t in update[0])
            yield (*update, *(self.exports(update[0]) if done else (gr.skip(), gr.skip())))

    def clear(self):
        return ([], render_conversation([]), SOURCE_PLACEHOLDER, gr.update(value=None, interactive=False),
                gr.update(value=None, interactive=False), "", say("Conversation cleared."))

    def exports(self, turns: list[dict]):
        """Fresh Markdown and PDF files of the conversation for the two download buttons."""
        done = [t for t in turns if t.get("answer")]
        if not done:
            return gr.update(value=None, interactive=False), gr.update(value=None, interactive=False)
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        folder = Path(tempfile.mkdtemp(dir=self._export_dir))
        md = export.write_markdown(done, folder / f"conversation-{stamp}.md")
        try:
            pdf = gr.update(value=str(export.write_pdf(done, folder / f"conversation-{stamp}.pdf")), interactive=True)
        except Exception:  # Markdown still works if PDF fails
            log.exception("PDF export failed")
            pdf = gr.update(value=None, interactive=False)
        return gr.update(value=str(md), interactive=True), pdf

    def cite(self, turns: list[dict], evt: gr.EventData):
        data = evt._data or {}
        try:
            t = turns[int(data["turn"])]
            c = next(c for c in t["answer"]["citations"] if c["n"] == int(data["n"]))
        except (KeyError, IndexError, TypeError, ValueError, StopIteration):
            return gr.skip(), ""
        meta = self._meta(c["doc_id"]) or {**c, "id": c["doc_id"]}
        try:
            text = self.assistant.document_text(c["doc_id"])
        except AssistantError:
            note = "This document has been removed from the library since the answer was given. The quote was:"
            return render_source(meta, f"“{c['quote']}”", None, c["n"], f"turn-{data['turn']}", note), say(note)
        span = highlight_span(text, c["start"], c["end"], c["quote"])
        note = "" if span else "The document has changed since this answer was given; the quote is no longer in it."
        said = f"Showing source {c['n']}, {c['title']}, with the quote highlighted."
        return render_source(meta, text, span, c["n"], f"turn-{data['turn']}", note), say(said)

    def rate(self, turns: list[dict], evt: gr.EventData):
        data = evt._data or {}
        turns = [dict(t) for t in turns]
        try:
            i = int(data["turn"])
            t = turns[i]
        except (KeyError, IndexError, TypeError, ValueError):
            return gr.skip(), gr.skip(), ""
        if not t.get("answer"):
            return gr.skip(), gr.skip(), ""
        comment = str(data.get("comment") or "")
        try:
            feedback.record(t["answer"], str(data.get("rating")), comment, self.settings)
            t["feedback"], t["feedback_comment"] = str(data.get("rating")), bool(comment.strip())
            t.pop("feedback_error", None)
            if t["feedback"] == "down":  # offer to correct it: the documents to choose a sentence in
                t["fix_docs"] = self.bank.fix_docs(t)
            said = "Thank you, your feedback was saved."
        except AssistantError as exc:
            t["feedback_error"] = str(exc)
            said = str(exc)
        except Exception as exc:
            log.exception("saving feedback failed")
            t["feedback_error"] = f"Your feedback could not be saved ({exc.__class__.__name__})."
            said = t["feedback_error"]
        return turns, render_conversation(turns), say(said)

    # library ---------------------------------------------------------------------------------------
    def _meta(self, doc_id: str) -> dict | None:
        try:
            return next((r for r in self.assistant.sources() if r["id"] == doc_id), None)
        except AssistantError:
            return None

    def library(self):
        try:
            rows = self.assistant.sources()
        except AssistantError as exc:
            return _message("error", f"The library could not be read: {exc}"), gr.skip()
        choices = [(f"{r['title']} ({r['id']})", r["id"]) for r in rows] + [  # from the manifest: a killed
            (f"{title} ({doc_id}) — not indexed yet", doc_id) for doc_id, title in self.assistant.missing()]  # upload too
        return render_library(rows), gr.update(choices=choices, value=None)

    def open_doc(self, evt: gr.EventData):
        doc_id = str((evt._data or {}).get("doc") or "")
        meta = self._meta(doc_id)
        if meta is None:
            return _message("error", f"No document with id '{doc_id}' (it may have just been removed).")
        try:
            return render_source(meta, self.assistant.document_text(doc_id))
        except AssistantError as exc:
            return _message("error", str(exc))

    # admin -----------------------------------------------------------------------------------------
    def add_document(self, files, title: str, date: str, kind: str, status: str, publisher: str, password: str,
                     request: gr.Request = None, progress=gr.Progress(track_tqdm=True)):
        """Add document(s) to the library (admin password required). Returns (message HTML, library HTML,
        removal choices)."""
        library, choices = gr.skip(), gr.skip()
        why = self.admin.check(password, client_address(request))
        if why:
            return _message("error", why + " The library has not been changed."), library, choices
        try:
            paths = [uploaded_path(f) for f in (files if isinstance(files, list) else [files] if files else [])]
        except AssistantError as exc:
            return _message("error", f"{exc} The library has not been changed."), library, choices
        if not paths:
            return _message("error", "Choose a file to add (txt, md, pdf, docx or html)."), library, choices
        progress(0.05, desc="Reading and checking the document…")
        seen = len(self.assistant.notices)
        try:
            report = self.assistant.add(paths, title=(title or "").strip() or None, date=(date or "").strip() or None,
                                        kind=(kind or "").strip() or None, status=(status or "").strip() or None,
                                        publisher=(publisher or "").strip() or None, progress=True)
        except AssistantError as exc:
            return _message("error", f"{exc} The library has not been changed."), library, choices
        except Exception as exc:
            log.exception("adding a document failed")
            return _message("error", f"The document could not be added ({exc.__class__.__name__}: {exc}). "
                                     "The library has not been changed."), library, choices
        progress(1.0, desc="Done")
        rows = {r["id"]: r for r in self.assistant.sources()}
        added = [f"“{rows[i]['title']}” (id {i}, {_plural(int(rows[i]['passages']), 'passage')})" if i in rows else i for i in report.added]
        lib_html, choices = self.library()
        text = (f"Added {', '.join(added)}. It can now be searched and quoted; see the Sources tab."
                if added else f"Nothing new was added ({report.summary()}).")
        warnings = self.assistant.notices[seen:]  # e.g. added without a date or status: say how to set them
        if warnings:
            return _message("ok", text) + _message("info", " ".join(warnings)), lib_html, choices
        return _message("ok", text), lib_html, choices

    def remove_document(self, doc_id: str, password: str, request: gr.Request = None, progress=gr.Progress()):
        """Remove a document from the library (admin password required)."""
        why = self.admin.check(password, client_address(request))
        if why:
            return _message("error", why + " The library has not been changed."), gr.skip(), gr.skip()
        if not doc_id:
            return _message("error", "Choose a document to remove. Nothing was changed."), gr.skip(), gr.skip()
        progress(0.2, desc="Removing and re-indexing…")
        try:
            self.assistant.remove(doc_id)
        except AssistantError as exc:
            return _message("error", f"{exc} The library has not been changed."), gr.skip(), gr.skip()
        lib_html, choices = self.library()
        uses = len(self.assistant.training_uses(doc_id))
        note = (f" Note: the training specification quotes it in {uses} line{'s' if uses != 1 else ''}; the duty "
                "cards and glossary now show those lines as missing." if uses else "")
        return _message("ok", f"Removed '{doc_id}' from the library.{note}"), lib_html, choices

    # API ---------------------------------------------------------------------------------------------
    def api_ask(self, question: str, history: list | str | None = None) -> dict:
        """Answer a question with verbatim, cited sentences (same JSON as `assistant ask --json`).
        history: earlier turns, a list of {"role": "user"|"assistant", "content": "..."}, or empty."""
        try:
            return self.assistant.ask(question, history=history).model_dump()
        except AssistantError as exc:  # the caller's input: a message for them, no traceback in the log
            raise gr.Error(str(exc), print_exception=False) from None
        except Exception as exc:  # one failed request must not affect the others; details go to the log
            log.exception("answering an API request failed")
            raise gr.Error(f"The assistant could not answer this question ({exc.__class__.__name__}); the error "
                           "has been logged. Please try again.") from None

    def api_sources(self) -> list:
        """Every document in the library with its metadata and number of passages."""
        return self.assistant.sources()

    def api_document(self, doc_id: str) -> str:
        """The cleaned full text of one document; citation start/end offsets index into it."""
        try:
            return self.assistant.document_text(doc_id)
        except AssistantError as exc:
            raise gr.Error(str(exc)) from None


def build_app(assistant: Assistant | None = None) -> gr.Blocks:
    assistant = assistant or Assistant()
    ui = UI(assistant)
    settings = assistant.settings
    admin_on = bool(settings.admin_password and settings.admin_password.get_secret_value())
    private = {"api_visibility": "private"}

    with gr.Blocks(title="2008 proposals assistant: children's trusts & well-being") as demo:
        turns = gr.State([])
        gr.HTML(f"""
<header class="app-header">
  <h1>{e(APP_TITLE)}</h1>
  <p class="sub">Answers quote the library's documents word for word, with numbered sources. When the documents
  don't cover a question, the assistant says so.</p>
  <p class="notice-banner" role="note"><strong>Not legal advice.</strong> The sources date from 2008 and describe
  proposals and reactions to them, not the law today. Check the current position with your local authority or
  clerk before acting.</p>
</header>""")
        announce = gr.HTML("", elem_id="announce", js_on_load=ANNOUNCE_JS)

        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=340):
                        conversation = gr.HTML(render_conversation([]), elem_id="conversation",
                                               js_on_load=CONVERSATION_JS + "\n// events: 'cite' 'feedback' 'ask' 'reask' 'fixdoc' 'notcovered'")
                        with gr.Column(elem_id="composer"):  # stays at the bottom of the window (CSS)
                            with gr.Row(elem_id="ask-row", equal_height=True):
                                question = gr.Textbox(label="Your question", show_label=False, container=False,
                                                      placeholder="Type your question here", lines=1, max_lines=4, scale=6, min_width=180,
                                                      elem_id="question", max_length=settings.max_question_chars)
                                ask_btn = gr.Button("Ask", variant="primary", elem_id="ask-btn", scale=1, min_width=80)
                            with gr.Row(elem_id="tools-row"):
                                clear_btn = gr.Button("New conversation", size="sm", variant="secondary",
                                                      elem_id="clear-btn", min_width=120)
                                md_btn = gr.DownloadButton("Save as Markdown", interactive=False, size="sm",
                                                           elem_id="export-md", min_width=120)
                                pdf_btn = gr.DownloadButton("Save as PDF", interactive=False, size="sm",
                                                            elem_id="export-pdf", min_width=120)
                    with gr.Column(scale=2, min_width=320, elem_classes=["src-scroll"], elem_id="source-panel"):
                        source_view = gr.HTML(SOURCE_PLACEHOLDER, elem_id="source-view", js_on_load=SOURCE_JS + PICK_JS)

            with gr.Tab("Sources", id="sources"):
                gr.Markdown("Every document in the library, with what it is. **Proposal** means a 2008 government "
                            "proposal or consultation; **News report** means journalism about the proposals.")
                with gr.Row(equal_height=False):
                    with gr.Column(scale=2, min_width=320):
                        library_html = gr.HTML("<p>Loading the library…</p>", elem_id="library",
                                               js_on_load=LIBRARY_JS + "\n// events: 'open'")
                        refresh_btn = gr.Button("Refresh list", size="sm", variant="secondary")
                    with gr.Column(scale=3, min_width=320, elem_classes=["src-scroll"], elem_id="library-panel"):
                        library_view = gr.HTML('<div class="src-empty"><h2>Document</h2><p>Choose <strong>Read full '
                                               'text</strong> on a document to read it here.</p></div>',
                                               elem_id="library-view", js_on_load=SOURCE_JS)

            add_training_tabs(assistant, announce)

            with gr.Tab("Manage library", id="admin"):
                gr.Markdown(
                    "**For library managers.** Adding or removing a document changes the library for everyone and "
                    "needs the admin password. If a document can't be read, nothing is changed."
                    + ("" if admin_on else "\n\n*Changing the library is switched off on this server (no "
                       "ASSISTANT_ADMIN_PASSWORD set).*"))
                password = gr.Textbox(label="Admin password", type="password", elem_id="admin-password",
                                      interactive=admin_on)
                admin_msg = gr.HTML("", elem_id="admin-message")
                with gr.Accordion("Add a document", open=True):
                    upload = gr.File(label="Document (txt, md, pdf, docx or html)", file_count="single",
                                     file_types=[".txt", ".md", ".pdf", ".docx", ".html", ".htm"],
                                     elem_id="admin-file", interactive=admin_on)
                    with gr.Row():
                        doc_title = gr.Textbox(label="Title", placeholder="Taken from the file name if empty")
                        doc_publisher = gr.Textbox(label="Publisher", placeholder="e.g. DCSF")
                    with gr.Row():
                        doc_date = gr.Textbox(label="Date (YYYY-MM-DD)", placeholder="e.g. 2008-07-03; "
                                              "empty = approximate")
                        doc_kind = gr.Dropdown(KIND_CHOICES, label="Kind", value=None, allow_custom_value=True)
                        doc_status = gr.Dropdown(STATUS_CHOICES, label="Status (what the text is)", value=None,
                                                 allow_custom_value=True)
                    add_btn = gr.Button("Add to library", variant="primary", interactive=admin_on)
                with gr.Accordion("Remove a document", open=False):
                    remove_choice = gr.Dropdown([], label="Document to remove", value=None, allow_custom_value=True)
                    remove_btn = gr.Button("Remove from library", variant="stop", interactive=admin_on)
                bank_doc = add_bank_admin(ui.bank, password, admin_on)

        # ---- wiring ----
        start_out = [turns, conversation, question, announce]
        answer_out = [turns, conversation, announce, md_btn, pdf_btn]  # the save buttons change with the answer
        answering = []
        for trigger, fn, inputs in ((question.submit, ui.start, [question, turns]),
                                    (ask_btn.click, ui.start, [question, turns]),
                                    (conversation.ask, ui.start_starter, [turns]),
                                    (conversation.reask, ui.start_again, [turns])):
            answer = trigger(fn, inputs, start_out, queue=False, show_progress="hidden", **private) \
                .then(ui.answer_stream_with_exports if settings.llm_backend != "none" else ui.answer_with_exports,
                      [turns], answer_out, show_progress="hidden", **private)
            answering.append(answer)
        clear_btn.click(ui.clear, None, [turns, conversation, source_view, md_btn, pdf_btn, question, announce],
                        queue=False, show_progress="hidden", cancels=answering, **private)
        conversation.cite(ui.cite, [turns], [source_view, announce], show_progress="hidden", **private)
        conversation.feedback(ui.rate, [turns], [turns, conversation, announce], show_progress="hidden", **private)
        conversation.fixdoc(ui.bank.open_picker, [turns], [source_view, announce], show_progress="hidden", **private)
        conversation.notcovered(ui.bank.not_covered, [turns], [turns, conversation, announce], show_progress="hidden",
                                **private)
        source_view.pick(ui.bank.pick, [turns], [turns, conversation, source_view, announce], show_progress="hidden",
                         **private)
        demo.load(ui.bank.doc_choices, None, bank_doc, show_progress="hidden", **private)
        library_html.open(ui.open_doc, None, library_view, show_progress="minimal", **private)
        demo.load(ui.library, None, [library_html, remove_choice], show_progress="hidden", **private)
        refresh_btn.click(ui.library, None, [library_html, remove_choice], **private)
        add_btn.click(ui.add_document, [upload, doc_title, doc_date, doc_kind, doc_status, doc_publisher, password],
                      [admin_msg, library_html, remove_choice], api_name="add_document",
                      show_progress_on=[admin_msg]).then(
            lambda m: [None, "", "", None, None, ""] if 'msg-ok' in (m or "") else [gr.skip()] * 6, [admin_msg],
            [upload, doc_title, doc_date, doc_kind, doc_status, doc_publisher], queue=False, **private)
        remove_btn.click(ui.remove_document, [remove_choice, password], [admin_msg, library_html, remove_choice],
                         api_name="remove_document",
                         js="(doc, pw) => (doc && !window.confirm('Remove this document from the library for "
                            "everyone?')) ? [null, pw] : [doc, pw]")
        gr.api(ui.api_ask, api_name="ask")
        gr.api(ui.api_sources, api_name="sources")
        gr.api(ui.api_document, api_name="document")
        add_bank_api(ui.bank)
    # Every event and API call goes through one queue: at most `concurrency` run at once (they share the
    # CPU; the model is not copied), up to `queue_size` wait in order, and more are refused with "queue full".
    demo.queue(default_concurrency_limit=settings.concurrency, max_size=settings.queue_size)
    demo._assistant_ui = ui  # for tests and embedding
    return demo


def warm_up(assistant: Assistant) -> threading.Thread:
    """Load the model and the index in the background so the first question is quick."""
    def run():
        try:
            assistant.sources()
        except Exception:  # the first question will report it plainly
            log.exception("warm-up failed")
    thread = threading.Thread(target=run, name="assistant-warm-up", daemon=True)
    thread.start()
    return thread


def launch(assistant: Assistant | None = None, host: str | None = None, port: int | None = None, **kwargs):
    """Build and serve the app (blocks until stopped). Outbound network connections are refused in
    this process (``assistant.safety.netguard``) unless ASSISTANT_ALLOW_NETWORK is set."""
    from ..safety.netguard import install_from_settings

    assistant = assistant or Assistant()
    settings = assistant.settings
    if install_from_settings(settings) and "uvloop" not in sys.modules:
        # uvloop resolves host names in C, out of the guard's sight; asyncio's loop goes through Python's
        # socket module, so a client-supplied URL (Gradio fetches FileData links) is refused too.
        sys.modules["uvloop"] = None
    # uvicorn rewrites the client address from X-Forwarded-For when the connection comes from a host in
    # FORWARDED_ALLOW_IPS (default: this machine). Any client can send that header, so only the proxies
    # named in ASSISTANT_TRUSTED_PROXIES are believed; otherwise the admin lockout could be side-stepped.
    os.environ["FORWARDED_ALLOW_IPS"] = settings.trusted_proxies
    demo = build_app(assistant)
    warm_up(assistant)
    options = dict(server_name=host or settings.host, server_port=port or settings.port, theme=theme(), css=CSS + TRAINING_CSS + BANK_CSS,
                   head=HEAD, max_file_size=settings.max_upload_bytes, show_error=True,
                   footer_links=["api", "settings"], run_history=False, enable_monitoring=False)
    options.update(kwargs)
    return demo.launch(**options)
