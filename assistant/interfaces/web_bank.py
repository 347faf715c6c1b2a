"""Readers' corrections and the question bank in the web UI (thin: ``Assistant.bank`` decides everything).

Ask tab: after "Not helpful", a reader opens a document in the source panel to choose the sentence that
answers the question ("This answers my question"), or says "The documents don't cover this"; either goes to
the review list (``BankDesk.correct``) and changes no answer until a library manager accepts it.
Manage library (admin password): "Corrections to review" (accept, edit the question then accept, reject) and
"Question bank" (a document's sentences with their bank questions; add one).

Named API endpoints (added outside ``gr.Tabs()`` by ``web.py``): ``/correct`` for scripts, and the
admin-gated ``/corrections`` (the review list) and ``/review``. The HTML, JS and CSS: ``web_bank_html.py``.
"""
from __future__ import annotations

import logging
from typing import Callable

import gradio as gr

from ..errors import AssistantError
from ..service import Assistant
from ..library.feedback import rating_key  # one correction per answer per session, like a rating
from .web_bank_html import BANK_JS, REVIEW_JS, render_bank, render_picker, render_review
from .web_bank_html import PICK_JS  # noqa: F401 (web.py takes it from here)
from .web_html import SENT_FOR_REVIEW, message, render_conversation, say

log = logging.getLogger("assistant.ui")

PRIVATE = {"api_visibility": "private"}
REVIEW_DONE = {"accept": "Accepted: it is in the question bank and answers from the next question on.",
               "edit": "Accepted with the edited question: it answers from the next question on.",
               "reject": "Rejected: the question bank is unchanged."}


def turn_question(t: dict) -> str:
    """The question a correction is about: a follow-up read by putting its words into the earlier question
    ("What about academies?") is sent as the question it was read as; anything else as the reader typed it."""
    a = t.get("answer") or {}
    if a.get("follow_up") and not a.get("read_with") and a.get("standalone_question"):
        return a["standalone_question"]
    return t["question"]


