"""HTML for the web UI, as pure functions of the answer and source dicts: escaping, status badges,
the conversation, a source with its quoted passage highlighted, the library list.

Shared by ``web.py`` (the Ask and Sources tabs) and ``web_training.py`` (duty cards and quiz): both
import it, so ``web_training`` no longer imports ``web`` (the two used to import each other).
Every piece of document or user text that goes into HTML passes through ``e`` (``html.escape``).
"""
from __future__ import annotations

import re
from html import escape
from typing import Any

from ..library.details import not_recorded
from ..markers import split_markers
from ..models import how_read
from ..library import feedback
from .. import identity


# ---- small helpers -------------------------------------------------------------------------------
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


def recorded(field: str, value: str | None) -> str:
    """A detail as readers see it: "not recorded" for what the library stores when nobody gave it
    (publisher "unknown", status "unspecified", no date)."""
    return "not recorded" if not_recorded(field, value) else str(value)


def _publisher_html(value: str | None) -> str:
    return "Publisher not recorded" if not_recorded("publisher", value) else e(value)


def _edit_link(r: dict) -> str:
    """"Edit details" beside a document with a detail not recorded: opens it in Manage library's edit section."""
    missing = [f for f in ("publisher", "date", "status") if not_recorded(f, r.get(f))]
    if not missing:
        return ""
    return (f'<button type="button" class="edit-doc" data-action="edit" data-doc="{e(r.get("id", ""))}" '
            f'aria-label="Edit the details of {e(r.get("title", ""))} (its {" and ".join(missing)} not recorded)">'
            'Edit details</button>')


def badge_html(status: str, kind: str = "", date: str = "") -> str:
    label, cls = badge(status, kind, date)
    return (f'<span class="badge badge-{cls}" title="Status: {e(recorded("status", status))}">'
            f'{e(label)}<span class="sr-only"> (status: {e(recorded("status", status))})</span></span>')


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



# ---- HTML rendering ---------------------------------------------------------------------------------
WELCOME = """
<div class="welcome">
  <h2>{heading}</h2>
  <p>Type a question in your own words. Every answer is made of sentences <strong>quoted word for word</strong>
  from the library's documents, with numbered sources [1], [2]&hellip; Select a source to read the passage in
  its document. If the documents don't cover your question, the assistant says so rather than guessing.</p>
  <h3 class="starters-head" id="starters-head">Not sure where to start? Try one of these:</h3>
  <ul class="starters" aria-labelledby="starters-head">{starters}</ul>
</div>"""
_NO_STARTERS = re.compile(r'\s*<h3 class="starters-head".*?</ul>', re.S)  # a library that offers none

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


def _record_html(record: str | None) -> str:
    """The library's record of a document asked about: a labelled line of its own, never styled as a quote."""
    return f'<p class="a-record">{e(record)}</p>' if record else ""


def _citation_html(c: dict, turn: int) -> str:
    return f"""
<li class="cite" data-action="cite" data-turn="{turn}" data-n="{c['n']}">
  <div class="cite-top"><span class="cite-n" aria-hidden="true">{c['n']}</span>{badge_html(c['status'], c['kind'], c['date'])}
    <span class="cite-date">{date_html(c['display_date'], c['date_approximate'])}</span></div>
  <blockquote class="cite-quote">&ldquo;{e(c['quote'])}&rdquo;</blockquote>
  <div class="cite-src"><span class="cite-title">{e(c['title'])}</span>
    <span class="cite-meta">{e(c['author']) + ' &middot; ' if c.get('author') else ''}{_publisher_html(c['publisher'])} &middot; {e(c['location'])}</span></div>
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
        done = f'<div class="fb fb-done" role="status">Thank you: you marked this answer as {word}; {saved}.</div>'
        return done + (_fix_html(t, i) if fb == "down" else "")
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


SENT_FOR_REVIEW = "Thanks — sent for review; it won't change answers until a library manager accepts it."


def _fix_html(t: dict, i: int) -> str:
    """After "Not helpful": two ways to correct the answer (the sentence that answers it, chosen in a document,
    or "the documents don't cover this"); once sent, what happens next."""
    if t.get("correction"):
        return f'<p class="fix fix-done" role="status">{e(SENT_FOR_REVIEW)}</p>'
    err = f'<p class="fix-error" role="alert">{e(t["correction_error"])}</p>' if t.get("correction_error") else ""
    options = "".join(f'<option value="{e(d)}">{e(title)}</option>' for d, title in t.get("fix_docs") or [])
    return f"""
