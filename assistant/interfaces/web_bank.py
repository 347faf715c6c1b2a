"""Readers' corrections and the question bank in the web UI (thin: ``Assistant.bank`` decides everything).

Ask tab: after "Not helpful", a reader opens a document in the source panel to choose the sentence that
answers the question ("This answers my question"), or says "The documents don't cover this"; either goes to
the review list (``BankDesk.correct``) and changes no answer until a library manager accepts it.
Manage library (admin password): "Corrections to review" (accept, edit the question then accept, reject) and
"Question bank" (a document's sentences with their bank questions; add one).

Named API endpoints (added outside ``gr.Tabs()`` by ``web.py``): ``/correct`` for scripts, and the
admin-gated ``/corrections`` (the review list) and ``/review``.
"""
from __future__ import annotations

import logging
from typing import Callable

import gradio as gr

from ..errors import AssistantError
from ..service import Assistant
from ..library.feedback import rating_key  # one correction per answer per session, like a rating
from .web_html import SENT_FOR_REVIEW, _message, _plural, e, render_conversation, say

log = logging.getLogger("assistant.ui")

PRIVATE = {"api_visibility": "private"}
REVIEW_SHOWN = 50  # the review list shows the oldest this many; the count says how many wait
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


# ---- HTML ------------------------------------------------------------------------------------------
def render_picker(meta: dict, text: str, sentences: list[dict], turn: int, question: str,
                  chosen: int | None = None, message: str = "") -> str:
    """A document in the source panel in correction mode: every sentence is a button (one tab stop, arrow
    keys move between them); choosing one and then "This answers my question" sends it."""
    parts, at = [], 0
    first = True
    for s in sentences:
        if s["start"] < at:  # overlapping records: keep the text once
            continue
        parts.append(e(text[at:s["start"]]))
        picked = chosen is not None and s["start"] <= chosen < s["end"]
        focus = "0" if (picked or (chosen is None and first)) else "-1"
        parts.append(f'<button type="button" class="sent" data-start="{s["start"]}" tabindex="{focus}" '
                     f'aria-pressed="{"true" if picked else "false"}">{e(text[s["start"]:s["end"]])}</button>')
        at, first = s["end"], False
    parts.append(e(text[at:]))
    title = meta.get("title", "")
    chosen_text = next((text[s["start"]:s["end"]] for s in sentences if chosen is not None and s["start"] <= chosen < s["end"]), "")
    chosen_html = f"Chosen: &ldquo;{e(chosen_text)}&rdquo;" if chosen_text else "No sentence chosen yet."
    return f"""
<div class="src src-pick" data-doc="{e(meta.get('id', ''))}" data-turn="{turn}">
  <div class="src-head">
    <p class="src-which">Choose the sentence that answers your question
      <button type="button" class="back" data-action="back" data-target="turn-{turn}"><span aria-hidden="true">&larr;</span> Back to the answer</button></p>
    <h2 class="src-title">{e(title)}</h2>
    <p class="pick-q">Your question: <q>{e(question)}</q></p>
    <p class="pick-help">Select a sentence (arrow keys move between them), then
      <strong>This answers my question</strong>.</p>
    <p class="pick-chosen" aria-live="polite">{chosen_html}</p>
    <button type="button" class="pick-send" data-action="pick-send" {'' if chosen_text else 'disabled'}>This answers my question</button>
    {message}
  </div>
  <div class="src-text" role="group" aria-label="Sentences of {e(title)}">{''.join(parts)}</div>
</div>"""


