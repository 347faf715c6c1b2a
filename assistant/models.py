"""The typed result of ``Assistant.ask``; its JSON form is the public contract of the CLI and API."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Status = Literal["answered", "no_evidence", "invalid_input", "unsafe_input"]


class Turn(BaseModel):
    """One previous turn of the conversation."""

    role: Literal["user", "assistant"] = "user"
    content: str


class Citation(BaseModel):
    n: int = Field(description="The [n] marker in the answer.")
    doc_id: str
    title: str
    publisher: str
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


class Answer(BaseModel):
    id: str | None = None
    question: str
    answer: str = Field(description="Sentences quoted verbatim, each followed by its [n]; or the abstention message.")
    abstained: bool
    status: Status
    message: str | None = Field(None, description="Why the assistant abstained or refused, for a person.")
    notice: str | None = Field(None, description="Caveat about the sources (2008 proposals; not legal advice).")
    citations: list[Citation] = []
    standalone_question: str | None = Field(None, description="The question as searched, after using the history.")
    warnings: list[str] = Field(default_factory=list,
                                description="Gentle notes for the person asking, e.g. that personal details were removed.")
    mode: str = "extractive"
    timings_ms: dict[str, float] = {}
