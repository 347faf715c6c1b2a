"""The web UI: a thin Gradio layer over ``Assistant`` (no retrieval or answering logic here).

    python app.py                      # http://127.0.0.1:7860 (ASSISTANT_HOST/_PORT or GRADIO_SERVER_NAME/_PORT)

Tabs: Ask (chat with cited quotes, source viewer, feedback, export), Sources (the library),
Manage library (add/remove documents; needs ASSISTANT_ADMIN_PASSWORD). Named API endpoints for
scripts: ``/ask`` (same JSON as ``assistant ask --json``), ``/sources``, ``/document``,
``/add_document``, ``/remove_document``.

Every piece of document or user text that goes into HTML passes through ``html.escape``.
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
from html import escape
from pathlib import Path
from typing import Any

import gradio as gr

from .. import export
from . import feedback
from ..config import Settings
from ..errors import AssistantError, InputError
from ..markers import split_markers
from ..service import Assistant

log = logging.getLogger("assistant.ui")

APP_TITLE = "Children's trusts & pupils' well-being: the 2008 proposals"
STARTERS = [
    "What duty did Ed Balls propose to place on schools?",
    "Which bodies are bound by the duty to co-operate?",
    "When do the consultations close?",
    "What did the ADCS say about the well-being duty?",
]
KIND_CHOICES = ["letter", "news report", "consultation document", "statutory guidance", "school policy", "document"]
STATUS_CHOICES = ["proposal under consultation", "news report of proposals", "enacted law", "statutory guidance",
                  "unspecified"]
HISTORY_TURNS = 6  # earlier question/answer pairs passed to ``ask`` for follow-ups
WRONG_PASSWORD_DELAY_S = 0.6


# ---- small helpers (pure; kept here so service.py stays untouched) ---------------------------------
def e(value: Any) -> str:
    """HTML-escape anything (quotes included)."""
    return escape("" if value is None else str(value), quote=True)


def badge(status: str, kind: str = "", date: str = "") -> tuple[str, str]:
    """(label, css class) of the status badge: what kind of source this is, at a glance."""
    s, k = (status or "").lower(), (kind or "").lower()
    year = date[:4] if re.match(r"^\d{4}", date or "") else ""
    if "news" in s or "news" in k:
        return "News report", "news"
    if "proposal" in s or "consultation" in s:
        return (f"Proposal, {year}" if year else "Proposal"), "proposal"
    if "enacted" in s or s == "law" or "in force" in s:
        return "Law", "law"
    if "guidance" in s:
        return "Statutory guidance", "law"
    if not s or s == "unspecified":
        return "Status not recorded", "unknown"
    return status[:1].upper() + status[1:], "other"


def badge_html(status: str, kind: str = "", date: str = "") -> str:
    label, cls = badge(status, kind, date)
    return (f'<span class="badge badge-{cls}" title="Status: {e(status or "unspecified")}">'
            f'{e(label)}<span class="sr-only"> (status: {e(status or "unspecified")})</span></span>')


def date_html(display_date: str, approximate: bool) -> str:
    if approximate:
        return (f'<span class="approx" title="Approximate date, worked out from the text">{e(display_date)}'
                f'<span class="sr-only"> (approximate date)</span></span>')
    return f"<span>{e(display_date)}</span>"


def highlight_span(text: str, start: int, end: int, quote: str) -> tuple[int, int] | None:
    """Where ``quote`` sits in ``text``: the citation's offsets when they match, else the first match."""
    if 0 <= start < end <= len(text) and text[start:end] == quote:
        return start, end
    at = text.find(quote) if quote else -1
    return (at, at + len(quote)) if at >= 0 else None


def history_of(turns: list[dict]) -> list[dict]:
    """The conversation so far as ``ask`` history: [{"role", "content"}, ...]. A turn asked "as a new
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
            out.append({"role": "assistant", "content": a.get("answer") or ""})
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


# ---- HTML rendering ---------------------------------------------------------------------------------
WELCOME = """
<div class="welcome">
  <h2>Ask about the 2008 proposals</h2>
  <p>Type a question in your own words. Every answer is made of sentences <strong>quoted word for word</strong>
  from the library's documents, with numbered sources [1], [2]&hellip; Select a source to read the passage in
  its document. If the documents don't cover your question, the assistant says so rather than guessing.</p>
  <h3 class="starters-head" id="starters-head">Not sure where to start? Try one of these:</h3>
  <ul class="starters" aria-labelledby="starters-head">{starters}</ul>
