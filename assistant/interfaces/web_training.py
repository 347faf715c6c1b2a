"""Governor training tabs for the web UI (thin: every fact comes from ``Assistant``).

    Duties   one card per duty (who holds it, who is proposed to be added, how strong it is, its
             status, what it means for a governing body) and a glossary; every line is a quoted,
             cited sentence with its source's status badge.
    Quiz     trainer mode (one screen for the room: pick a topic and a number of questions, show
             one at a time, the room's answer is optional, reveal the answer with its quoted source,
             keep the room's score) and self-study mode (one governor answers and is told at once);
             both end with the score and offer the training pack (Markdown, PDF) for download.

Where a round stands (question on screen, choices, score, revealed, finished) is a
``training.session.QuizSession``; this module only renders it and wires the buttons.

``add_training_tabs(assistant)`` is called inside ``gr.Tabs()`` by ``assistant/interfaces/web.py`` and
``add_training_api`` outside it; ``CSS`` is added to the page's style sheet there. Named API endpoints: ``/duties``, ``/glossary``, ``/quiz``.
"""
from __future__ import annotations

import logging
import re
import tempfile
from pathlib import Path

import gradio as gr

from .. import identity
from ..training.session import QuizSession
from ..errors import AssistantError
from ..service import Assistant
from .web_duties import CSS as DUTIES_CSS
from .web_duties import render_duties, source_line
from .web_html import e

log = logging.getLogger("assistant.ui")

LETTERS = "ABCDEFGH"
DEFAULT_QUESTIONS = 5
MAX_UI_QUESTIONS = 20
MODES = [("Trainer: one screen for the room", "trainer"), ("Self-study: one governor", "self")]
PRIVATE = {"api_visibility": "private"}


def _focus_js(first: str = "") -> str:
    """JS run after a quiz step: ``first`` may focus something and return; otherwise the card's
    heading or verdict (``.qz-focus``) gets focus, so a screen reader reads what changed."""
    # A trainer's question is scrolled to the top of the window, so on a projector (1366x768) the question,
    # its options and Reveal are on screen together.
    return ("() => { setTimeout(() => { " + first +
            " const t = document.querySelector('#quiz-card .qz-trainer[data-state=asking]');"
            " if (t) t.scrollIntoView({block: 'start'});"
            " const h = document.querySelector('#quiz-card .qz-focus'); if (h) h.focus({preventScroll: !!t}); }, 50); }")


FOCUS_CARD_JS = _focus_js()
# "Check my answer" refused (nothing chosen: the card is still asking) takes the keyboard user to the
# choices, not away from them.
REVEAL_FOCUS_JS = _focus_js("const c = document.querySelector('#quiz-card .qz-card[data-state=asking]')"
                            " && document.querySelector('#quiz-choice input'); if (c) { c.focus(); return; }")


QUIZ_INTRO = """
<div class="qz-intro">
  <h2>Quiz for governor training</h2>
  <p>Questions are made from the library's documents: fill in the blank, or true or false. Every answer comes
  with the sentence it is quoted from, so the room can see where it is written.</p>
  <ul>
    <li><strong>Trainer mode</strong>: show this screen to the room. Select the room's answer if you like, then
    <em>Reveal answer</em>; the room's score is kept.</li>
    <li><strong>Self-study mode</strong>: choose your answer, then <em>Check my answer</em> for immediate feedback
    and a final score.</li>
  </ul>
  <p>Choose a topic and the number of questions above, then <strong>Start quiz</strong>. The same quiz number gives the
  same questions, so a printed training pack matches the screen.</p>
</div>"""


# ---- rendering (pure) -------------------------------------------------------------------------------
def _split_question(q: dict) -> tuple[str, str]:
    """('Which words complete this sentence from X?', the quoted sentence or statement)."""
    head, _, rest = q["question"].partition("“")
    return head.strip(), rest[:-1] if rest.endswith("”") else rest


def choice_labels(q: dict) -> list[tuple[str, str]]:
    return [(f"{LETTERS[i]}. {c}", c) for i, c in enumerate(q["choices"])]