# ---- events -----------------------------------------------------------------------------------------
class BankUI:
    """Event handlers: each one a thin call into ``Assistant.bank`` plus rendering. ``check(password,
    request)`` is the app's admin gate (None when allowed, else why not)."""

    def __init__(self, assistant: Assistant, check: Callable[[str | None, gr.Request | None], str | None]):
        self.assistant, self.check = assistant, check

    def fix_docs(self, t: dict) -> list[list[str]]:
        """The documents a reader may choose a sentence in: those the answer cited first, then the rest."""
        try:
            rows = {r["id"]: r["title"] for r in self.assistant.sources()}
        except AssistantError:
            return []
        cited = [c["doc_id"] for c in (t.get("answer") or {}).get("citations") or [] if c["doc_id"] in rows]
        order = list(dict.fromkeys([*cited, *rows]))
        return [[d, rows[d]] for d in order]

    @staticmethod
    def _turn(turns: list[dict], data: dict) -> tuple[int, dict] | None:
        try:
            i = int(data["turn"])
            t = turns[i]
        except (KeyError, IndexError, TypeError, ValueError):
            return None
        return (i, t) if t.get("answer") and t.get("feedback") == "down" else None

    def open_picker(self, turns: list[dict], evt: gr.EventData):
        """"Choose the sentence in this document": the document in the source panel, sentences selectable."""
        data = evt._data or {}
        found = self._turn(turns, data)
        if not found:
            return gr.skip(), ""
        i, t = found
        doc_id = str(data.get("doc") or "")
        try:
            meta = next((r for r in self.assistant.sources() if r["id"] == doc_id), None)
            if meta is None:
                raise AssistantError(f"No document with id '{doc_id}' in the library (it may have just been removed).")
            html = render_picker(meta, self.assistant.document_text(doc_id), self.assistant.bank.document(doc_id), i,
                                 turn_question(t))
        except AssistantError as exc:
            return message("error", str(exc)), say(str(exc))
        return html, say(f"Showing {meta['title']}: choose the sentence that answers your question.")

    def pick(self, turns: list[dict], evt: gr.EventData, request: gr.Request = None):
        """"This answers my question" on a sentence of the source panel."""
        data = evt._data or {}
        found = self._turn(turns, data)
        if not found:
            return gr.skip(), gr.skip(), gr.skip(), ""
        i, t = found
        doc_id, turns = str(data.get("doc") or ""), [dict(x) for x in turns]
        t = turns[i]
        try:
            start = int(data.get("start"))
        except (TypeError, ValueError):
            start = None
        try:
            meta = next((r for r in self.assistant.sources() if r["id"] == doc_id), {"id": doc_id})
            text, sentences = self.assistant.document_text(doc_id), self.assistant.bank.document(doc_id)
        except AssistantError as exc:
            return gr.skip(), gr.skip(), message("error", str(exc)), say(str(exc))
        try:
            if start is None:
                raise AssistantError("Choose a sentence first.")
            self.assistant.bank.correct(turn_question(t), doc_id=doc_id, start=start,
                                        key=rating_key(getattr(request, "session_hash", None), t.get("answer") or {}))
        except AssistantError as exc:
            msg = f"Your correction was not sent: {exc} Your choice is kept; try again."
            return (gr.skip(), gr.skip(), render_picker(meta, text, sentences, i, turn_question(t), start,
                                                        message("error", msg)), say(msg))
        except Exception as exc:
            log.exception("sending a correction failed")
            msg = f"Your correction was not sent ({exc.__class__.__name__}). Your choice is kept; try again."
            return (gr.skip(), gr.skip(), render_picker(meta, text, sentences, i, turn_question(t), start,
                                                        message("error", msg)), say(msg))
        t["correction"] = "answers"
        t.pop("correction_error", None)
        html = render_picker(meta, text, sentences, i, turn_question(t), start, message("ok", SENT_FOR_REVIEW))
        return turns, render_conversation(turns), html, say(SENT_FOR_REVIEW)

    def not_covered(self, turns: list[dict], evt: gr.EventData, request: gr.Request = None):
        """"The documents don't cover this"."""
        found = self._turn(turns, evt._data or {})
        if not found:
            return gr.skip(), gr.skip(), ""
        i, _ = found
        turns = [dict(x) for x in turns]
        t = turns[i]
        try:
            self.assistant.bank.correct(turn_question(t), not_covered=True,
                                        key=rating_key(getattr(request, "session_hash", None), t.get("answer") or {}))
            t["correction"], said = "not_covered", SENT_FOR_REVIEW
            t.pop("correction_error", None)
        except AssistantError as exc:
            t["correction_error"] = said = f"Your correction was not sent: {exc}"
        except Exception as exc:
            log.exception("sending a correction failed")
            t["correction_error"] = said = f"Your correction was not sent ({exc.__class__.__name__}); try again."
        return turns, render_conversation(turns), say(said)

    # Manage library ------------------------------------------------------------------------------------
    def review_list(self, password: str, request: gr.Request = None, note: str = ""):
        why = self.check(password, request)
        if why:
            return message("error", why)
        try:
            return render_review(self.assistant.bank.pending(), note)
        except AssistantError as exc:
            return message("error", f"The review list could not be read: {exc}")

    def on_review(self, password: str, evt: gr.EventData, request: gr.Request = None):
        data = evt._data or {}
        why = self.check(password, request)
        if why:
            return message("error", why + " Nothing was changed.")
        action, cid = str(data.get("action") or ""), str(data.get("id") or "")
        try:
            self.assistant.bank.review(cid, action, str(data.get("question") or "") if action == "edit" else None)
            note = message("ok", REVIEW_DONE[action])
        except AssistantError as exc:
            note = message("error", f"{exc} Nothing was changed.")
        except Exception as exc:
            log.exception("reviewing a correction failed")
            note = message("error", f"The review failed ({exc.__class__.__name__}); nothing was changed.")
        return self.review_list(password, request, note)

    def doc_choices(self):
        try:
            rows = self.assistant.sources()
        except AssistantError:
            return gr.skip()
        return gr.update(choices=[(f"{r['title']} ({r['id']})", r["id"]) for r in rows], value=None)

    def bank_doc(self, doc_id: str, note: str = ""):
        if not doc_id:
            return note
        try:
            return render_bank(doc_id, self.assistant.bank.document(doc_id), note)
        except AssistantError as exc:
            return message("error", str(exc))

    def add_question(self, doc_id: str, password: str, evt: gr.EventData, request: gr.Request = None):
        data = evt._data or {}
        why = self.check(password, request)
        if why:
            return message("error", why + " The question bank has not been changed.") + self.bank_doc(doc_id)
        try:
            start = int(data.get("start"))
            sentence = next(s["text"] for s in self.assistant.bank.document(doc_id) if s["start"] == start)
        except (TypeError, ValueError, StopIteration, AssistantError):
            return self.bank_doc(doc_id, message("error", "That sentence is no longer in the library; choose the "
                                                           "document again."))
        try:
            report = self.assistant.bank.add(str(data.get("question") or ""), [sentence])
            note = message("ok", f"Added. The question bank now holds {report.bank_size} questions; it answers "
                                  "from the next question on.")
        except AssistantError as exc:
            note = message("error", f"{exc} The question bank has not been changed.")
        return self.bank_doc(doc_id, note)

    # API -------------------------------------------------------------------------------------------------
    def api_correct(self, question: str, doc_id: str = "", start: int | None = None, not_covered: bool = False) -> dict:
        """Send a reader's correction to the review list: ``question`` is answered by the sentence of ``doc_id``
        at character ``start`` (a citation's offsets index the same text), or, with ``not_covered``, by nothing
        in the library. Returns the pending record (its ``id`` is what ``/review`` takes). Changes no answer
        until a library manager accepts it."""
        try:
            if not_covered:
                return self.assistant.bank.correct(question, not_covered=True)
            return self.assistant.bank.correct(question, doc_id=doc_id or None,
                                               start=None if start in (None, "") else int(start))
        except (TypeError, ValueError):
            raise gr.Error("start must be a whole number: a character offset inside the sentence.",
                           print_exception=False) from None
        except AssistantError as exc:
            raise gr.Error(str(exc), print_exception=False) from None

    def api_corrections(self, password: str, request: gr.Request = None) -> list:
        """The review list, oldest first (admin password required)."""
        why = self.check(password, request)
        if why:
            raise gr.Error(why, print_exception=False)
        return self.assistant.bank.pending()

    def api_review(self, correction_id: str, action: str, password: str, question: str = "",
                   request: gr.Request = None) -> dict:
        """Accept, edit (accept with ``question``) or reject one pending correction (admin password required).
        An accepted one answers from the next question on."""
        why = self.check(password, request)
        if why:
            raise gr.Error(why + " Nothing was changed.", print_exception=False)
        try:
            report = self.assistant.bank.review(correction_id, action, question or None)
        except AssistantError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        return {"id": correction_id, "action": action, "bank_size": report.bank_size if report else None}