</div>"""

SOURCE_PLACEHOLDER = """
<div class="src-empty">
  <h2>Source document</h2>
  <p>Select a numbered source under an answer to open its document here, with the quoted passage highlighted.</p>
</div>"""

def _answer_text_html(text: str, turn: int, cites: dict[int, dict]) -> str:
    """The answer as HTML: its citation markers (found from the citations, ``markers.py``) become buttons
    that open their source; everything else, a quoted footnote mark such as "[2]" included, is text."""
    out = []
    for run, n in split_markers(text, list(cites.values())):
        if n is None or n not in cites:
            out.append(e(run))
        else:
            out.append(f'<button type="button" class="ref" data-action="cite" data-turn="{turn}" data-n="{n}" '
                       f'aria-label="Source {n}: {e(cites[n]["title"])}">[{n}]</button>')
    return "".join(out)


def _citation_html(c: dict, turn: int) -> str:
    return f"""
<li class="cite" data-action="cite" data-turn="{turn}" data-n="{c['n']}">
  <div class="cite-top"><span class="cite-n" aria-hidden="true">{c['n']}</span>{badge_html(c['status'], c['kind'], c['date'])}
    <span class="cite-date">{date_html(c['display_date'], c['date_approximate'])}</span></div>
  <blockquote class="cite-quote">&ldquo;{e(c['quote'])}&rdquo;</blockquote>
  <div class="cite-src"><span class="cite-title">{e(c['title'])}</span>
    <span class="cite-meta">{e(c['author']) + ' &middot; ' if c.get('author') else ''}{e(c['publisher'])} &middot; {e(c['location'])}</span></div>
  <button type="button" class="open-src" data-action="cite" data-turn="{turn}" data-n="{c['n']}"
    aria-label="Show quote {c['n']} highlighted in its source: {e(c['title'])}">Show in source <span aria-hidden="true">&rarr;</span></button>
</li>"""


_ABSTAIN_HEADINGS = {
    "no_evidence": "Not covered by the documents",
    "invalid_input": "Please rephrase your question",
    "unsafe_input": "I can only answer questions about the documents",
}


_THUMB = ('<svg aria-hidden="true" focusable="false" width="16" height="16" viewBox="0 0 24 24" fill="none" '
          'stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"{flip}>'
          '<path d="M7 10v12"/><path d="M15 5.88 14 10h5.83a2 2 0 0 1 1.92 2.56l-2.33 8A2 2 0 0 1 17.5 22H4a2 2 0 0 '
          '1-2-2v-8a2 2 0 0 1 2-2h2.76a2 2 0 0 0 1.79-1.11L12 2a3.13 3.13 0 0 1 3 3.88Z"/></svg>')
THUMB_UP, THUMB_DOWN = _THUMB.format(flip=""), _THUMB.format(flip=' style="transform: scaleY(-1)"')


def _feedback_html(t: dict, i: int) -> str:
    fb = t.get("feedback")
    if fb:
        word = "helpful" if fb == "up" else "not helpful"
        saved = "your rating and comment were saved" if t.get("feedback_comment") else "your rating was saved"
        return f'<div class="fb fb-done" role="status">Thank you: you marked this answer as {word}; {saved}.</div>'
    err = f'<p class="fb-error" role="alert">{e(t["feedback_error"])}</p>' if t.get("feedback_error") else ""
    return f"""
<div class="fb" role="group" aria-label="Feedback on answer {i + 1}">
  <label class="fb-label" for="fb-comment-{i}">Was this helpful? Add a comment if you like, then choose:</label>
  <div class="fb-row">
    <input type="text" id="fb-comment-{i}" class="fb-comment" maxlength="{feedback.MAX_COMMENT_CHARS}"
      placeholder="Comment (optional)" autocomplete="off">
    <button type="button" class="fb-btn" data-action="rate" data-rating="up" data-turn="{i}"
      aria-label="Helpful">{THUMB_UP} Helpful</button>
    <button type="button" class="fb-btn" data-action="rate" data-rating="down" data-turn="{i}"
      aria-label="Not helpful">{THUMB_DOWN} Not helpful</button>
  </div>{err}
