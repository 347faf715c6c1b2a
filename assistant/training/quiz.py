"""Quiz questions generated from the library's sentences: fill-in-the-blank multiple choice and
true/false, each with its answer key (the quoted source sentence).

How a question is made:

* a sentence that stands on its own (no leading "This"/"They": the openers answers use, from
  ``data/dialogue.toml``, and the spec's own ``skip_openers``; a sensible length) and that states a
  duty, how strong it is, or a proposal (it contains one of the spec's ``about`` words) contains a
  term of a type the quiz asks about (``ask_types``: who is bound or proposed, how strong, under
  which law). People, organisations and dates are known too, but only so that a wrong choice is never
  one that is also right: a quiz about the duties does not ask who said something, whom a speaker
  represents, or in which month it was announced;
* multiple choice blanks the term out; the wrong choices are terms of the same type found in
  *other* sentences; true/false shows the sentence either as it is (true) or with the term swapped
  for one of those (false);
* a wrong choice is only offered when it cannot also be right: it is not the same thing as the
  answer (spellings of one thing are grouped), it is not named in the same sentence, the sentence
  with it swapped in appears in no document, and no other sentence that names it makes a similar
  claim (shared context words, the same list of bodies, or close sentence vectors).

The answer is always stated in the quoted sentence, so there is no question the sources do not
answer. The answer key's explanation (``[quiz.explain]``, ``explain.py``) quotes the source's words
around the answer (never the answer again) and what the most tempting wrong option refers to elsewhere
in the library.

Drawing (issue 31): a quiz about all the duties uses only sentences that belong to a duty card, in the
cards' order; no answer is more than ``max_answer_share`` of a quiz where the pool allows it; and
consecutive quiz numbers take consecutive slices of one shuffled order of the pool's sentences, so a
series of quizzes (1, 2, 3, ...) goes through the library before it repeats a sentence. Everything is
drawn with ``random.Random`` from fixed seeds, so one quiz number always gives one quiz.

Where (issue 32, modules under 400 lines): the terms and how they are found and written, ``terms.py``;
the drawing, ``draw.py``; the answer key's wording, ``explain.py``; which sentences and terms a question
may use, the wrong choices that cannot also be right, and the questions themselves, here.
"""
from __future__ import annotations

import random
import re
from typing import Any, Literal

from pydantic import BaseModel, Field

from . import explain as key
from .duties import DutyCard
from ..errors import InputError
from ..safety.inputs import whole_number
from .draw import MC_CHOICES, draw, kinds
from .quotes import Library, Quote, Sentence
from .terms import Candidate, Entity, Mention, Terms, norm
from ..text import tokens
from ..answer.units import depends_on_previous

BLANK = "_____"
MAX_QUESTIONS = 50
# The largest quiz number (seed): the largest whole number JavaScript keeps exactly, so a browser or a
# JSON client gets back the number it sent (and it fits the 64-bit integers Gradio's JSON writer takes).
MAX_SEED = 2 ** 53 - 1
# A wrong choice is refused when another sentence naming it shares this much of the question's
# context words, also names this many of the answer and the terms listed beside it, or is this
# close in meaning.
CONTEXT_OVERLAP = 0.45
SHARED_SIBLINGS = 2
SIMILAR_COSINE = 0.72
ACTOR_TYPES = ("person", "organisation")
ASK = "Which words complete this sentence from {source}?"  # when a type has no `ask` of its own
EXPLAIN = {"choice": "{source} ({status}) says {words}. {tempting}",
           "true": "{source} ({status}) says it in these words: {words}. {tempting}",
           "false": "{source} ({status}) has “{said}” there, not “{shown}”: {words}. {tempting}",
           "tempting": "“{wrong}” is tempting, but {wrong_source} names it elsewhere: {wrong_words}.",
           "tempting_false": "“{shown}” is what {wrong_source} names in {wrong_words}.",
           "tempting_none": "None of the library’s sentences names “{wrong}” in this claim."}