# ---- layout -----------------------------------------------------------------------------------------
def add_bank_admin(bank: BankUI, password: gr.Textbox, admin_on: bool) -> gr.Dropdown:
    """The two Manage library sections (called inside that tab). Returns the document dropdown, whose
    choices ``web.py`` fills when the page loads."""
    with gr.Accordion("Corrections to review", open=False):
        gr.Markdown("Readers' corrections: a sentence they say answers their question, or a question they say the "
                    "documents don't cover. None changes an answer until it is accepted here; an accepted one "
                    "answers from the next question on.")
        show = gr.Button("Show corrections waiting for review", size="sm", elem_id="review-show", interactive=admin_on)
        review_html = gr.HTML("", elem_id="review-list", js_on_load=REVIEW_JS)
    with gr.Accordion("Question bank", open=False):
        gr.Markdown("The questions each sentence answers, in the words people ask them (corpus/bank/*.toml). A "
                    "sentence with no bank questions answers as before.")
        doc = gr.Dropdown([], label="Document", value=None, elem_id="bank-doc")
        bank_html = gr.HTML("", elem_id="bank-view", js_on_load=BANK_JS)
    show.click(bank.review_list, [password], review_html, **PRIVATE)
    review_html.review(bank.on_review, [password], review_html, **PRIVATE)
    doc.change(bank.bank_doc, [doc], bank_html, **PRIVATE)
    bank_html.addq(bank.add_question, [doc, password], bank_html, **PRIVATE)
    return doc


def add_bank_api(bank: BankUI) -> None:
    """Named endpoints; called outside ``gr.Tabs()`` (a gr.api inside it is not registered)."""
    gr.api(bank.api_correct, api_name="correct")
    gr.api(bank.api_corrections, api_name="corrections")
    gr.api(bank.api_review, api_name="review")