</div>"""


def render_turn(t: dict, i: int) -> str:
    who = "You asked again, as a new question" if t.get("fresh") else "You asked"
    q = f"""<div class="q"><span class="who">{who}</span><p class="q-text">{e(t['question'])}</p></div>"""
    if t.get("pending") and t.get("draft"):  # LLM mode: the model's words as they arrive, not yet checked
        body = ('<section class="a a-pending a-draft" aria-busy="true"><h3 class="a-head">Drafting an answer '
                '&mdash; every sentence will be checked against its source</h3>'
                f'<p class="a-text draft-text">{e(t["draft"])}</p></section>')
    elif t.get("pending"):
        body = ('<section class="a a-pending" aria-busy="true"><span class="spinner" aria-hidden="true"></span>'
                "Searching the documents&hellip;</section>")
    elif t.get("error"):
        body = (f'<section class="a a-error" role="alert"><h3 class="a-head">Something went wrong</h3>'
                f'<p>{e(t["error"])}</p></section>')
    else:
        a = t["answer"]
        warnings = "".join(f'<p class="a-warning" role="note"><span class="warn-icon" aria-hidden="true">!</span> '
                           f'{e(w)}</p>' for w in a.get("warnings") or [])
        if a.get("abstained"):
            head = _ABSTAIN_HEADINGS.get(a.get("status"), "No answer from the documents")
            body = f"""
<section class="a a-abstained" aria-label="{e(head)}">
  {warnings}
  <h3 class="a-head"><span class="a-icon" aria-hidden="true">i</span>{e(head)}</h3>
  <p class="a-text">{e(a.get('message') or a.get('answer'))}</p>
  {_feedback_html(t, i)}
</section>"""
        else:
            cites = {c["n"]: c for c in a.get("citations") or []}
            searched = a.get("standalone_question")
            searched_html = (f'<p class="searched">Read as a follow-up: <q>{e(searched)}</q> '
                             f'<button type="button" class="ask-new" data-action="reask" data-turn="{i}" '
                             f'title="Ask this question again on its own, without the earlier conversation">'
                             f'Ask as a new question</button></p>'
                             if searched and searched.strip() != t["question"].strip() else "")
            notice = (f'<p class="a-notice"><span class="warn-icon" aria-hidden="true">!</span> {e(a["notice"])}</p>'
                      if a.get("notice") else "")
            plural = "s" if len(cites) != 1 else ""
            body = f"""
<section class="a a-answered" aria-label="Answer {i + 1}">
  {warnings}
  <h3 class="a-head">{_MODE_HEADINGS.get(a.get("mode"), _MODE_HEADINGS["extractive"])}</h3>
  {_mode_note(a)}{searched_html}
  <p class="a-text">{_answer_text_html(a.get('answer', ''), i, cites)}</p>
  {notice}
  <h4 class="cites-head">{len(cites)} source{plural}</h4>
  <ol class="cites">{''.join(_citation_html(c, i) for c in cites.values())}</ol>
  {_feedback_html(t, i)}
</section>"""
    state = "pending" if t.get("pending") else "done"
    return f'<article class="turn" id="turn-{i}" data-state="{state}">{q}{body}</article>'


_MODE_HEADINGS = {"extractive": "Quoted from the documents", "extractive-fallback": "Quoted from the documents",
                  "llm": "Summarised from the documents, every sentence checked against its source"}


def _mode_note(a: dict) -> str:
    """LLM mode: say how many generated sentences were removed; fallback: say why the quotes are shown."""
    if a.get("mode") == "extractive-fallback":
        return ('<p class="mode-note">The language model&rsquo;s answer could not be verified against the sources '
                f'({e(a.get("fallback_reason") or "")}), so here are the quotes themselves.</p>')
    removed = sum(not x.get("kept") for x in a.get("support") or [])
    if a.get("mode") == "llm" and removed:
        return (f'<p class="mode-note">{removed} generated sentence{"s" if removed != 1 else ""} not supported by '
                'the sources removed.</p>')
    return ""


def render_conversation(turns: list[dict]) -> str:
    if not turns:
        return WELCOME.format(starters="".join(
            f'<li><button type="button" class="starter" data-action="ask" data-q="{e(q)}">{e(q)}</button></li>'
            for q in STARTERS))
    return f'<div class="turns" data-count="{len(turns)}">{"".join(render_turn(t, i) for i, t in enumerate(turns))}</div>'


def render_source(meta: dict, text: str, span: tuple[int, int] | None = None, n: int | None = None,
                  back_to: str | None = None, note: str = "") -> str:
    """A document's cleaned text; ``span`` (character offsets) highlighted as <mark class="hl">."""
    if span:
        s, t = span
        body = (f'{e(text[:s])}<mark class="hl" id="hl" tabindex="-1">{e(text[s:t])}</mark>{e(text[t:])}')
    else:
        body = e(text)
    back = (f'<button type="button" class="back" data-action="back" data-target="{e(back_to)}">'
            f'<span aria-hidden="true">&larr;</span> Back to the answer</button>') if back_to else ""
    which = f"Source [{n}]" if n is not None else "Document"
    note_html = f'<p class="src-note">{e(note)}</p>' if note else ""
    return f"""
<div class="src" data-doc="{e(meta.get('id', ''))}">
  <div class="src-head">
    <p class="src-which">{e(which)} {back}</p>
    <h2 class="src-title">{e(meta.get('title', ''))}</h2>
    <p class="src-meta">{badge_html(meta.get('status', ''), meta.get('kind', ''), meta.get('date', ''))}
      {e(meta.get('publisher', ''))} &middot; {date_html(meta.get('display_date', ''), meta.get('date_approximate', False))}
      &middot; {e(meta.get('kind', ''))}</p>
    <p class="src-status">Status: {e(meta.get('status', ''))}</p>
    {note_html}
  </div>
  <div class="src-text" tabindex="0" role="document" aria-label="Full text of {e(meta.get('title', ''))}">{body}</div>
</div>"""


