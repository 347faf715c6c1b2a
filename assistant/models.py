"""The typed result of ``Assistant.ask``; its JSON form is the public contract of the CLI and API."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, computed_field

Status = Literal["answered", "no_evidence", "invalid_input", "unsafe_input"]
Mode = Literal["extractive", "llm", "extractive-fallback"]


class Turn(BaseModel):
    """One previous turn of the conversation."""

    role: Literal["user", "assistant"] = "user"
    content: str
    status: Status | None = Field(None, description="For an assistant turn, the status of that answer ('answered'; "
                                  "any other is a refusal, which a follow-up does not lean on). Optional: when not "
                                  "given, a turn is taken for a refusal when it opens with the no-evidence message.")


class Citation(BaseModel):
    n: int = Field(description="The [n] marker in the answer.")
    doc_id: str
    title: str
    publisher: str
    author: str = Field("", description="Who wrote or signed the document, from the library's records (shown as "
                        "such, never as a quote); empty when the records do not say.")
    date: str = Field(description="ISO date; see date_approximate.")
    date_approximate: bool
    display_date: str = Field(description="Human date, 'c. July 2008' when approximate.")
    kind: str
    status: str = Field(description="What the source is, e.g. 'proposal under consultation'.")
    label: str
    quote: str = Field(description="Verbatim slice text[start:end] of the cleaned source.")
    location: str = Field(description="Human location, e.g. 'paragraph 4'.")
    paragraph: int
    start: int
    end: int
    score: float = Field(description="How well the quoted sentence matches the question (0-1).")


class Marker(BaseModel):
    """Where one citation marker is in the answer text: ``answer[start:end] == f"[{n}]"``."""

    n: int
    start: int
    end: int


class SentenceSupport(BaseModel):
    """How well one generated sentence is supported by the passage(s) it cites (LLM mode only)."""

    text: str = Field(description="The generated sentence, without its [n] markers.")
    kept: bool = Field(description="Passed verification and is part of the answer.")
    cited: list[int] = Field([], description="Its [n] numbers in the final answer (empty when removed).")
    sources: list[str] = Field([], description="doc_id of each passage it cited.")
    lexical: float = Field(0.0, description="Share of its content words found in the cited passage(s) (0-1).")
    dense: float = Field(0.0, description="Best cosine between it and a cited passage.")
    support: float = Field(0.0, description="Mean of lexical and dense; kept only at or above the threshold.")
    reason: str | None = Field(None, description="Why it was removed, for a person.")


class Answer(BaseModel):
    id: str | None = None
    question: str
    answer: str = Field(description="Sentences quoted verbatim, each followed by its [n]; or the abstention message.")
    abstained: bool
    status: Status
    message: str | None = Field(None, description="Why the assistant abstained or refused, for a person.")
    notice: str | None = Field(None, description="Caveat about the sources (2008 proposals; not legal advice).")
    record: str | None = Field(None, description="For a question about a document itself (who wrote it, when): "
                               "the library's record of that document, which also opens ``answer``. Not a quote.")
    citations: list[Citation] = []
    standalone_question: str | None = Field(None, description="The question as searched, after using the history.")
    follow_up: bool = Field(False, description="Whether the earlier conversation was used to read the question "
                            "(a follow-up); false when ``standalone_question`` differs only by the documents' words.")
    read_with: str | None = Field(None, description="For a follow-up searched with the earlier question as context "
                                  "(not rewritten into a question of its own): that earlier question.")
    mode: Mode = Field("extractive", description="'llm': reworded by a language model, every sentence verified; "
                       "'extractive-fallback': the model's answer failed verification, so the quotes are shown.")
    support: list[SentenceSupport] = Field([], description="Per generated sentence support scores (LLM modes).")
    fallback_reason: str | None = Field(None, description="Why the LLM answer was not used (extractive-fallback).")
    llm_draft: str | None = Field(None, description="The model's raw answer before verification (LLM modes).")
    warnings: list[str] = Field(default_factory=list,
                                description="Gentle notes for the person asking, e.g. that personal details were removed.")
    timings_ms: dict[str, float] = {}

    @computed_field(description="The quoted part of ``answer``: without the library's record line that opens an "
                    "answer about a document itself (``record``), which is not a quote. What a word budget counts.")
    @property
    def quotes(self) -> str:
        if self.abstained:
            return ""
        if self.record and self.answer.startswith(self.record):
            return self.answer[len(self.record):].lstrip()
        return self.answer

    def reading(self) -> tuple[str, str] | None:
        """How the question was read, in the UI's words (``how_read``); None when searched as asked."""
        return how_read(self.question, self.standalone_question, self.follow_up, self.read_with)

    @computed_field(description="Where the answer's citation markers are, in text order. A quote may contain a "
                    "bracketed number of its own (a footnote mark such as \"[2]\"): that is document text, not a "
                    "marker. Use these offsets rather than searching the answer for \"[n]\".")
    @property
    def markers(self) -> list[Marker]:
        from .markers import citation_markers

        if self.abstained:
            return []
        return [Marker(n=m.n, start=m.start, end=m.end) for m in citation_markers(self.answer, self.citations)]


def how_read(question: str, searched: str | None, follow_up: bool, read_with: str | None) -> tuple[str, str] | None:
    """(lead, quoted question) saying how a question was read, the one wording the UI and the CLI show:
    "Read as a follow-up to" the earlier question, "Read as a follow-up:" the question as searched, or
    "Searched with the documents' words:"; None when it was searched as it was asked."""
    if not searched or searched.strip() == (question or "").strip():
        return None
    if follow_up:
        return ("Read as a follow-up to", read_with) if read_with else ("Read as a follow-up:", searched)
    return "Searched with the documents' words:", searched