def render_review(rows: list[dict], message: str = "") -> str:
    if not rows:
        return message + '<p class="rv-empty">No corrections are waiting for review.</p>'
    items = []
    for r in rows[:REVIEW_SHOWN]:
        cid = e(r["id"])
        said = ("The documents don't cover this." if r.get("kind") == "not_covered"
                else "This sentence answers it:")
        sentence = f'<blockquote class="rv-sentence">&ldquo;{e(r["sentence"])}&rdquo;</blockquote>' if r.get("sentence") else ""
        doc = f' &middot; {e(r["doc_id"])}' if r.get("doc_id") else ""
        items.append(f"""
<li class="rv-item" data-id="{cid}">
  <p class="rv-q"><strong>Question:</strong> {e(r['question'])}</p>
  <p class="rv-said"><strong>Reader says:</strong> {e(said)}</p>{sentence}
  <p class="rv-meta">Sent {e(r.get('created_at', ''))}{doc}</p>
  <label class="rv-label" for="rv-edit-{cid}">Question as it will be kept</label>
  <input type="text" id="rv-edit-{cid}" class="rv-edit" value="{e(r['question'])}" autocomplete="off">
  <div class="rv-row">
    <button type="button" class="rv-btn" data-action="review" data-do="accept" data-id="{cid}">Accept</button>
    <button type="button" class="rv-btn" data-action="review" data-do="edit" data-id="{cid}">Accept with the edited question</button>
    <button type="button" class="rv-btn rv-reject" data-action="review" data-do="reject" data-id="{cid}">Reject</button>
  </div>
</li>""")
    more = f" (the oldest {REVIEW_SHOWN} are shown)" if len(rows) > REVIEW_SHOWN else ""
    return (message + f'<p class="rv-count">{_plural(len(rows), "correction")} waiting for review{more}.</p>'
            f'<ul class="rv">{"".join(items)}</ul>')


def render_bank(doc_id: str, sentences: list[dict], message: str = "") -> str:
    if not sentences:
        return message + '<p class="bk-empty">This document has no sentences in the library.</p>'
    covered = sum(bool(s["questions"]) for s in sentences)
    items = []
    for k, s in enumerate(sentences):
        qs = "".join(f"<li>{e(q)}</li>" for q in s["questions"])
        listed = (f'<ul class="bk-qs" aria-label="Bank questions">{qs}</ul>' if qs
                  else '<p class="bk-none">No bank questions yet: it answers as before.</p>')
        items.append(f"""
<li class="bk-sent" data-start="{s['start']}">
  <blockquote class="bk-text">&ldquo;{e(s['text'])}&rdquo;</blockquote>
  {listed}
  <div class="bk-row">
    <label class="sr-only" for="bk-add-{k}">A question this sentence answers</label>
    <input type="text" id="bk-add-{k}" class="bk-add" placeholder="A question this sentence answers" autocomplete="off">
    <button type="button" class="bk-btn" data-action="addq" data-start="{s['start']}" data-k="{k}">Add question</button>
  </div>
</li>""")
    return (message + f'<p class="bk-count">{_plural(len(sentences), "sentence")}, {covered} with bank questions '
            f'(id <code>{e(doc_id)}</code>).</p><ol class="bk">{"".join(items)}</ol>')


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
            return _message("error", str(exc)), say(str(exc))
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
            return gr.skip(), gr.skip(), _message("error", str(exc)), say(str(exc))
        try:
            if start is None:
                raise AssistantError("Choose a sentence first.")
            self.assistant.bank.correct(turn_question(t), doc_id=doc_id, start=start,
                                        key=rating_key(getattr(request, "session_hash", None), t.get("answer") or {}))
        except AssistantError as exc:
            msg = f"Your correction was not sent: {exc} Your choice is kept; try again."
            return (gr.skip(), gr.skip(), render_picker(meta, text, sentences, i, turn_question(t), start,
                                                        _message("error", msg)), say(msg))
        except Exception as exc:
            log.exception("sending a correction failed")
            msg = f"Your correction was not sent ({exc.__class__.__name__}). Your choice is kept; try again."
            return (gr.skip(), gr.skip(), render_picker(meta, text, sentences, i, turn_question(t), start,
                                                        _message("error", msg)), say(msg))
        t["correction"] = "answers"
        t.pop("correction_error", None)
        html = render_picker(meta, text, sentences, i, turn_question(t), start, _message("ok", SENT_FOR_REVIEW))
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
    def review_list(self, password: str, request: gr.Request = None, message: str = ""):
        why = self.check(password, request)
        if why:
            return _message("error", why)
        try:
            return render_review(self.assistant.bank.pending(), message)
        except AssistantError as exc:
            return _message("error", f"The review list could not be read: {exc}")

    def on_review(self, password: str, evt: gr.EventData, request: gr.Request = None):
        data = evt._data or {}
        why = self.check(password, request)
        if why:
            return _message("error", why + " Nothing was changed.")
        action, cid = str(data.get("action") or ""), str(data.get("id") or "")
        try:
            self.assistant.bank.review(cid, action, str(data.get("question") or "") if action == "edit" else None)
            note = _message("ok", REVIEW_DONE[action])
        except AssistantError as exc:
            note = _message("error", f"{exc} Nothing was changed.")
        except Exception as exc:
            log.exception("reviewing a correction failed")
            note = _message("error", f"The review failed ({exc.__class__.__name__}); nothing was changed.")
        return self.review_list(password, request, note)

    def doc_choices(self):
        try:
            rows = self.assistant.sources()
        except AssistantError:
            return gr.skip()
        return gr.update(choices=[(f"{r['title']} ({r['id']})", r["id"]) for r in rows], value=None)

    def bank_doc(self, doc_id: str, message: str = ""):
        if not doc_id:
            return message
        try:
            return render_bank(doc_id, self.assistant.bank.document(doc_id), message)
        except AssistantError as exc:
            return _message("error", str(exc))

    def add_question(self, doc_id: str, password: str, evt: gr.EventData, request: gr.Request = None):
        data = evt._data or {}
        why = self.check(password, request)
        if why:
            return _message("error", why + " The question bank has not been changed.") + self.bank_doc(doc_id)
        try:
            start = int(data.get("start"))
            sentence = next(s["text"] for s in self.assistant.bank.document(doc_id) if s["start"] == start)
        except (TypeError, ValueError, StopIteration, AssistantError):
            return self.bank_doc(doc_id, _message("error", "That sentence is no longer in the library; choose the "
                                                           "document again."))
        try:
            report = self.assistant.bank.add(str(data.get("question") or ""), [sentence])
            note = _message("ok", f"Added. The question bank now holds {report.bank_size} questions; it answers "
                                  "from the next question on.")
        except AssistantError as exc:
            note = _message("error", f"{exc} The question bank has not been changed.")
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