def render_library(rows: list[dict]) -> str:
    if not rows:
        return '<p class="lib-empty">The library is empty.</p>'
    items = []
    for r in rows:
        items.append(f"""
<li class="lib-item">
  <h3 class="lib-title">{e(r['title'])}</h3>
  <p class="lib-meta">{badge_html(r['status'], r['kind'], r['date'])} {e(r['publisher'])} &middot;
    {date_html(r['display_date'], r['date_approximate'])} &middot; {e(r['kind'])}</p>
  <p class="lib-facts">Status: {e(r['status'])} &middot; {_plural(int(r['passages']), 'passage')} &middot; id <code>{e(r['id'])}</code></p>
  <button type="button" class="open-doc" data-action="open" data-doc="{e(r['id'])}"
    aria-label="Read the full text of {e(r['title'])}">Read full text</button>
</li>""")
    total = sum(int(r["passages"]) for r in rows)
    return (f'<p class="lib-summary">{_plural(len(rows), "document")}, {_plural(total, "passage")}.</p>'
            f'<ul class="lib">{"".join(items)}</ul>')


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def say(text: str) -> str:
    """A message for screen readers (the #announce region is HTML): always plain, escaped text."""
    return e(text)


def _message(kind: str, text: str) -> str:
    role = "alert" if kind == "error" else "status"
    return f'<div class="msg msg-{kind}" role="{role}">{e(text)}</div>'


# ---- front-end behaviour (runs in the browser) -----------------------------------------------------
CONVERSATION_JS = r"""
element.setAttribute('role', 'region');
element.setAttribute('aria-label', 'Conversation: your questions and the quoted answers');
element.addEventListener('click', (ev) => {
  const t = ev.target.closest('[data-action]');
  if (!t || !element.contains(t)) return;
  if (t.tagName === 'LI' && ev.target.closest('button, a, input')) return;
  const turn = parseInt(t.dataset.turn, 10);
  if (t.dataset.action === 'cite') {
    element.querySelectorAll('.cite.active').forEach((c) => c.classList.remove('active'));
    const card = element.querySelector(`#turn-${turn} .cite[data-n="${t.dataset.n}"]`);
    if (card) card.classList.add('active');
    trigger('cite', {turn: turn, n: parseInt(t.dataset.n, 10)});
  } else if (t.dataset.action === 'ask') {
    trigger('ask', {q: t.dataset.q});
  } else if (t.dataset.action === 'reask') {
    trigger('reask', {turn: turn});
  } else if (t.dataset.action === 'rate') {
    const box = element.querySelector(`#fb-comment-${turn}`);
    element.querySelectorAll(`#turn-${turn} .fb-btn`).forEach((b) => { b.disabled = true; });
    trigger('feedback', {turn: turn, rating: t.dataset.rating, comment: box ? box.value : ''});
  }
});
element.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && ev.target.classList && ev.target.classList.contains('fb-comment')) ev.preventDefault();
});
let lastKey = '';
watch('value', () => {
  const turns = element.querySelectorAll('.turn');
  const last = turns[turns.length - 1];
  const key = turns.length + ':' + (last ? last.dataset.state : '');
  if (key === lastKey) return;
  lastKey = key;
  if (!last) return;
  // the page scrolls (the conversation has no scroll bar of its own): bring the newest turn's top into view
  const smooth = !window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  last.scrollIntoView({block: 'start', behavior: smooth ? 'smooth' : 'auto'});
});
"""