def render_question(state: QuizSession) -> str:
    qs, i, q = state.questions, state.i, state.question
    prompt, text = _split_question(q)
    trainer = state.trainer
    kind = "True or false" if q["kind"] == "true_false" else "Fill in the blank"
    topic = (state.topic_names or {}).get(q.get("topic") or "", "")
    topic_html = f' &middot; <span class="qz-topic">{e(topic)}</span>' if topic else ""
    body = e(text).replace("_____", '<span class="qz-blank" role="img" aria-label="blank">_____</span>')
    result = ""
    outcome = state.verdict()
    if outcome:
        picked = state.pick
        answer = f'{LETTERS[q["answer_index"]]}. {q["answer"]}'
        if outcome == "shown":
            verdict, cls = f"The answer is {answer}.", "qz-shown"
        elif outcome == "right":
            verdict = f"Correct: {answer}." if not trainer else f"The room was right: {answer}."
            cls = "qz-right"
        else:
            wrong = f'{LETTERS[q["choices"].index(picked)]}. {picked}'
            verdict = (f"Not quite: you chose {wrong}; the answer is {answer}." if not trainer
                       else f"The room chose {wrong}; the answer is {answer}.")
            cls = "qz-wrong"
        c = q["citation"]
        s, t = q["term_start"], q["term_start"] + len(q["key_term"])
        quote = f'{e(c["quote"][:s])}<mark class="qz-key">{e(c["quote"][s:t])}</mark>{e(c["quote"][t:])}'
        result = (f'<div class="qz-result {cls}"><p class="qz-verdict qz-focus" tabindex="-1">'
                  f'<span class="qz-icon" aria-hidden="true">{"✓" if cls == "qz-right" else "✗" if cls == "qz-wrong" else "i"}</span>'
                  f'{e(verdict)}</p><p class="qz-expl">{e(q["explanation"])} Where it is written:</p>'
                  f'<blockquote class="duty-quote">&ldquo;{quote}&rdquo;</blockquote>{source_line(c)}</div>')
    focus = "" if state.revealed else " qz-focus"
    return (f'<section class="qz-card{" qz-trainer" if trainer else ""}" data-q="{i + 1}" '
            f'data-state="{"revealed" if state.revealed else "asking"}" aria-labelledby="qz-prompt">'
            f'<p class="qz-progress">Question {i + 1} of {len(qs)} &middot; {kind}{topic_html}</p>'
            f'<h2 class="qz-prompt{focus}" id="qz-prompt" tabindex="-1">{e(prompt)}</h2>'
            f'<blockquote class="qz-text">&ldquo;{body}&rdquo;</blockquote>{result}</section>')


def render_score(state: QuizSession | None) -> str:
    if not state:
        return ""
    who = "Room" if state.trainer else "Your"
    return (f'<p class="qz-score"><strong>{who} score: {state.score}</strong> correct out of {state.answered} '
            f'answered &middot; {len(state.questions)} questions in this quiz</p>')


def render_final(state: QuizSession) -> str:
    qs = state.questions
    who = "The room" if state.trainer else "You"
    rows = []
    for q, pick, ok in zip(qs, state.picks, state.marked):
        mark = "✓" if ok else ("✗" if ok is False else "–")
        said = "not answered" if pick is None else f"answered {pick}"
        rows.append(f'<li><span class="qz-mark" aria-hidden="true">{mark}</span> <strong>{q["number"]}.</strong> '
                    f'{e(q["answer"])} <span class="qz-said">({e(said)}{"; correct" if ok else ""})</span>'
                    f'<br><span class="qz-final-src">&ldquo;{e(q["citation"]["quote"])}&rdquo; '
                    f'&mdash; {e(q["citation"]["label"])}, {e(q["citation"]["location"])}</span></li>')
    return (f'<section class="qz-card qz-final" data-state="finished"><h2 class="qz-focus" tabindex="-1">'
            f'{who} scored {state.score} out of {len(qs)}{_answered(state)}</h2>'
            f'<p>Quiz number {state.seed}. Download the training pack below for the questions, answers and sources, '
            f'or start another quiz.</p><ol class="qz-review">{"".join(rows)}</ol></section>')


def _answered(state: QuizSession) -> str:
    return "" if state.answered == len(state.marked) else f" ({state.answered} answered)"


def _message(text: str) -> str:
    return f'<div class="msg msg-error" role="alert">{e(text)}</div>'


