"""The benchmark's copied libraries and question banks (``evals.bench --library copies``).

Copies of the five documents (paragraphs after the title shuffled, new names, no manifest entry) and,
with the bank, a marker word in every sentence of copy ``i`` and a bank proportional to the copies. The
indexer merges identical sentences, so copies understate what a library of that size costs: the default
library is ``bench_distinct``'s distinct documents; copies stay for the bank's measurements.
"""
from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent / "corpus"  # the shipped library (its furniture rules)


def make_corpus(src: Path, dest: Path, copies: int, mark: bool = False) -> dict:
    """``copies``× corpus: the originals with their manifest, plus shuffled copies with new names.

    ``mark``: every sentence of copy ``i`` gets a marker word (``copy017``) before its final punctuation, so
    the copies' sentences are distinct texts (distinct bank anchors, ``bank.sentence_key``), as a real
    library's would be; the copy is then written from the cleaned text. Returns, for each copy, the map
    from an original sentence's key to the marked sentence's text as the indexer will read it (``anchors``)."""
    dest.mkdir(parents=True, exist_ok=True)
    files = [p for p in sorted(src.iterdir()) if p.suffix.lower() in (".txt", ".md") and not p.name.startswith(".")]
    for p in files:
        shutil.copyfile(p, dest / p.name)
    for name in ("sources.toml", "library.toml"):  # the manifest; the library's identity, where there is one
        if (src / name).exists():
            shutil.copyfile(src / name, dest / name)
    anchors: dict[int, dict[str, str]] = {}
    for i in range(1, copies):
        rng = random.Random(i)
        for p in files:
            if mark:
                text = _marked(p.read_text("utf-8"), copy_marker(i))
            else:
                text = p.read_text("utf-8")
            paras = [x for x in text.split("\n\n") if x.strip()]
            head, body = paras[:1], paras[1:]
            rng.shuffle(body)
            out = dest / f"{p.stem}-copy{i:03d}{p.suffix}"
            out.write_text("\n\n".join(head + body) + "\n", "utf-8")
            if mark:
                anchors.setdefault(i, {}).update(_copy_anchors(out.read_text("utf-8"), copy_marker(i)))
    return {"documents": len(files) * copies, "bytes": sum(p.stat().st_size for p in dest.iterdir() if p.is_file()),
            "marked": mark, "anchors": anchors}


def copy_marker(i: int) -> str:
    return f"copy{i:03d}"


_END = re.compile(r"[.!?…:;,”’\"')\]]*$")


def sentences_of(text: str) -> list[str]:
    """The sentences the indexer will read from ``text`` (its own cleaner and splitter)."""
    from assistant.library.chunking import chunk_document
    from assistant.identity import Identity
    from assistant.library.cleaning import clean

    cleaned = clean(text, Identity.load(CORPUS).furniture)  # the library's publishers' lines
    return [cleaned.text[s.start:s.end] for c in chunk_document("bench", cleaned) for s in c.sentences]


def _marked(raw: str, marker: str) -> str:
    """The cleaned text of ``raw`` with ``marker`` before the final punctuation of every sentence."""
    from assistant.library.chunking import chunk_document
    from assistant.identity import Identity
    from assistant.library.cleaning import clean

    cleaned = clean(raw, Identity.load(CORPUS).furniture)
    text = cleaned.text
    spans = [(s.start, s.end) for c in chunk_document("bench", cleaned) for s in c.sentences]
    for start, end in sorted(spans, reverse=True):
        tail = _END.search(text[start:end])
        at = start + tail.start()
        text = text[:at] + " " + marker + text[at:]
    return text


def _copy_anchors(text: str, marker: str) -> dict[str, str]:
    """Original sentence key → the copy's marked sentence, for every sentence that carries the marker."""
    from assistant.library.bank import sentence_key

    out = {}
    for sent in sentences_of(text):
        if f" {marker}" in sent:
            out.setdefault(sentence_key(sent.replace(f" {marker}", "")), sent)
    return out


_PREFIXES = ("Quick question: ", "Can you tell me ", "I'd like to know ", "Please explain ", "Just checking: ",
             "In short, ", "Remind me, ", "For the governors' meeting: ", "Briefly, ", "One thing: ", "So ",
             "Could you say ", "Help: ", "Question from a parent: ", "Hi, ")