SOURCE_JS = r"""
const scroller = () => element.closest('.src-scroll') || element;
element.setAttribute('role', 'region');
element.setAttribute('aria-label', 'Source document');
function show() {
  const box = scroller();
  const mark = element.querySelector('mark.hl');
  const rect = box.getBoundingClientRect();
  if (rect.top < 0 || rect.top > window.innerHeight * 0.6) {
    box.scrollIntoView({block: 'start', behavior: 'auto'});
  }
  if (mark) {
    const top = mark.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop;
    box.scrollTop = Math.max(0, top - box.clientHeight / 3);
    mark.focus({preventScroll: true});
  } else {
    box.scrollTop = 0;
  }
}
element.addEventListener('click', (ev) => {
  const t = ev.target.closest('[data-action="back"]');
  if (!t) return;
  const target = document.getElementById(t.dataset.target);
  if (target) {
    target.scrollIntoView({block: 'nearest'});
    const btn = target.querySelector('.cite.active .open-src') || target.querySelector('.open-src');
    if (btn) btn.focus({preventScroll: false});
  }
});
watch('value', () => { requestAnimationFrame(show); });
"""

LIBRARY_JS = r"""
element.addEventListener('click', (ev) => {
  const t = ev.target.closest('[data-action="open"]');
  if (t && element.contains(t)) trigger('open', {doc: t.dataset.doc});
});
"""

ANNOUNCE_JS = "element.setAttribute('role', 'status'); element.setAttribute('aria-live', 'polite');"