def form_number(value):
    """A number typed into a form or sent as text over HTTP ("3") as an int; anything else unchanged,
    for ``quiz_options`` to check and explain."""
    if isinstance(value, str) and re.fullmatch(r"\s*\d{1,20}\s*", value):
        return int(value)
    return value


# ---- handlers -------------------------------------------------------------------------------------------
class TrainingUI:
    def __init__(self, assistant: Assistant):
        self.assistant = assistant
        self._dir = Path(tempfile.mkdtemp(prefix="assistant-training-"))

    def topics(self) -> list[tuple[str, str]]:
        return [("All duties", "all")] + [(c["name"], c["id"]) for c in self.api_duties()]

    def duties_page(self):
        try:
            return render_duties(self.api_duties(), self.api_glossary(), identity.current().training_notice), gr.update(choices=self.topics())
        except AssistantError as exc:
            return _message(f"The duty cards could not be built: {exc}"), gr.skip()

    def start(self, mode: str, topic: str, n, seed):
        hidden = gr.update(visible=False)
        try:
            n = form_number(n or DEFAULT_QUESTIONS)
            seed = form_number(seed) if seed not in (None, "") else 1
            questions = [q.model_dump() for q in self.assistant.quiz(n=n, seed=seed, topic=topic or None)]
        except (AssistantError, ValueError, TypeError) as exc:
            return (None, _message(str(exc)), hidden, hidden, hidden, "", gr.skip(), gr.skip(), str(exc))
        if not questions:
            return (None, _message("The documents support no questions on this topic."), hidden, hidden, hidden, "",
                    gr.skip(), gr.skip(), "No questions.")
        seed = questions[0]["seed"]  # as checked and used (a number box may send 3.0)
        names = {c["id"]: c["name"] for c in self.api_duties()}
        state = QuizSession.start(questions, mode, seed, topic, names)
        md, pdf = self._pack(topic, len(questions), seed)
        return (state, render_question(state), *self._controls(state), render_score(state), md, pdf,
                f"Quiz started: {len(questions)} questions. Question 1.")

    def _pack(self, topic: str, n: int, seed: int):
        try:
            folder = Path(tempfile.mkdtemp(dir=self._dir))
            written = self.assistant.training_pack(folder, n=n, seed=seed, topic=topic or None)
            return (gr.update(value=written["markdown"], interactive=True),
                    gr.update(value=written["pdf"], interactive=True))
        except Exception:  # the quiz still works without the download
            log.exception("training pack failed")
            return gr.update(value=None, interactive=False), gr.update(value=None, interactive=False)

    def _controls(self, state: QuizSession):
        """Updates for the answer choices, the reveal button and the next button."""
        q, trainer, revealed = state.question, state.trainer, state.revealed
        label = ("The room's answer (optional)" if trainer else "Your answer")
        choice = gr.update(choices=choice_labels(q), value=state.pick, label=label, visible=True,
                           interactive=not revealed)
        reveal = gr.update(value="Reveal answer" if trainer else "Check my answer", visible=not revealed)
        nxt = gr.update(value="See the final score" if state.last else "Next question", visible=revealed)
        return choice, reveal, nxt

    def reveal(self, state: QuizSession | None, pick: str | None):
        if not state:
            return state, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), "Start a quiz first."
        try:
            state = state.reveal(pick)
        except AssistantError as exc:  # self-study needs a choice
            return state, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), str(exc)
        q = state.question
        said = (f"Answer: {LETTERS[q['answer_index']]}, {q['answer']}. "
                + {"right": "Correct.", "wrong": "Not correct.", "shown": ""}[state.verdict()])
        return (state, render_question(state), *self._controls(state), render_score(state), said)

    def next(self, state: QuizSession | None):
        if not state:
            return state, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), ""
        state = state.next()
        hidden = gr.update(visible=False)
        if state.finished:
            return (state, render_final(state), hidden, hidden, hidden, render_score(state),
                    f"Quiz finished. Score {state.score} out of {len(state.questions)}.")
        return (state, render_question(state), *self._controls(state), render_score(state),
                f"Question {state.i + 1} of {len(state.questions)}.")

    # API ----------------------------------------------------------------------------------------------------
    def api_duties(self) -> list:
        """The duty explainer cards (same JSON as `assistant duties --json`)."""
        return [c.model_dump() for c in self.assistant.duties()]

    def api_glossary(self) -> list:
        """The glossary (same JSON as `assistant glossary --json`)."""
        return [g.model_dump() for g in self.assistant.glossary()]

    def api_quiz(self, n: int = 10, seed: int = 1, topic: str = "") -> list:
        """Quiz questions (same JSON objects as `assistant quiz --json`). n: a whole number from 1 to 50;
        seed (the quiz number): a whole number from 0 to 2**53-1; topic: a duty id, or empty for all."""
        try:
            return [q.model_dump() for q in self.assistant.quiz(n=form_number(n), seed=form_number(seed),
                                                                  topic=topic or None)]
        except AssistantError as exc:
            raise gr.Error(str(exc), print_exception=False) from None  # the caller's input, not a fault