# ---- browser side --------------------------------------------------------------------------------------
PICK_JS = r"""
function chooseSentence(s) {
  element.querySelectorAll('button.sent').forEach((b) => { b.setAttribute('aria-pressed', 'false'); b.tabIndex = -1; });
  s.setAttribute('aria-pressed', 'true'); s.tabIndex = 0;
  const out = element.querySelector('.pick-chosen');
  if (out) out.textContent = 'Chosen: \u201c' + s.textContent + '\u201d';
  const send = element.querySelector('[data-action="pick-send"]');
  if (send) send.disabled = false;
}
element.addEventListener('click', (ev) => {
  const s = ev.target.closest('button.sent');
  if (s && element.contains(s)) { chooseSentence(s); return; }
  const send = ev.target.closest('[data-action="pick-send"]');
  const box = element.querySelector('.src-pick');
  const chosen = element.querySelector('button.sent[aria-pressed="true"]');
  if (!send || !box || !chosen) return;
  send.disabled = true;
  trigger('pick', {turn: parseInt(box.dataset.turn, 10), doc: box.dataset.doc, start: parseInt(chosen.dataset.start, 10)});
});
element.addEventListener('keydown', (ev) => {
  const s = ev.target.closest && ev.target.closest('button.sent');
  if (!s) return;
  const all = Array.from(element.querySelectorAll('button.sent'));
  let i = all.indexOf(s);
  if (ev.key === 'ArrowDown' || ev.key === 'ArrowRight') i = Math.min(all.length - 1, i + 1);
  else if (ev.key === 'ArrowUp' || ev.key === 'ArrowLeft') i = Math.max(0, i - 1);
  else if (ev.key === 'Home') i = 0;
  else if (ev.key === 'End') i = all.length - 1;
  else return;
  ev.preventDefault();
  all.forEach((b) => { b.tabIndex = -1; });
  all[i].tabIndex = 0;
  all[i].focus();
});
"""

