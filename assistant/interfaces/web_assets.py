"""What the web UI runs in the browser and how it looks: the JavaScript attached to the conversation,
source and library panels, the CSS, the page's <head> and the Gradio theme (system fonts only:
nothing is fetched from the internet). No Python logic; ``web.py`` passes these to Gradio.
"""
from __future__ import annotations

import gradio as gr


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
  } else if (t.dataset.action === 'fixdoc') {
    const sel = element.querySelector(`#fix-doc-${turn}`);
    if (sel && sel.value) trigger('fixdoc', {turn: turn, doc: sel.value});
  } else if (t.dataset.action === 'notcovered') {
    t.disabled = true;
    trigger('notcovered', {turn: turn});
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
  const t = ev.target.closest('[data-action="open"], [data-action="edit"]');
  if (t && element.contains(t)) trigger(t.dataset.action, {doc: t.dataset.doc});
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
.a-record { font-size: .95rem; margin: 0 0 .5rem; padding: .4rem .6rem; background: var(--amber-soft); border-radius: 4px; }
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
.searched, .reworded { font-size: .85rem; color: var(--muted); margin: 0 0 .4rem; }
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
.open-src, .back, .open-doc, .edit-doc { margin-top: .45rem; font: inherit; font-size: .9rem; font-weight: 600; color: var(--accent);
       background: transparent; border: 1px solid var(--accent); border-radius: 6px; padding: .3rem .7rem; cursor: pointer; }
.open-src:hover, .back:hover, .open-doc:hover, .edit-doc:hover { background: var(--accent-soft); }
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

def head(description: str) -> str:
    """The page's <head> extra: its description (the library's ``page_description``, corpus/library.toml)."""
    text = description.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return f'<meta name="description" content="{text}">'


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
