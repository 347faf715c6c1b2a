"""Governor training over the live library, for the ``Assistant`` facade: the materials (duty cards,
glossary, quiz bank) rebuilt only when the library or the training specification changes. Kept apart from
the service so the facade stays a list of one-line delegations; it needs the live index's snapshot only,
never the models, so a process that only shows duty cards or a quiz never loads them."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

from ..config import Settings
from ..errors import AssistantError


class TrainingDesk:
    def __init__(self, snapshot: Callable, settings: Settings, lock: threading.RLock | threading.Lock):
        self._snapshot, self.settings, self._lock = snapshot, settings, lock
        self._built: tuple | None = None

    def materials(self):
        """Duty cards, glossary and quiz bank over the live library (rebuilt when it changes)."""
        from .duties import spec_path
        from .materials import Training

        snapshot = self._snapshot()
        with self._lock:
            spec = spec_path(self.settings.corpus_dir, self.settings.training_spec)
            key = Training.key(snapshot, spec)
            if self._built is None or self._built[0] != key:
                self._built = (key, Training(snapshot, spec))
            return self._built[1]

    def uses(self, doc_id: str) -> list[str]:
        """Where the training specification quotes ``doc_id`` (e.g. "duty-to-co-operate / holds / line 3"):
        the lines the duty cards and glossary show as missing once it is removed, so the CLI and the UI
        can say so when it is. Reads the specification only (no index); [] when there is none."""
        from .duties import lines_quoting, load_spec, spec_path

        try:
            spec = load_spec(spec_path(self.settings.corpus_dir, self.settings.training_spec))
        except AssistantError:
            return []
        return lines_quoting(spec, doc_id)

    def quiz(self, n: int = 10, seed: int = 1, topic: str | None = None) -> list:
        from .quiz import quiz_options

        n, seed, topic = quiz_options(n, seed, topic)
        return self.materials().quiz(n=n, seed=seed, topic=topic)

    def pack(self, out_dir: Path | str, n: int = 10, seed: int = 1, topic: str | None = None) -> dict:
        from .pack import write_pack
        from .quiz import quiz_options

        n, seed, topic = quiz_options(n, seed, topic)
        training = self.materials()
        topic = training.bank.check_topic(topic)
        questions = training.quiz(n=n, seed=seed, topic=topic)
        cards = [c for c in training.cards if not topic or c.id == topic]
        return write_pack(out_dir, cards, questions, topic=topic or None, seed=seed, glossary=training.glossary,
                          topic_name=training.bank.topic_names.get(topic or ""))
