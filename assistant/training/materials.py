"""Governor training: duty cards, glossary, quiz and training pack over the live library.

``Training`` is built from the index snapshot that answers questions, so cards and quizzes quote
exactly the text that answers quote. It is rebuilt when the library or ``training.toml`` changes.
``Assistant.duties() / glossary() / quiz() / training_pack()`` call into it.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from .duties import DutyCard, GlossaryEntry, build_cards, build_glossary, load_spec
from .quiz import Question, QuizBank
from .quotes import Library
from ..library.retrieval import Snapshot


class Training:
    def __init__(self, snapshot: Snapshot, spec_file: Path):
        self.spec_file = Path(spec_file)
        spec = load_spec(self.spec_file)
        self.library = Library(snapshot)
        self.cards: list[DutyCard] = build_cards(self.library, spec)
        self.glossary: list[GlossaryEntry] = build_glossary(self.library, spec)
        self.bank = QuizBank(self.library, spec, self.cards)

    @staticmethod
    def key(snapshot: Snapshot, spec_file: Path) -> tuple:
        """What the built training depends on: the live document versions and the spec's content."""
        try:
            digest = hashlib.sha256(Path(spec_file).read_bytes()).hexdigest()
        except OSError:
            digest = "missing"
        return tuple(snapshot.versions), str(spec_file), digest

    def topics(self) -> list[dict]:
        return [{"id": c.id, "name": c.name} for c in self.cards]

    def quiz(self, n: int = 10, seed: int = 1, topic: str | None = None) -> list[Question]:
        return self.bank.quiz(n=n, seed=seed, topic=topic)