MAX_ANSWER_SHARE = 0.2


class Question(BaseModel):
    id: str
    number: int
    kind: Literal["multiple_choice", "true_false"]
    topic: str | None = Field(None, description="The duty this question is mainly about (a duty id).")
    topics: list[str] = []
    question: str = Field(description="The question as shown to governors.")
    statement: str | None = Field(None, description="True/false only: the statement judged.")
    choices: list[str]
    answer: str = Field(description="The correct choice (for multiple choice, as written in the quote).")
    answer_index: int
    key_term: str = Field(description="The term the question turns on, verbatim in the quote.")
    term_start: int = Field(description="Where key_term starts in citation.quote.")
    term_type: str
    explanation: str
    citation: Quote
    seed: int


def quiz_options(n: Any, seed: Any, topic: Any) -> tuple[int, int, str | None]:
    """The quiz arguments as given by any channel (API, HTTP, form), checked: a plain ``InputError``
    saying what is allowed, never ``int()``'s or JSON's own messages."""
    n = whole_number(n, 1, MAX_QUESTIONS, "number of questions")
    seed = whole_number(seed, 0, MAX_SEED, "quiz number")
    if topic is not None and not isinstance(topic, str):
        raise InputError("The topic must be one duty id as text (see the duty cards), or empty for all duties.")
    return n, seed, topic


