"""Everyday wording: a reader's words mapped to the documents' words, from ``corpus/vocabulary.toml``.

Why a data file: which everyday word stands for which term depends on the documents a school keeps
("family doctors" → "GPs" here; something else in a safeguarding library). The code knows no word.
The documents' words are *added* after the reader's, in brackets, so both the retrievers and the
judge see them and nothing the person asked is lost.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..identity import kept, read_toml  # the one mechanism for a data file a school edits by hand

FILENAME = "vocabulary.toml"


def _fold(text: str) -> str:
    return text.replace("’", "'").replace("‘", "'")


@dataclass(frozen=True)
class Vocabulary:
    terms: tuple[tuple[re.Pattern, str], ...] = ()

    @classmethod
    def load(cls, corpus_dir: Path, filename: str = FILENAME) -> "Vocabulary":
        """The corpus's vocabulary file; none is an empty vocabulary. A damaged file is a clear error."""
        path = Path(corpus_dir) / filename
        if not path.is_file():
            return cls()
        data = read_toml(path)  # a damaged file: an InputError naming the file and the line
        terms = []
        for i, entry in enumerate(data.get("term", []), start=1):
            say, documents = entry.get("say"), entry.get("documents")
            if not (isinstance(say, list) and say and all(isinstance(s, str) and s.strip() for s in say)
                    and isinstance(documents, str) and documents.strip()):
                raise InputError(f"{path}: term {i} needs `say` (a list of words) and `documents` (text).")
            alternatives = sorted({re.escape(_fold(s.strip())) for s in say}, key=len, reverse=True)
            pattern = re.compile(r"(?<![\w'-])(" + "|".join(alternatives) + r")(?![\w-])", re.I)
            terms.append((pattern, documents.strip()))
        return cls(tuple(terms))

    @classmethod
    def kept(cls, corpus_dir: Path, keep_dir: Path) -> tuple["Vocabulary", str | None]:
        """The corpus's vocabulary and None; or, when the file is damaged (a school edits it by hand), the
        last good one and a one-line problem naming the file, the line and which vocabulary is used.

        Why: a typo made every question fail, and a restart did not help. Every good load keeps a copy of
        the file in ``keep_dir`` (the data folder), so the last good vocabulary survives a restart; with
        no copy, questions go on with the built-in vocabulary, which is empty (no words added)."""
        return kept(cls.load, corpus_dir, keep_dir, FILENAME, cls, "vocabulary",
                    "the built-in vocabulary (no everyday words added)", "questions use")

    def expand(self, question: str) -> str:
        """``question`` with the documents' words added after each everyday phrase it uses. Where phrases
        overlap the longest wins, whatever the order of the file ("councils' association", not "council"
        inside it); the documents' words go after a possessive ("the council's (local authority) view")."""
        text = _fold(question)
        low = text.lower()
        matches: list[tuple[int, int, int, str]] = []  # (-length, start, end, documents' words)
        for pattern, documents in self.terms:
            if _fold(documents).lower() in low:
                continue  # already in the documents' words
            matches += [(m.start() - m.end(), m.start(), m.end(), documents) for m in pattern.finditer(text)]
        found: list[tuple[int, int, str]] = []
        for _, start, end, documents in sorted(matches, key=lambda m: (m[0], m[1])):  # longest first, then leftmost
            if not any(start < e and s < end for s, e, _ in found) and not any(d == documents for *_, d in found):
                found.append((start, end, documents))
        if not found:
            return question
        out, last = [], 0
        for _, end, documents in sorted(found):
            end += len(_POSSESSIVE.match(text, end).group(0)) if text[end - 1:end].lower() != "s" \
                else len(_PLURAL_POSSESSIVE.match(text, end).group(0))
            out.append(text[last:end] + f" ({documents})")
            last = end
        return "".join(out) + text[last:]


# A possessive after a matched phrase stays attached to it: "council's", "councils'".
_POSSESSIVE = re.compile(r"(?:'s(?![\w-]))?", re.I)
_PLURAL_POSSESSIVE = re.compile(r"(?:'s?(?![\w-]))?", re.I)
