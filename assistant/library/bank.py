"""The question bank: what each sentence of the library answers, in the words people ask it, as data.

The bank lives in ``corpus/bank/*.toml``, files a school can read and edit::

    [[answers]]
    sentence = "The exact sentence of a document, as `assistant show ID` prints it."
    questions = ["Do we have to work with the council on this?", "la duty to cooperate schools?"]

    [[answers]]
    sentences = ["A sentence of one document.", "A sentence of another."]   # answered together
    questions = ["..."]

    [[topic]]          # questions the documents do NOT cover: they teach the assistant to say so
    name = "admissions"
    questions = ["How do we run an admissions appeal?"]

An anchor is a sentence's text (whitespace, case and the kind of quotation mark do not matter). At index
time every anchor is checked against the live sentences: one that matches none is reported with its file
and line (``assistant index``, ``assistant bank check``), never dropped in silence. Each bank question is
embedded once and kept in its own Chroma collection with the keys of the sentences it points to (the
multi-vector pattern: many vectors per sentence, each pointing at it); the answer path searches them
(``answer/bank.py``) and the judge reads how close the nearest one is (``answer/judge.py``).

Accepted corrections from readers ("this sentence answers my question", "the documents don't cover
this") are appended to ``corpus/bank/corrections.toml`` by the review (``library/corrections.py``) and
written to the bank collection at once, so every answering instance sharing the index sees them.
"""
from __future__ import annotations

import hashlib
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

BANK_DIR = "bank"
CORRECTIONS_FILE = "corrections.toml"
ORIGINS = ("file", "correction", "added")


def sentence_key(text: str) -> str:
    """A stable id for a sentence's text: the same after re-indexing, whatever its offsets or document
    version, and the same for an anchor typed with straight quotes or other spacing."""
    return hashlib.sha1(normalise_anchor(text).encode("utf-8")).hexdigest()[:16]


_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "\u00a0": " ", "–": "-", "—": "-"})


def normalise_anchor(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).lower()
    return re.sub(r"\s+", " ", text).strip()


@dataclass
class Entry:
    """One bank entry: questions and the sentences (their texts) that answer them together; no
    anchors for a question the documents do not cover."""

    questions: list[str]
    anchors: list[str]
    file: str
    line: int
    topic: str = ""
    origin: str = "file"

    @property
    def covered(self) -> bool:
        return bool(self.anchors)