_SUFFIXES = (" please", " thanks", " - briefly", " (in a sentence)", " again?", " for our school", " in 2008",
             " for a new governor", " exactly", " if you know", " ta", " in plain words", " at the time")


def vary(question: str, rng: random.Random) -> str:
    """One variant of a bank question, as another person might ask it: a prefix or suffix, a dropped or
    swapped word, a typo, no capitals or question mark (two or three of these, by ``rng``)."""
    words = question.split()

    def prefix(w):
        return (rng.choice(_PREFIXES) + " ".join(w)).split()

    def suffix(w):
        last = w[-1].rstrip("?") if w else ""
        return w[:-1] + [last + rng.choice(_SUFFIXES) + ("?" if w and w[-1].endswith("?") else "")]

    def drop(w):
        if len(w) < 5:
            return w
        k = rng.randrange(1, len(w) - 1)
        return w[:k] + w[k + 1:]

    def swap(w):
        if len(w) < 4:
            return w
        k = rng.randrange(1, len(w) - 2)
        return w[:k] + [w[k + 1], w[k]] + w[k + 2:]

    def typo(w):
        long = [k for k, x in enumerate(w) if len(x) >= 5 and x.isalpha()]
        if not long:
            return w
        k = rng.choice(long)
        x = w[k]
        c = rng.randrange(1, len(x) - 2)
        return w[:k] + [x[:c] + x[c + 1] + x[c] + x[c + 2:]] + w[k + 1:]

    def plain(w):
        return " ".join(w).lower().rstrip("?").split()

    for f in rng.sample((prefix, suffix, drop, swap, typo, plain), rng.choice((2, 2, 3))):
        words = f(words) or words
    return " ".join(words)


def make_bank(src: Path, dest: Path, copies: int, anchors: dict[int, dict[str, str]], scale: float = 1.0) -> dict:
    """A question bank proportional to the ``copies``× corpus, written to ``dest`` (``bank/*.toml`` files):
    the shipped bank as it is (it points at the originals), and for each copy a variant of each shipped
    question (``vary``, seeded by copy and question; all distinct strings), pointing at that copy's marked
    sentences; the not-covered topics are varied the same way. ``scale`` < 1 keeps that share of each
    copy's questions (a seeded sample)."""
    from assistant.library import bank as bank_data

    dest.mkdir(parents=True, exist_ok=True)
    for p in sorted(bank_data.bank_dir(src).glob("*.toml")):
        shutil.copyfile(p, dest / p.name)
    shipped = bank_data.load(src)
    seen = {" ".join(q.split()) for e in shipped.entries for q in e.questions}
    questions = shipped_n = len(seen)
    missing = 0
    for i in range(1, copies):
        keys = anchors.get(i, {})
        rng = random.Random(f"bank-{i}")
        lines = [f"# Benchmark bank for copy {i} (evals/bench.py make_bank): shipped questions varied, "
                 f"pointing at the sentences marked {copy_marker(i)}.", ""]
        for n, e in enumerate(shipped.entries):
            qs = [q for q in e.questions if scale >= 1 or rng.random() < scale]
            if not qs:
                continue
            out = []
            for q in qs:
                v = vary(q, rng)
                tries = 0
                while v in seen:
                    tries += 1
                    v = vary(q, rng) if tries < 20 else f"{v} ({i}.{tries})"
                seen.add(v)
                out.append(v)
            qline = "questions = [" + ", ".join(json.dumps(q, ensure_ascii=False) for q in out) + "]"
            if e.anchors:
                marked = [keys.get(bank_data.sentence_key(a)) for a in e.anchors]
                if not all(marked):
                    missing += 1
                    continue
                lines += ["[[answers]]", "sentences = " + json.dumps(marked, ensure_ascii=False), qline, ""]
            else:
                lines += ["[[topic]]", f"name = {json.dumps(f'{e.topic} ({i})')}", qline, ""]
            questions += len(out)
        (dest / f"bench-copy{i:03d}.toml").write_text("\n".join(lines), "utf-8")
    return {"questions": questions, "shipped": shipped_n, "files": len(list(dest.glob("*.toml"))), "entries_unresolved": missing,
            "scale": scale}