REVIEW_JS = r"""
element.addEventListener('click', (ev) => {
  const b = ev.target.closest('[data-action="review"]');
  if (!b || !element.contains(b)) return;
  const item = b.closest('.rv-item');
  const box = item && item.querySelector('.rv-edit');
  item.querySelectorAll('.rv-btn').forEach((x) => { x.disabled = true; });
  trigger('review', {id: b.dataset.id, action: b.dataset.do, question: box ? box.value : ''});
});
"""

BANK_JS = r"""
element.addEventListener('click', (ev) => {
  const b = ev.target.closest('[data-action="addq"]');
  if (!b || !element.contains(b)) return;
  const box = element.querySelector('#bk-add-' + b.dataset.k);
  if (!box || !box.value.trim()) { if (box) box.focus(); return; }
  b.disabled = true;
  trigger('addq', {start: parseInt(b.dataset.start, 10), question: box.value});
});
"""

CSS = r"""
.fix { margin-top: .5rem; font-size: .9rem; color: var(--ink); }
.fix-head { margin: 0 0 .35rem; }
.fix-row { display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; }
.fix-doc { font: inherit; max-width: 100%; padding: .25rem .4rem; border: 1px solid var(--line); border-radius: 6px;
           background: var(--background-fill-primary); color: var(--ink); }
.fix-btn, .pick-send, .rv-btn, .bk-btn { font: inherit; font-size: .9rem; padding: .3rem .65rem; border-radius: 6px; cursor: pointer;
           border: 1px solid var(--accent); color: var(--accent); background: transparent; }
.fix-btn:hover, .pick-send:hover, .rv-btn:hover, .bk-btn:hover { background: var(--accent-soft); }
.pick-send:disabled, .rv-btn:disabled, .bk-btn:disabled, .fix-btn:disabled { opacity: .55; cursor: default; }
.fix-done { color: #0f5a2a; }
:root .dark .fix-done { color: #8fd6a5; }
.fix-error { color: #b3261e; margin: .3rem 0 0; }
.pick-q, .pick-help, .pick-chosen { margin: .2rem 0; font-size: .9rem; color: var(--ink); }
.pick-chosen { display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden; }
.pick-send { margin: .3rem 0; font-weight: 600; }
button.sent { all: unset; display: inline; cursor: pointer; border-radius: 3px; white-space: pre-wrap; }
button.sent:hover { background: var(--accent-soft); }
button.sent[aria-pressed="true"] { background: var(--hl); box-shadow: 0 0 0 2px var(--hl); }
button.sent:focus-visible { outline: 3px solid #ffb000 !important; outline-offset: 1px; }
.rv, .bk { list-style: none; padding: 0; margin: 0; display: grid; gap: .6rem; }
.rv-item, .bk-sent { border: 1px solid var(--line); border-radius: 10px; padding: .6rem .8rem; background: var(--card); color: var(--ink); }
.rv-q, .rv-said, .rv-meta { margin: .15rem 0; }
.rv-meta, .rv-count, .bk-count, .bk-none { color: var(--muted); font-size: .88rem; }
.rv-sentence, .bk-text { margin: .3rem 0; padding-left: .6rem; border-left: 3px solid var(--line); font-style: italic; }
.rv-edit, .bk-add { font: inherit; width: 100%; padding: .3rem .5rem; border: 1px solid var(--line); border-radius: 6px;
                    background: var(--background-fill-primary); color: var(--ink); }
.rv-row, .bk-row { display: flex; flex-wrap: wrap; gap: .4rem; margin-top: .35rem; }
.bk-row .bk-add { flex: 1 1 16rem; width: auto; }
.rv-reject { border-color: #b3261e; color: #b3261e; }
.bk-qs { margin: .2rem 0 .2rem 1.2rem; font-size: .92rem; }
#review-list p, #bank-view p { display: block; }
"""