class QuizBank:
    """Every question the library supports, ready to be drawn from by seed and topic."""

    def __init__(self, library: Library, spec: dict, cards: list[DutyCard]):
        self.library = library
        conf = spec.get("quiz") or {}
        self.min_chars = int(conf.get("min_chars", 50))
        self.max_chars = int(conf.get("max_chars", 330))
        self.skip_openers = tuple(conf.get("skip_openers", []))
        self.skip_after = [w.lower() for w in conf.get("skip_after", [])]
        self.max_share = float(conf.get("max_answer_share", MAX_ANSWER_SHARE))
        self.ask_types = set(conf.get("ask_types") or [t["name"] for t in conf.get("types", [])])
        about = conf.get("about", [])
        self._about = re.compile("|".join(rf"(?<![\w-]){re.escape(w)}" for w in about)) if about else None
        self.ask = {t["name"]: t.get("ask", ASK) for t in conf.get("types", [])}
        self.after_type = {t["name"]: t["after"] for t in conf.get("types", []) if t.get("after")}
        # people, organisations and dates are asked only as the ones who propose or the time of it
        self._followed = {t["name"]: re.compile(r"^,?\s+(?:[\w’'-]+\s+){0,3}?(?:" + "|".join(map(re.escape, t["followed_by"]))
                                                + r")(?![\w-])") for t in conf.get("types", []) if t.get("followed_by")}
        self._preceded = {t["name"]: re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, t["preceded_by"])) + r")\s+$")
                          for t in conf.get("types", []) if t.get("preceded_by")}
        self.explain = {**EXPLAIN, **(conf.get("explain") or {})}
        self.terms = Terms(conf)
        self.types: dict[str, list[Entity]] = self.terms.types
        self.topic_names = {c.id: c.name for c in cards}
        self._topic_order = {c.id: i for i, c in enumerate(cards)}
        self._topic_terms = {c.id: [norm(x) for x in c.topic_terms] for c in cards}
        self._card_quotes = {c.id: {(q.doc_id, q.start) for q in c.quotes()} for c in cards}
        self._card_spans = {(q.doc_id, q.start, q.end) for c in cards for q in c.quotes()}
        self._doc_texts = {d: norm(v.text) for d, v in sorted(library.docs.items())}
        self.mentions: dict[Sentence, list[Mention]] = {s: self.terms.find(s.text) for s in library.sentences}
        self._tokens: dict[Sentence, set[str]] = {s: set(tokens(s.text)) for s in library.sentences}
        self.candidates: list[Candidate] = self._candidates()

    # ---- which sentences and terms a question may use ---------------------------------------------
    def _usable(self, s: Sentence) -> bool:
        """A sentence a question may quote: it stands on its own and states a duty, a strength or a proposal."""
        text = s.text
        return (self.min_chars <= len(text) <= self.max_chars and not text.startswith(self.skip_openers)
                and not depends_on_previous(text) and not text.rstrip().endswith(("?", ":"))
                and self._about_duty(s, text))

    def _about_duty(self, s: Sentence, text: str) -> bool:
        """``text`` (the sentence, or the sentence without its blank) states a duty, a strength or a
        proposal: it has an ``about`` word, or the sentence is quoted on a duty card (chosen there for it)."""
        on_card = any(s.doc_id == d and a <= s.start < b for d, a, b in self._card_spans)
        return self._about is None or on_card or bool(self._about.search(text))

    def _blankable(self, s: Sentence, m: Mention, mentions: list[Mention]) -> bool:
        if m.entity.type not in self.ask_types:
            return False  # known so that wrong choices are safe, never asked
        label = self.library.source(s.doc_id).citation_label
        if any(re.search(rf"(?<![\w-]){re.escape(f)}(?![\w-])", label) for f in m.entity.forms):
            return False  # the question names its source ("DCSF letter, 3 July 2008"): it would give it away
        if m.entity.type in self.after_type:  # "Local authorities may ...": the word binds the body before it
            if not any(x.entity.type == self.after_type[m.entity.type] and x.end <= m.start
                       and not s.text[x.end:m.start].strip() for x in mentions):
                return False
        elif not self._about_duty(s, s.text[:m.start] + " " + s.text[m.end:]):
            return False  # the blank is the sentence's only duty word: it is not about a duty
        kind = m.entity.type
        if kind in self._followed and not self._followed[kind].search(s.text[m.end:]):
            return False  # who said it or whom they speak for: not a question about the duty
        if kind in self._preceded and not self._preceded[kind].search(s.text[:m.start]):
            return False
        if m.surface.lower() in {a.lower() for a in m.entity.also}:
            return False
        if sum(1 for x in mentions if x.entity == m.entity) != 1:
            return False  # named twice: a blank would give it away or be ambiguous
        before = s.text[:m.start].rstrip().lower()
        if m.entity.type == "body" and any(before.endswith(w) for w in self.skip_after):
            return False
        return len(self.types.get(m.entity.type, [])) > 1

    # ---- wrong choices that cannot also be right ---------------------------------------------------
    def _context(self, s: Sentence, m: Mention) -> set[str]:
        ctx = set(tokens(s.text[:m.start] + " " + s.text[m.end:]))
        return ctx - set(tokens(" ".join(m.entity.forms)))

    def swapped(self, s: Sentence, m: Mention, form: str) -> str:
        return s.text[:m.start] + form + s.text[m.end:]

    def refuted(self, s: Sentence, m: Mention, other: Entity) -> str | None:
        """Why ``other`` might also be a right answer for the blank (None when it cannot be)."""
        if other == m.entity or other.type != m.entity.type:
            return "same thing as the answer"
        mine = self.mentions[s]
        if any(x.entity == other for x in mine) or any(
                re.search(rf"(?<![\w‐-]){re.escape(f)}(?![\w‐-])", s.text, re.I) for f in other.forms):
            return "named in the same sentence"  # also inside a fixed phrase ("schools causing concern")
        for form in other.forms:
            claim = norm(self.swapped(s, m, form))
            if any(claim in text for text in self._doc_texts.values()):
                return "the swapped sentence is in a document"
        ctx = self._context(s, m)
        listed = {x.entity for x in mine if x.entity.type == m.entity.type}  # the answer and its siblings
        actors = {x.entity.key for x in mine if x.entity.type in ACTOR_TYPES and x.entity != m.entity}
        actors |= {a for x in mine if x.entity.key in actors for a in x.entity.affiliations}
        for s2, mentions in self.mentions.items():
            if s2 == s or not any(x.entity == other for x in mentions):
                continue
            if ctx and len(ctx & self._tokens[s2]) / len(ctx) >= CONTEXT_OVERLAP:
                return f"a similar claim names it ({s2.doc_id}, {s2.start})"
            if len(listed & {x.entity for x in mentions}) >= SHARED_SIBLINGS:
                return f"a list with the answer or its neighbours names it ({s2.doc_id}, {s2.start})"
            if actors & {a for x in mentions for a in (x.entity.key, *x.entity.affiliations)}:
                return f"the same people or bodies are reported on it ({s2.doc_id}, {s2.start})"
            if self.library.similarity(s, s2) >= SIMILAR_COSINE:
                return f"a sentence close in meaning names it ({s2.doc_id}, {s2.start})"
        return None

    def _candidates(self) -> list[Candidate]:
        out = []
        for s in self.library.sentences:  # sorted by document and offset
            if not self._usable(s):
                continue
            mentions = self.mentions[s]
            for m in mentions:
                if not self._blankable(s, m, mentions):
                    continue
                good = [e for e in self.types[m.entity.type] if self.refuted(s, m, e) is None]
                if good:
                    out.append(Candidate(s, m, good, self._topics_of(s)))
        return out

    def _topics_of(self, s: Sentence) -> list[str]:
        text = norm(s.text)
        return [t for t, terms in self._topic_terms.items()
                if (s.doc_id, s.start) in self._card_quotes[t] or any(term in text for term in terms)]

    # ---- drawing a quiz ----------------------------------------------------------------------------
    def supported(self, topic: str | None = None) -> dict[str, int]:
        """How many questions of each kind the library supports (one per sentence and term)."""
        pool = [c for c in self.candidates if topic is None or topic in c.topics]
        return {"multiple_choice": sum(1 for c in pool if len(c.distractors) >= MC_CHOICES - 1),
                "true_false": len(pool) * 2, "sentences": len({c.sentence for c in pool})}

    def check_topic(self, topic: str | None) -> str | None:
        if topic in (None, "", "all"):
            return None
        if topic not in self.topic_names:
            raise InputError(f"Unknown topic '{topic}'. Choose one of: {', '.join(self.topic_names)} (or leave it out).")
        return topic

    def _pool(self, topic: str | None) -> list[Candidate]:
        """The questions a quiz may use: about ``topic``, or (all duties) any that belongs to a duty card."""
        if topic is not None:
            return [c for c in self.candidates if topic in c.topics]
        return [c for c in self.candidates if c.topics or not self.topic_names]

    def quiz(self, n: int = 10, seed: int = 1, topic: str | None = None) -> list[Question]:
        """``n`` questions about ``topic`` (a duty id, or None for all), the same for the same seed."""
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_QUESTIONS:
            raise InputError(f"The number of questions must be a whole number from 1 to {MAX_QUESTIONS}.")
        topic = self.check_topic(topic)
        by_sentence: dict[Sentence, list[Candidate]] = {}
        for c in self._pool(topic):
            by_sentence.setdefault(c.sentence, []).append(c)
        picked, rng = draw(by_sentence, n, seed, topic, self.max_share)
        if topic is None:  # centred on the duties: grouped by duty, in the cards' order
            picked.sort(key=lambda p: self._topic_order.get(p[0].topics[0] if p[0].topics else "", len(self._topic_order)))
        return [self._make(c, i, rng, seed, topic, kind, answer)
                for i, (c, kind, answer) in enumerate(picked, start=1)]

    def _elsewhere(self, entity: Entity, s: Sentence) -> list[key.Elsewhere]:
        """Every other sentence of the library that names ``entity``, with where."""
        return [key.Elsewhere(s2, x.start, x.end) for s2, mentions in self.mentions.items() if s2 != s
                for x in mentions if x.entity == entity]

    def _explain(self, c: Candidate, kind: str, answer: str, citation: Quote, wrong: list[tuple[Entity, str]],
                 shown: str | None = None) -> str:
        """The answer key (issue 31): the source's words around the answer, and what the most tempting wrong
        option refers to elsewhere in the library; never the answer itself."""
        s, m = c.sentence, c.mention
        forms = sorted({m.surface, *m.entity.forms}, key=len, reverse=True)
        base = dict(source=citation.label, status=citation.status, words=key.around(s.text, m.start, m.end, forms),
                    said=m.surface, shown=shown or "")
        template = self.explain["choice" if kind == "multiple_choice" else answer.lower()]
        ranked = []
        for entity, shown_as in wrong:
            places = self._elsewhere(entity, s)
            spelt = [p for p in places if p.sentence.text[p.start:p.end].lower() == shown_as.lower()]
            place = key.nearest(self.library, s, spelt or places)  # where it is written as shown, if it is
            if place is not None:
                ranked.append((self.library.similarity(s, place.sentence), shown_as, place))
        ranked.sort(key=lambda r: -r[0])
        texts = []
        for _, shown_as, place in ranked:
            label = self.library.quote(place.sentence).label
            words = key.with_term(place.sentence.text, place.start, place.end, forms)
            tempting = self.explain["tempting_false" if answer == "False" else "tempting"].format(
                wrong=shown_as, shown=shown_as, wrong_source=label, wrong_words=words)
            texts.append(template.format(**base, tempting=tempting))
        shown_as = wrong[0][1] if wrong else ""
        texts.append(template.format(**base, tempting=self.explain["tempting_none"].format(wrong=shown_as)))
        if kind != "multiple_choice":
            return texts[0]
        clean = [t for t in texts if not re.search(rf"(?<![\w-]){re.escape(m.surface)}(?![\w-])", t, re.I)]
        return (clean or texts)[0]

    def _make(self, c: Candidate, number: int, rng: random.Random, seed: int, topic: str | None,
              kind: str | None = None, answer: str | None = None) -> Question:
        s, m = c.sentence, c.mention
        citation = self.library.quote(s)
        label = f"{citation.label}"
        if kind is None:  # as before issue 31: drawn here
            kind, answer = kinds(c, rng)[0]
        common = dict(id=f"q{number}", number=number, topic=topic or (c.topics[0] if c.topics else None),
                      topics=c.topics, key_term=m.surface, term_start=m.start, term_type=m.entity.type, citation=citation, seed=seed)
        if kind == "multiple_choice":
            wrong_entities = rng.sample(c.distractors, MC_CHOICES - 1)
            wrong = [self.display(e, m, s) for e in wrong_entities]
            choices = [m.surface, *wrong]
            rng.shuffle(choices)
            cloze = s.text[:m.start] + BLANK + s.text[m.end:]
            ask = self.ask.get(m.entity.type, ASK).format(source=label)
            explanation = self._explain(c, kind, m.surface, citation, list(zip(wrong_entities, wrong)))
            return Question(kind=kind, question=f"{ask} “{cloze}”",
                            choices=choices, answer=m.surface, answer_index=choices.index(m.surface),
                            explanation=explanation, **common)
        if answer == "True":
            statement = s.text
            explanation = self._explain(c, kind, answer, citation, [(e, self.display(e, m, s)) for e in c.distractors])
        else:
            entity = rng.choice(c.distractors)
            other = self.display(entity, m, s)
            statement = self.swapped(s, m, other)
            explanation = self._explain(c, kind, answer, citation, [(entity, other)], shown=other)
        choices = ["True", "False"]
        return Question(kind=kind, question=f"True or false? {label} says: “{statement}”", statement=statement,
                        choices=choices, answer=answer, answer_index=choices.index(answer),
                        explanation=explanation, **common)

    def display(self, entity: Entity, like: Mention, s: Sentence) -> str:
        """How a wrong choice is written so that it looks like the answer (``Terms.display``)."""
        return self.terms.display(entity, like, s.text)
