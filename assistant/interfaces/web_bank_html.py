"""What the corrections and question-bank parts of the web UI look like: the source panel in
correction mode (every sentence a button), the review list and a document's bank questions as HTML, and
the browser-side JS and CSS that go with them. Pure rendering of the rows ``Assistant.bank`` returns; the
events that call it are in ``web_bank.py`` (split from it for issue 32: modules under 400 lines)."""
from __future__ import annotations

from .web_html import e, plural

REVIEW_SHOWN = 50  # the review list shows the oldest this many; the count says how many wait


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
    return (message + f'<p class="rv-count">{plural(len(rows), "correction")} waiting for review{more}.</p>'
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
    return (message + f'<p class="bk-count">{plural(len(sentences), "sentence")}, {covered} with bank questions '
            f'(id <code>{e(doc_id)}</code>).</p><ol class="bk">{"".join(items)}</ol>')


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
