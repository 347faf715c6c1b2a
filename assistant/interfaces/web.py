"""The web UI: a thin Gradio layer over ``Assistant`` (no retrieval or answering logic here).

    python app.py                      # http://127.0.0.1:7860 (ASSISTANT_HOST/_PORT or GRADIO_SERVER_NAME/_PORT)

Tabs: Ask (chat with cited quotes, source viewer, feedback, readers' corrections after "Not helpful",
export), Sources (the library), Manage library (add/remove documents, corrections to review, the question
bank; needs ASSISTANT_ADMIN_PASSWORD). Named API endpoints for scripts: ``/ask`` (same JSON as
``assistant ask --json``), ``/sources``, ``/document``, ``/add_document``, ``/remove_document``,
``/edit_document`` (``web_admin.py``), and
``/correct``, ``/corrections``, ``/review`` (``web_bank.py``).

Every piece of document or user text that goes into HTML passes through ``html.escape`` (``web_html.e``).
The HTML itself is made in ``web_html.py``, the browser side (JS, CSS, theme) in ``web_assets.py``, the
governor training tabs in ``web_training.py``.
"""
from __future__ import annotations

import logging

import gradio as gr

from ..library import feedback
from . import web_export
from .. import identity
from ..errors import AssistantError
from ..service import Assistant
from ..safety.inputs import recent_history  # the one conversation-history policy (UI, API, CLI)
from .web_admin import AdminGate, AdminUI, add_document_sections, wire_document_sections
from .web_bank import PICK_JS, BankUI, add_bank_admin, add_bank_api  # readers' corrections, the question bank
from .web_feedback import add_feedback_api  # the manager's list of every instance's ratings
from .web_export import ExportButtons  # "Save as": made on click, in memory
from .web_assets import ANNOUNCE_JS, CONVERSATION_JS, LIBRARY_JS, SOURCE_JS
from .web_layout import admin_off_html
from .web_html import (SOURCE_PLACEHOLDER, message, e, highlight_span, render_conversation,
                       render_library, render_source, say)
from .web_training import add_training_api, add_training_tabs  # Duties and Quiz tabs (governor training)

log = logging.getLogger("assistant.ui")




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
    return recent_history(out)  # the one history policy (safety/inputs.py), so a long session is never refused


# ---- the app ----------------------------------------------------------------------------------------
class UI:
    """Event handlers: each one is a thin call into ``Assistant`` plus rendering."""

    def __init__(self, assistant: Assistant):
        self.assistant = assistant
        self.settings = assistant.settings
        self.admin = AdminGate(self.settings)
        self.docs = AdminUI(assistant, self.admin, self.library)  # add, remove, edit details (web_admin.py)
        self.bank = BankUI(assistant, self.admin.check_request)

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
        return self.start(q if q in identity.current().starters else "", turns)

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
        frame as the answer appears (a separate step after it left them grey for seconds). No file is
        made here: only a click on a button makes one (``web_export``)."""
        turns, html, said = self.answer(turns)
        return (turns, html, said, *web_export.enabled(turns))

    def answer_stream_with_exports(self, turns: list[dict]):
        """LLM mode: as ``answer_stream``; the final (verified) update carries the save buttons too."""
        for update in self.answer_stream(turns):
            done = not any(t.get("pending") for t in update[0])
            yield (*update, *(web_export.enabled(update[0]) if done else (gr.skip(), gr.skip())))

    def clear(self):
        return ([], render_conversation([]), SOURCE_PLACEHOLDER, *web_export.disabled(), "", say("Conversation cleared."))

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

    def rate(self, turns: list[dict], evt: gr.EventData, request: gr.Request = None):
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
            feedback.record(t["answer"], str(data.get("rating")), comment, self.settings,  # one per answer per session
                            key=feedback.rating_key(getattr(request, "session_hash", None), t["answer"]))
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
            return message("error", f"The library could not be read: {exc}"), gr.skip(), gr.skip()
        choices = [(f"{r['title']} ({r['id']})", r["id"]) for r in rows] + [  # from the manifest: a killed
            (f"{title} ({doc_id}) — not indexed yet", doc_id) for doc_id, title in self.assistant.missing()]  # upload too
        return render_library(rows), gr.update(choices=choices, value=None), gr.update(choices=choices, value=None)

    def open_doc(self, evt: gr.EventData):
        doc_id = str((evt._data or {}).get("doc") or "")
        meta = self._meta(doc_id)
        if meta is None:
            return message("error", f"No document with id '{doc_id}' (it may have just been removed).")
        try:
            return render_source(meta, self.assistant.document_text(doc_id))
        except AssistantError as exc:
            return message("error", str(exc))

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
        except AssistantError as exc:  # any client can send a bad id: one log line, not a fault's traceback
            log.warning("/document refused: %s", exc)
            raise gr.Error(str(exc), title="Not found", print_exception=False) from None


def build_app(assistant: Assistant | None = None) -> gr.Blocks:
    assistant = assistant or Assistant()
    ui = UI(assistant)
    settings = assistant.settings
    admin_on = ui.admin.on
    private = {"api_visibility": "private"}

    said = identity.of_settings(settings)  # the library's own words: corpus/library.toml
    with gr.Blocks(title=said.browser_title) as demo:
        turns = gr.State([])
        gr.HTML(f"""