def add_training_tabs(assistant: Assistant, announce: gr.HTML | None = None) -> TrainingUI:
    """The Duties and Quiz tabs; call inside ``gr.Tabs()`` of a ``gr.Blocks`` (their API: ``add_training_api``)."""
    t = TrainingUI(assistant)
    announce = announce if announce is not None else gr.HTML("", visible=False)
    with gr.Tab("Duties", id="duties") as duties_tab:
        gr.Markdown(identity.of_settings(assistant.settings).duties_help)  # corpus/library.toml
        duties_html = gr.HTML('<p class="tr-loading">Loading the duty cards…</p>', elem_id="duties")
    with gr.Tab("Quiz", id="quiz") as quiz_tab:
        state = gr.State(None)  # a training.session.QuizSession once a quiz starts
        # The settings fold away once a quiz starts, so on a projector (1366x768) the question, its options
        # and Reveal fit one screen; they open again at the final score, for the next quiz.
        with gr.Accordion("Quiz settings", open=True, elem_id="quiz-settings") as settings:
            with gr.Row(elem_id="quiz-setup", equal_height=False):
                mode = gr.Radio(MODES, value="trainer", label="Mode", elem_id="quiz-mode", min_width=260)
                topic = gr.Dropdown([("All duties", "all")], value="all", label="Topic", elem_id="quiz-topic",
                                    min_width=220)
                n = gr.Slider(1, MAX_UI_QUESTIONS, value=DEFAULT_QUESTIONS, step=1, label="Number of questions",
                              elem_id="quiz-n", min_width=200)
                seed = gr.Number(1, precision=0, label="Quiz number (same number, same questions)",
                                 elem_id="quiz-seed", min_width=200)
            start = gr.Button("Start quiz", variant="primary", elem_id="quiz-start")
        card = gr.HTML(QUIZ_INTRO, elem_id="quiz-card")
        choice = gr.Radio([], label="Your answer", visible=False, elem_id="quiz-choice")
        with gr.Row(elem_id="quiz-actions"):
            reveal = gr.Button("Reveal answer", variant="primary", visible=False, elem_id="quiz-reveal", min_width=160)
            nxt = gr.Button("Next question", visible=False, elem_id="quiz-next", min_width=160)
        score = gr.HTML("", elem_id="quiz-score")
        with gr.Row(elem_id="quiz-pack"):
            pack_md = gr.DownloadButton("Training pack (Markdown)", interactive=False, size="sm", elem_id="pack-md",
                                        min_width=160)
            pack_pdf = gr.DownloadButton("Training pack (PDF)", interactive=False, size="sm", elem_id="pack-pdf",
                                         min_width=160)

    for tab in (duties_tab, quiz_tab):
        tab.select(t.duties_page, None, [duties_html, topic], show_progress="hidden", **PRIVATE)
    flow = [state, card, choice, reveal, nxt, score]
    fold = (lambda s: gr.update(open=not s or s.finished), [state], [settings])
    start.click(t.start, [mode, topic, n, seed], [*flow, pack_md, pack_pdf, announce], **PRIVATE) \
        .then(*fold, queue=False, show_progress="hidden", **PRIVATE).then(None, js=FOCUS_CARD_JS)
    reveal.click(t.reveal, [state, choice], [*flow, announce], show_progress="hidden", **PRIVATE) \
        .then(None, js=REVEAL_FOCUS_JS)
    nxt.click(t.next, [state], [*flow, announce], show_progress="hidden", **PRIVATE) \
        .then(*fold, queue=False, show_progress="hidden", **PRIVATE).then(None, js=FOCUS_CARD_JS)
    return t