<div class="fix" role="group" aria-label="Correct answer {i + 1}">
  <p class="fix-head">Can you help put it right? Choose the sentence that answers your question in a document,
  or tell us the documents don't cover it. A library manager reviews every correction.</p>
  <div class="fix-row">
    <label class="fix-label" for="fix-doc-{i}">Document</label>
    <select id="fix-doc-{i}" class="fix-doc">{options}</select>
    <button type="button" class="fix-btn" data-action="fixdoc" data-turn="{i}">Choose the sentence in this document</button>
    <button type="button" class="fix-btn" data-action="notcovered" data-turn="{i}">The documents don't cover this</button>
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
            read = how_read(t["question"], a.get("standalone_question"), a.get("follow_up", True), a.get("read_with"))
            if read and read[0].startswith("Read as"):  # the conversation was used: say how, offer to ask it alone
                searched_html = (f'<p class="searched">{e(read[0])} <q>{e(read[1])}</q> '
                                 f'<button type="button" class="ask-new" data-action="reask" data-turn="{i}" '
                                 f'title="Ask this question again on its own, without the earlier conversation">'
                                 f'Ask as a new question</button></p>')
            elif read:  # only everyday words given the documents' words (corpus/vocabulary.toml)
                searched_html = f'<p class="reworded">{e(read[0])} <q>{e(read[1])}</q></p>'
            else:
                searched_html = ""
            notice = (f'<p class="a-notice"><span class="warn-icon" aria-hidden="true">!</span> {e(a["notice"])}</p>'
                      if a.get("notice") else "")
            plural = "s" if len(cites) != 1 else ""
            body = f"""
<section class="a a-answered" aria-label="Answer {i + 1}">
  {warnings}
  <h3 class="a-head">{_MODE_HEADINGS.get(a.get("mode"), _MODE_HEADINGS["extractive"])}</h3>
  {_mode_note(a)}{searched_html}
  {_record_html(a.get('record'))}<p class="a-text">{_answer_text_html(a.get('quotes', a.get('answer', '')), i, cites)}</p>
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
        said = identity.current()  # the library's heading and starter questions (corpus/library.toml)
        html = WELCOME.format(heading=e(said.welcome_heading), starters="".join(
            f'<li><button type="button" class="starter" data-action="ask" data-q="{e(q)}">{e(q)}</button></li>'
            for q in said.starters))
        return html if said.starters else _NO_STARTERS.sub("", html)
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
      {_publisher_html(meta.get('publisher', ''))} &middot; {date_html(meta.get('display_date', ''), meta.get('date_approximate', False))}
      &middot; {e(meta.get('kind', ''))}</p>
    <p class="src-status">Status: {e(recorded('status', meta.get('status', '')))}</p>
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
  <p class="lib-meta">{badge_html(r['status'], r['kind'], r['date'])} {_publisher_html(r['publisher'])} &middot;
    {date_html(r['display_date'], r['date_approximate'])} &middot; {e(r['kind'])}</p>
  <p class="lib-facts">Status: {e(recorded('status', r['status']))} &middot; {plural(int(r['passages']), 'passage')} &middot; id <code>{e(r['id'])}</code></p>
  <button type="button" class="open-doc" data-action="open" data-doc="{e(r['id'])}"
    aria-label="Read the full text of {e(r['title'])}">Read full text</button> {_edit_link(r)}
</li>""")
    total = sum(int(r["passages"]) for r in rows)
    return (f'<p class="lib-summary">{plural(len(rows), "document")}, {plural(total, "passage")}.</p>'
            f'<ul class="lib">{"".join(items)}</ul>')


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def say(text: str) -> str:
    """A message for screen readers (the #announce region is HTML): always plain, escaped text."""
    return e(text)


def message(kind: str, text: str) -> str:
    """A message box (``kind``: ok, info, error) of plain, escaped text."""
    role = "alert" if kind == "error" else "status"
    return f'<div class="msg msg-{kind}" role="{role}">{e(text)}</div>'