<header class="app-header">
  <h1>{e(said.app_title)}</h1>
  <p class="sub">Answers quote the library's documents word for word, with numbered sources. When the documents
  don't cover a question, the assistant says so.</p>
  <p class="notice-banner" role="note"><strong>Not legal advice.</strong> {e(said.banner)}</p>
</header>""")
        announce = gr.HTML("", elem_id="announce", js_on_load=ANNOUNCE_JS)

        with gr.Tabs(overflow_behavior="wrap") as tabs:  # on a phone every tab stays labelled (no "more" menu)
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
                                saving = ExportButtons()
                                md_btn, pdf_btn = saving.md, saving.pdf
                    with gr.Column(scale=2, min_width=320, elem_classes=["src-scroll"], elem_id="source-panel"):
                        source_view = gr.HTML(SOURCE_PLACEHOLDER, elem_id="source-view", js_on_load=SOURCE_JS + PICK_JS)

            with gr.Tab("Sources", id="sources"):
                gr.Markdown(said.sources_help)
                with gr.Row(equal_height=False):
                    with gr.Column(scale=2, min_width=320):
                        library_html = gr.HTML("<p>Loading the library…</p>", elem_id="library",
                                               js_on_load=LIBRARY_JS + "\n// events: 'open' 'edit'")
                        refresh_btn = gr.Button("Refresh list", size="sm", variant="secondary")
                    with gr.Column(scale=3, min_width=320, elem_classes=["src-scroll"], elem_id="library-panel"):
                        library_view = gr.HTML('<div class="src-empty"><h2>Document</h2><p>Choose <strong>Read full '
                                               'text</strong> on a document to read it here.</p></div>',
                                               elem_id="library-view", js_on_load=SOURCE_JS)

            training = add_training_tabs(assistant, announce)

            with gr.Tab("Manage library", id="admin", elem_id="admin-tab"):
                gr.Markdown(
                    "**For library managers.** Adding or removing a document changes the library for everyone and "
                    "needs the admin password. If a document can't be read, nothing is changed.")
                gr.HTML(admin_off_html(), elem_id="admin-off", visible=not admin_on)  # how to switch it on
                password = gr.Textbox(label="Admin password", type="password", elem_id="admin-password",
                                      interactive=admin_on)
                admin_msg = gr.HTML("", elem_id="admin-message")
                docs = add_document_sections(admin_on)
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
        saving.wire(turns, announce, clear_btn, **private)
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
        lists = [library_html, docs["remove_choice"], docs["edit_choice"]]
        demo.load(ui.library, None, lists, show_progress="hidden", **private)
        refresh_btn.click(ui.library, None, lists, **private)
        wire_document_sections(ui.docs, docs, password, admin_msg, library_html, tabs)
        gr.api(ui.api_ask, api_name="ask")
        gr.api(ui.api_sources, api_name="sources")
        gr.api(ui.api_document, api_name="document")
        add_bank_api(ui.bank)
        add_feedback_api(settings, ui.admin.check_request)
        add_training_api(training)  # outside gr.Tabs(): an API there became a second, phantom tab
    # Every event and API call goes through one queue: at most `concurrency` run at once (they share the
    # CPU; the model is not copied), up to `queue_size` wait in order, and more are refused with "queue full".
    demo.queue(default_concurrency_limit=settings.concurrency, max_size=settings.queue_size)
    demo._assistant_ui = ui  # for tests and embedding
    return demo