# Layout (issue 14): the conversation grows with the page, since an inner scroll hid all but the top of
# the newest answer's sources; the question box (#composer) stays at the bottom of the window and the
# source panel stays beside the chat. On a phone the source panel shows only once a source is selected
# (``:has(.src-empty)``), not as an empty placeholder under the chat. No comments inside the CSS: Gradio
# prefixes every selector, and a comment with commas in it breaks the rule after it. ``overflow: clip``
# on .gradio-container (Gradio sets ``hidden``, which makes it a scroll box) lets sticky elements stick.
# The save buttons change state at once (no fade): they are enabled in the same frame as the answer.
CSS = r"""
:root { --ink: #1b2a4a; --accent: #1f5fae; --accent-soft: #e8f0fb; --amber: #8a4b00; --amber-soft: #fff4e0;
        --muted: #5a6478; --card: #ffffff; --line: #d8dee9; --hl: #ffe066; --abst: #f3f5f9; }
:root.dark, :root .dark { --ink: #e6ecf7; --accent: #8ab4f8; --accent-soft: #1d2a40; --amber: #ffcf86; --amber-soft: #3a2c12;
        --muted: #a9b3c6; --card: #1b1f27; --line: #384152; --hl: #7a6300; --abst: #222733; }
.gradio-container { max-width: 1400px !important; overflow: clip !important; }
.gradio-container .main.app { padding-left: clamp(8px, 2.5vw, 32px) !important; padding-right: clamp(8px, 2.5vw, 32px) !important; }
.sr-only { position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
           clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
#announce { position: absolute !important; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
.app-header h1 { font-size: 1.5rem; margin: 0 0 .15rem; color: var(--ink); line-height: 1.25; }
.app-header .sub { margin: 0 0 .45rem; color: var(--muted); font-size: .95rem; }
.notice-banner { border-left: 5px solid #d08a00; background: var(--amber-soft); color: var(--ink); font-size: .95rem;
                 padding: .4rem .8rem; border-radius: 6px; margin: 0; }
.notice-banner strong { color: var(--amber); }
#conversation { min-height: clamp(300px, calc(100vh - 372px), 900px); border: 1px solid var(--line);
                border-radius: 10px; padding: .75rem; background: var(--background-fill-secondary); }
#composer { position: sticky; bottom: 0; z-index: 5; gap: .5rem; padding: .5rem 0;
            background: var(--body-background-fill); box-shadow: 0 -8px 8px -8px rgba(0, 0, 0, .18); }
.turn { scroll-margin-top: .75rem; }
#source-panel { position: sticky; top: .5rem; align-self: flex-start; height: calc(100vh - 5rem); }
.ask-new { font: inherit; font-size: .85rem; font-weight: 600; color: var(--accent); background: transparent; cursor: pointer;
           border: 1px solid var(--accent); border-radius: 6px; padding: .05rem .5rem; margin-left: .25rem; }
.ask-new:hover { background: var(--accent-soft); }
.welcome { max-width: 46rem; margin: 1.2rem auto; color: var(--ink); }
.welcome h2 { margin-top: 0; font-size: 1.3rem; }
.starters-head { font-size: 1rem; margin: 1rem 0 .5rem; color: var(--muted); font-weight: 600; }
.starters { list-style: none; padding: 0; margin: 0; display: grid; gap: .5rem; grid-template-columns: repeat(auto-fill, minmax(15rem, 1fr)); }
.starter { width: 100%; height: 100%; text-align: left; font: inherit; font-size: .98rem; color: var(--ink); cursor: pointer;
           background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: .6rem .8rem; }
.starter:hover { border-color: var(--accent); box-shadow: 0 0 0 1px var(--accent); }
.warn-icon { display: inline-flex; width: 1.1rem; height: 1.1rem; border-radius: 50%; background: #d08a00; color: #fff;
             font-weight: 800; font-size: .75rem; align-items: center; justify-content: center; margin-right: .15rem; }
.fb-btn svg { vertical-align: -3px; }
.turn { margin: 0 0 1.25rem; }
.q { display: flex; flex-direction: column; align-items: flex-end; margin-bottom: .4rem; }
.who { font-size: .8rem; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.q-text { background: var(--accent); color: #fff; padding: .5rem .85rem; border-radius: 14px 14px 2px 14px;
          margin: .15rem 0 0; max-width: 85%; white-space: pre-wrap; overflow-wrap: anywhere; }
:root .dark .q-text { color: #0d1526; }
.a { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: .8rem 1rem;
     color: var(--ink); max-width: 100%; }
.a-head { font-size: .85rem; margin: 0 0 .35rem; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.a-text { font-size: 1.05rem; line-height: 1.55; margin: 0 0 .5rem; overflow-wrap: anywhere; }
.a-answered { border-left: 5px solid var(--accent); }
.a-abstained { background: var(--abst); border: 2px dashed #8c96aa; }
.a-abstained .a-head { color: var(--ink); font-size: 1rem; text-transform: none; letter-spacing: 0;
                       display: flex; align-items: center; gap: .5rem; }
.a-icon { display: inline-flex; width: 1.4rem; height: 1.4rem; border-radius: 50%; background: #5a6478; color: #fff;
          align-items: center; justify-content: center; font-weight: 700; font-style: italic; font-family: Georgia, serif; }
.a-error { border: 2px solid #b3261e; }
.a-pending { color: var(--muted); display: flex; gap: .6rem; align-items: center; }
.a-draft { display: block; border-left: 5px dashed var(--muted); }
.mode-note { font-size: .85rem; color: var(--muted); margin: 0 0 .4rem; }
.spinner { width: 1rem; height: 1rem; border: 3px solid var(--line); border-top-color: var(--accent);
           border-radius: 50%; animation: spin 0.8s linear infinite; }
@keyframes spin { to { transform: rotate(360deg); } }
@media (prefers-reduced-motion: reduce) { .spinner { animation: none; } }
.searched { font-size: .85rem; color: var(--muted); margin: 0 0 .4rem; }
.a-notice { background: var(--amber-soft); color: var(--ink); border-radius: 6px; padding: .35rem .6rem;
            font-size: .9rem; margin: .2rem 0 .6rem; }
.a-warning { background: var(--accent-soft); color: var(--ink); border-left: 4px solid var(--accent); border-radius: 6px;
             padding: .35rem .6rem; font-size: .9rem; margin: 0 0 .6rem; }
.ref { font: inherit; font-size: .8em; vertical-align: super; line-height: 1; color: var(--accent); background: var(--accent-soft);
       border: 1px solid transparent; border-radius: 4px; padding: 0 .2em; cursor: pointer; font-weight: 700; }
.ref:hover { border-color: var(--accent); }
.cites-head { font-size: .85rem; margin: .5rem 0 .3rem; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.cites { list-style: none; padding: 0; margin: 0; display: grid; gap: .55rem; }
.cite { border: 1px solid var(--line); border-radius: 10px; padding: .6rem .75rem; background: var(--background-fill-primary);
        cursor: pointer; transition: border-color .15s; }
.cite:hover, .cite.active { border-color: var(--accent); box-shadow: 0 0 0 1px var(--accent); }
.cite-top { display: flex; flex-wrap: wrap; align-items: center; gap: .45rem; font-size: .85rem; color: var(--muted); }
.cite-n { display: inline-flex; min-width: 1.6rem; height: 1.6rem; border-radius: 50%; background: var(--accent); color: #fff;
          align-items: center; justify-content: center; font-weight: 700; font-size: .85rem; }
:root .dark .cite-n { color: #0d1526; }
.cite-quote { margin: .45rem 0; padding: 0 0 0 .7rem; border-left: 3px solid var(--line); font-style: italic;
              line-height: 1.5; color: var(--ink); overflow-wrap: anywhere; }
.cite-src { font-size: .88rem; color: var(--muted); display: flex; flex-direction: column; gap: .1rem; }
.cite-title { color: var(--ink); font-weight: 600; }
.open-src, .back, .open-doc { margin-top: .45rem; font: inherit; font-size: .9rem; font-weight: 600; color: var(--accent);
       background: transparent; border: 1px solid var(--accent); border-radius: 6px; padding: .3rem .7rem; cursor: pointer; }
.open-src:hover, .back:hover, .open-doc:hover { background: var(--accent-soft); }
.badge { display: inline-block; font-size: .78rem; font-weight: 700; padding: .12rem .5rem; border-radius: 999px;
         border: 1px solid; white-space: nowrap; }
.badge-proposal { color: #7a3f00; background: #fff1d6; border-color: #e0a040; }
.badge-news { color: #123f7a; background: #e3eeff; border-color: #7da7e6; }
.badge-law { color: #0f5a2a; background: #e0f5e7; border-color: #68b783; }
.badge-unknown, .badge-other { color: #3d4452; background: #eef0f4; border-color: #aab1bf; }
.approx { border-bottom: 1px dotted currentColor; cursor: help; }
.fb { margin-top: .7rem; padding-top: .55rem; border-top: 1px solid var(--line); font-size: .9rem; color: var(--muted); }
.fb-row { display: flex; flex-wrap: wrap; gap: .4rem; margin-top: .3rem; align-items: center; }
.fb-comment { flex: 1 1 12rem; min-width: 0; font: inherit; padding: .3rem .5rem; border: 1px solid var(--line);
              border-radius: 6px; background: var(--background-fill-primary); color: var(--ink); }
.fb-btn { display: inline-flex; align-items: center; gap: .35rem; white-space: nowrap; font: inherit; padding: .3rem .65rem; border-radius: 6px; border: 1px solid var(--line); cursor: pointer;
          background: var(--background-fill-primary); color: var(--ink); }
.fb-btn:hover { border-color: var(--accent); }
.fb-btn:disabled { opacity: .55; cursor: progress; }
.fb-done { color: #0f5a2a; }
:root .dark .fb-done { color: #8fd6a5; }
.fb-error { color: #b3261e; margin: .3rem 0 0; }
button:focus-visible, input:focus-visible, .src-text:focus-visible, mark.hl:focus-visible, [tabindex]:focus-visible {
  outline: 3px solid #ffb000 !important; outline-offset: 2px; }
.src-scroll { height: clamp(320px, calc(100vh - 250px), 1100px); overflow-y: auto !important; flex-wrap: nowrap !important; border: 1px solid var(--line);
              border-radius: 10px; background: var(--card); }
.src-empty { padding: 1rem 1.1rem; color: var(--muted); }
.src-empty h2 { font-size: 1.1rem; color: var(--ink); margin-top: 0; }
.src-head { position: sticky; top: 0; background: var(--card); padding: .75rem 1rem .5rem; border-bottom: 1px solid var(--line); z-index: 1; }
.src-which { margin: 0; display: flex; justify-content: space-between; align-items: center; gap: .5rem;
             font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.src-which .back { margin: 0; text-transform: none; letter-spacing: 0; }
.src-title { font-size: 1.05rem; margin: .35rem 0; color: var(--ink); line-height: 1.35; }
.src-meta, .src-status { margin: .1rem 0; font-size: .85rem; color: var(--muted); }
.src-note { margin: .3rem 0 0; font-size: .85rem; color: #b3261e; }
.src-text { white-space: pre-wrap; overflow-wrap: anywhere; padding: .75rem 1rem 30vh; line-height: 1.6; color: var(--ink); font-size: .98rem; }
mark.hl { background: var(--hl); color: inherit; padding: .1em 0; border-radius: 3px; box-shadow: 0 0 0 3px var(--hl); scroll-margin: 6rem; }
#conversation p, #source-view p, #library p, #library-view p, #admin-message p { display: block; }
.lib { list-style: none; padding: 0; margin: 0; display: grid; gap: .6rem; }
.lib-item { border: 1px solid var(--line); border-radius: 10px; padding: .7rem .9rem; background: var(--card); color: var(--ink); }
.lib-item .open-doc { margin-top: .5rem; }
#library-panel { position: sticky; top: .75rem; }
.lib-title { font-size: 1rem; margin: 0 0 .35rem; line-height: 1.35; }
.lib-meta, .lib-facts { margin: .15rem 0; font-size: .88rem; color: var(--muted); }
.lib-summary { color: var(--muted); }
.msg { padding: .55rem .8rem; border-radius: 8px; margin: .3rem 0; }
.msg-error { background: #fdecea; color: #8c1d18; border: 1px solid #e6a5a0; }
.msg-ok { background: #e6f4ea; color: #0f5a2a; border: 1px solid #9fd1ae; }
.msg-info { background: var(--abst); color: var(--ink); border: 1px solid var(--line); }
:root .dark .msg-error { background: #3b1512; color: #ffb4ab; }
:root .dark .msg-ok { background: #0f2a18; color: #a5e0b5; }
#ask-row { align-items: stretch; flex-wrap: nowrap; gap: .5rem; }
#question textarea { font-size: 1.05rem; padding: .65rem .8rem; }
#tools-row { gap: .5rem; }
#export-md, #export-pdf { transition: none; }
@media (max-width: 700px) {
  .app-header h1 { font-size: 1.2rem; }
  .app-header .sub { display: none; }
  .notice-banner { font-size: .9rem; }
  #conversation { min-height: 40vh; padding: .5rem; }
  .src-scroll, #source-panel { height: 75vh; }
  #source-panel { position: static; }
  #composer { gap: .35rem; padding: .35rem 0; }
  #tools-row { flex-wrap: nowrap; gap: .35rem; }
  #tools-row > button { min-width: 0 !important; flex: 1 1 0; font-size: .8rem; padding: .3rem .25rem; }
  .src-scroll:has(.src-empty) { display: none !important; }
  .src-head { padding: .5rem .75rem .4rem; }
  .src-title { font-size: .98rem; margin: .2rem 0; display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden; }
  #source-view .src-status, #library-view .src-status { display: none; }
  .src-text { padding: .6rem .75rem 30vh; }
  .a { padding: .65rem .7rem; }
  .welcome { margin: .4rem .2rem; }
  .welcome h2 { font-size: 1.1rem; }
  .q-text { max-width: 95%; }
}
"""