@dataclass
class Bank:
    entries: list[Entry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "file:line: what is wrong", for the person editing it

    def rows(self) -> list[dict]:
        """One row per (question, entry): the question's text, the keys of its sentences, where it came
        from. A row's id is a hash of both, so an edited question or anchor is a new row."""
        out: dict[str, dict] = {}
        for e in self.entries:
            keys = sorted({sentence_key(a) for a in e.anchors})
            for q in e.questions:
                q = " ".join(str(q).split())
                if not q:
                    continue
                rid = "bq-" + hashlib.sha1(("|".join([q, *keys])).encode("utf-8")).hexdigest()[:20]
                out[rid] = {"id": rid, "question": q, "anchors": ",".join(keys), "covered": bool(keys),
                            "file": e.file, "line": e.line, "origin": e.origin, "topic": e.topic}
        return list(out.values())


def bank_dir(corpus_dir: Path) -> Path:
    return Path(corpus_dir) / BANK_DIR


def load(corpus_dir: Path) -> Bank:
    """Every ``*.toml`` of ``corpus/bank``; a file that does not parse is reported (with its line) and
    skipped, the others still load."""
    bank = Bank()
    folder = bank_dir(corpus_dir)
    for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
        try:
            raw = path.read_text("utf-8")
            data = tomllib.loads(raw)
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            bank.problems.append(f"{path.name}: cannot be read ({exc}); its questions are not used.")
            continue
        bank.entries += _entries(path.name, raw, data, bank.problems)
    return bank


def _entries(name: str, raw: str, data: dict, problems: list[str]) -> list[Entry]:
    origin = "correction" if name == CORRECTIONS_FILE else "added" if name == "added.toml" else "file"
    out = []
    for i, item in enumerate(data.get("answers", []) or []):
        anchors = item.get("sentences") or ([item["sentence"]] if item.get("sentence") else [])
        line = _line_of(raw, anchors[0] if anchors else "", "[[answers]]", i)
        questions = item.get("questions") or []
        if not anchors or not all(isinstance(a, str) and a.strip() for a in anchors):
            problems.append(f"{name}:{line}: an [[answers]] entry needs `sentence` (or `sentences`) text.")
            continue
        if not isinstance(questions, list) or not questions:
            problems.append(f"{name}:{line}: an [[answers]] entry has no `questions`.")
            continue
        out.append(Entry([str(q) for q in questions], [str(a) for a in anchors], name, line, origin=origin))
    for i, item in enumerate(data.get("topic", []) or []):
        line = _line_of(raw, "", "[[topic]]", i)
        questions = item.get("questions") or []
        if isinstance(questions, list) and questions:
            out.append(Entry([str(q) for q in questions], [], name, line, str(item.get("name", "")), origin))
    return out


def _line_of(raw: str, anchor: str, header: str, index: int) -> int:
    """The line of an entry in its file (tomllib gives none): where its anchor's text is, else its header."""
    if anchor:
        at = raw.find(anchor[:60].replace('"', '\\"'))
        if at < 0:
            at = raw.find(anchor[:40])
        if at >= 0:
            return raw.count("\n", 0, at) + 1
    at = -1
    for _ in range(index + 1):
        at = raw.find(header, at + 1)
        if at < 0:
            return 1
    return raw.count("\n", 0, at) + 1


def unresolved(bank: Bank, live_keys: set[str]) -> list[str]:
    """Anchors that match no sentence of the live library, as "file:line: ..." lines."""
    out = []
    for e in bank.entries:
        for a in e.anchors:
            if sentence_key(a) not in live_keys:
                short = a if len(a) <= 70 else a[:67] + "..."
                out.append(f"{e.file}:{e.line}: matches no sentence of the library: \"{short}\"")
    return out


def append_entry(corpus_dir: Path, file_name: str, question: str, anchors: list[str]) -> None:
    """Add one entry to ``corpus/bank/<file_name>`` (created with a header if new), as a school would write
    it by hand: readers' corrections accepted in review, or questions added with ``assistant bank add``."""
    import json

    path = bank_dir(corpus_dir) / file_name
    path.parent.mkdir(parents=True, exist_ok=True)
    head = "" if path.exists() else (
        "# Readers' corrections, accepted in review (Manage library or `assistant bank review`).\n"
        if file_name == CORRECTIONS_FILE else "# Questions added with `assistant bank add` or in Manage library.\n"
    ) + "# Edit or delete entries like those of any other bank file.\n"
    q = json.dumps(question, ensure_ascii=False)
    if anchors:
        body = ("\n[[answers]]\n" + (f"sentence = {json.dumps(anchors[0], ensure_ascii=False)}\n" if len(anchors) == 1
                                      else f"sentences = {json.dumps(anchors, ensure_ascii=False)}\n")
                + f"questions = [{q}]\n")
    else:
        body = f"\n[[topic]]\nname = \"not covered ({file_name.removesuffix('.toml')})\"\nquestions = [{q}]\n"
    with path.open("a", encoding="utf-8") as f:
        f.write(head + body)


def remove_question(corpus_dir: Path, question: str) -> int:
    """Remove ``question`` from every bank file that lists it (an entry left with no question goes too);
    returns how many were removed. Rewritten with tomlkit, so the file's comments stay."""
    import tomlkit

    removed = 0
    target = " ".join(question.split())
    for path in sorted(bank_dir(corpus_dir).glob("*.toml")):
        doc = tomlkit.parse(path.read_text("utf-8"))
        changed = False
        for table in ("answers", "topic"):
            items = doc.get(table)
            if not items:
                continue
            for item in list(items):
                qs = item.get("questions") or []
                keep = [q for q in qs if " ".join(str(q).split()) != target]
                if len(keep) != len(qs):
                    removed += len(qs) - len(keep)
                    changed = True
                    if keep:
                        item["questions"] = keep
                    else:
                        items.remove(item)
        if changed:
            path.write_text(tomlkit.dumps(doc), "utf-8")
    return removed