def add_training_api(t: TrainingUI) -> None:
    """The named endpoints ``/duties``, ``/glossary``, ``/quiz``. Call OUTSIDE ``gr.Tabs()``: an API made
    inside it is taken for a tab (Gradio warns, and the browser showed a second "Manage library" tab)."""
    gr.api(t.api_duties, api_name="duties")
    gr.api(t.api_glossary, api_name="glossary")
    gr.api(t.api_quiz, api_name="quiz")


CSS = DUTIES_CSS + r"""
#quiz-setup { gap: .75rem; align-items: stretch; }
#quiz-start { max-width: 16rem; }
#quiz-card { margin-top: .4rem; }
.qz-intro { max-width: 48rem; color: var(--ink); }
.qz-intro h2 { margin-top: .2rem; font-size: 1.25rem; }
.qz-card { background: var(--card); border: 1px solid var(--line); border-left: 6px solid var(--accent); border-radius: 12px;
           padding: 1rem 1.2rem; color: var(--ink); }
.qz-progress { margin: 0 0 .3rem; font-size: .85rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.qz-topic { text-transform: none; letter-spacing: 0; font-weight: 700; color: var(--accent); }
.qz-prompt { font-size: 1.1rem; margin: 0 0 .4rem; }
.qz-text { margin: 0; font-size: 1.15rem; line-height: 1.6; overflow-wrap: anywhere; }
.qz-trainer .qz-prompt { font-size: 1.3rem; }
.qz-trainer .qz-text { font-size: 1.4rem; line-height: 1.55; }
.qz-blank { display: inline-block; min-width: 4.5em; border-bottom: 3px solid var(--accent); color: transparent;
            line-height: 1.1; }
.qz-result { margin-top: .9rem; padding-top: .7rem; border-top: 1px solid var(--line); }
.qz-verdict { font-size: 1.15rem; font-weight: 700; margin: 0 0 .3rem; display: flex; gap: .5rem; align-items: center; }
.qz-icon { display: inline-flex; width: 1.6rem; height: 1.6rem; border-radius: 50%; align-items: center; justify-content: center;
           color: #fff; font-size: 1rem; flex: none; }
.qz-right .qz-verdict { color: #0f5a2a; } .qz-right .qz-icon { background: #1e7a3c; }
.qz-wrong .qz-verdict { color: #8c1d18; } .qz-wrong .qz-icon { background: #b3261e; }
.qz-shown .qz-icon { background: var(--accent); font-style: italic; font-family: Georgia, serif; }
:root .dark .qz-right .qz-verdict { color: #8fd6a5; } :root .dark .qz-wrong .qz-verdict { color: #ffb4ab; }
.qz-expl { margin: 0 0 .2rem; color: var(--muted); }
mark.qz-key { background: var(--hl); color: inherit; border-radius: 3px; padding: 0 .1em; font-style: normal; font-weight: 600; }
#quiz-choice label { font-size: 1.05rem; }
#quiz-actions { gap: .6rem; }
.qz-score { margin: .3rem 0; font-size: 1rem; color: var(--ink); }
.qz-final h2 { margin: 0 0 .3rem; font-size: 1.4rem; }
.qz-review { padding-left: 0; list-style: none; display: grid; gap: .45rem; }
.qz-review li { border-top: 1px dashed var(--line); padding-top: .35rem; }
.qz-mark { display: inline-block; width: 1.2rem; font-weight: 700; }
.qz-said { color: var(--muted); font-size: .9rem; }
.qz-final-src { font-size: .88rem; color: var(--muted); font-style: italic; }
#quiz-pack { gap: .5rem; margin-top: .4rem; }
#duties p, #quiz-card p, #quiz-score p { display: block; }
#quiz-card p.qz-verdict { display: flex; }
#quiz-actions { justify-content: flex-start; }
#quiz-actions > button { flex: 0 1 18rem !important; }
@media (max-width: 700px) {
  .qz-card { padding: .75rem .8rem; }
  .qz-trainer .qz-prompt { font-size: 1.1rem; } .qz-trainer .qz-text { font-size: 1.15rem; }
  #quiz-start { max-width: none; }
  #quiz-actions > button { flex: 1 1 auto !important; }
}
"""