HEAD = '<meta name="description" content="Quoted, cited answers from 2008 documents on children\'s trusts, ' \
       'the duty to co-operate and pupils\' well-being.">'


def theme() -> gr.themes.Base:
    """A calm, high-contrast theme with system fonts only (nothing is fetched from the internet)."""
    system = [gr.themes.Font("system-ui"), "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"]
    mono = [gr.themes.Font("ui-monospace"), "SFMono-Regular", "Menlo", "Consolas", "monospace"]
    return gr.themes.Default(primary_hue="blue", secondary_hue="slate", neutral_hue="slate",
                             text_size=gr.themes.sizes.text_lg, font=system, font_mono=mono).set(
        # white on blue-700 passes WCAG AA contrast (blue-500 does not)
        button_primary_background_fill="*primary_700", button_primary_background_fill_hover="*primary_800",
        button_primary_text_color="white", button_primary_background_fill_dark="*primary_600",
        button_primary_background_fill_hover_dark="*primary_700")


# ---- the app ----------------------------------------------------------------------------------------
class UI:
    """Event handlers: each one is a thin call into ``Assistant`` plus rendering."""

    def __init__(self, assistant: Assistant):
        self.assistant = assistant
        self.settings = assistant.settings
        self.admin = AdminGate(self.settings)
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
        choices = [(f"{r['title']} ({r['id']})", r["id"]) for r in rows]
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
                                               js_on_load=CONVERSATION_JS + "\n// events: 'cite' 'feedback' 'ask' 'reask'")
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
                        source_view = gr.HTML(SOURCE_PLACEHOLDER, elem_id="source-view", js_on_load=SOURCE_JS)

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

            from .web_training import add_training_tabs  # Duties and Quiz tabs (governor training)
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
    # Every event and API call goes through one queue: at most `concurrency` run at once (they share the
    # CPU; the model is not copied), up to `queue_size` wait in order, and more are refused with "queue full".
    demo.queue(default_concurrency_limit=settings.concurrency, max_size=settings.queue_size)
    demo._assistant_ui = ui  # for tests and embedding
    return demo


def _training_css() -> str:
    from .web_training import CSS as TRAINING_CSS

    return TRAINING_CSS


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
    this process (``assistant.netguard``) unless ASSISTANT_ALLOW_NETWORK is set."""
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
    options = dict(server_name=host or settings.host, server_port=port or settings.port, theme=theme(), css=CSS + _training_css(),
                   head=HEAD, max_file_size=settings.max_upload_bytes, show_error=True,
                   footer_links=["api", "settings"], run_history=False, enable_monitoring=False)
    options.update(kwargs)
    return demo.launch(**options)
