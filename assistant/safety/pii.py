"""Personal data in text that is kept (feedback, corrections): found by a maintained detector, Microsoft
Presidio's analyzer with spaCy's small English model, rather than by ever more regular expressions.

    from assistant.safety import pii
    pii.find("my pupil jack smith is in care")     # -> [Finding("a person's name", 9, 19)]
    pii.redact("Ring 0044 7700 900456", settings)   # -> "Ring [phone number removed]"

What it adds to ``privacy``'s fast patterns (which it also runs): names in any case by spaCy's NER, UK phone
numbers by Google's phonenumbers, NHS numbers with their check digit, National Insurance numbers, postcodes,
e-mail addresses, and the patterns of ``data/privacy.toml`` (house number and street, 0044 numbers).

Names typed in lower or upper case are the hard part: NER knows a name by its capital. When the text talks
about a person (a relation, a year group, a health, SEN or care detail: ``person_context``), it is also read
with its unfamiliar words capitalised ("my pupil Jack Smith is in care"; the library's own words, function
words and the most frequent English words are left alone), where a name of two words or more counts, and
the ``names`` patterns of the data file find a name by the words around it ("my daughter amelia").

Policy on public names: a finding the library's own documents print is not personal data about a pupil
("What did Ed Balls say?", the DCSF's address in its letter) and is allowed; a single word only when the
documents use it as an ordinary word (see ``_allowed``). Anything else that reads as a name is removed, a
teacher's or a parent's as much as a child's. docs/PRIVACY.md has the measurements.

Loading takes seconds, once per process (``load``; the app does it in its warm-up thread), and a call
tens of milliseconds: too slow for every question, so questions are checked by ``privacy``'s patterns
(they are answered, not kept) and what is stored goes through here. Nothing is downloaded: the spaCy model
is a pinned package (a missing one stops the save with a plain message) and the e-mail check uses
tldextract's bundled suffix list, never a fetched one.
"""
from __future__ import annotations

import re
import threading
import tomllib
from functools import lru_cache
from pathlib import Path

from ..config import Settings, get_settings
from ..errors import AssistantError
from . import privacy

DATA = Path(__file__).resolve().parent.parent / "data" / "privacy.toml"
PERSON = "a person's name"
# Presidio's entity -> what the reader is told was removed (privacy's kinds, so its warning and labels apply)
KINDS = {"PERSON": PERSON, "PHONE_NUMBER": "a phone number", "UK_PHONE": "a phone number",
         "EMAIL_ADDRESS": "an e-mail address", "UK_NHS": "an NHS number", "UK_NINO": "a National Insurance number",
         "UK_POSTCODE": "a postcode", "UK_ADDRESS": "an address"}
_WORD = re.compile(r"[^\W\d_][^\W\d_'’-]*")
_lock = threading.Lock()


@lru_cache(maxsize=1)
def rules() -> dict:
    """``data/privacy.toml``, read once."""
    return tomllib.loads(DATA.read_text("utf-8"))


@lru_cache(maxsize=1)
def _person_context() -> re.Pattern:
    ctx = rules()["person_context"]
    words = sorted(ctx["words"], key=len, reverse=True)
    alternatives = [r"\b" + re.escape(w).replace(r"\ ", r"\s+") + r"\b" for w in words] + list(ctx["patterns"])
    return re.compile("|".join(alternatives), re.I)


def load():
    """The analyzer (and the word lists ``find`` uses), built once per process, thread-safe. Never
    downloads: the model must be installed."""
    with _lock:
        _ordinary(), _name_patterns()
        return _analyzer()


@lru_cache(maxsize=1)
def _analyzer():
    import spacy
    import tldextract
    from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_analyzer.predefined_recognizers import (EmailRecognizer, NhsRecognizer, PhoneRecognizer,
                                                          SpacyRecognizer, UkNinoRecognizer, UkPostcodeRecognizer)

    model = rules()["model"]["spacy"]
    if not spacy.util.is_package(model):  # Presidio would try to download it: refuse, and store nothing
        raise AssistantError(f"Nothing was saved: the personal-data check needs the spaCy model package "
                             f"'{model}', which is not installed (`make setup` installs it).")
    offline = tldextract.TLDExtract(cache_dir=None, suffix_list_urls=())  # the bundled list, no fetch

    class OfflineEmail(EmailRecognizer):
        def validate_result(self, pattern_text: str):
            return offline(pattern_text.rpartition("@")[2]).fqdn != ""

    nlp = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": model}],
        "ner_model_configuration": {"model_to_presidio_entity_mapping": {"PERSON": "PERSON", "PER": "PERSON"},
                                    "labels_to_ignore": ["ORG", "GPE", "LOC", "FAC", "NORP", "DATE", "TIME"]},
    }).create_engine()
    registry = RecognizerRegistry(supported_languages=["en"])
    postcode = Pattern("UK postcode", UkPostcodeRecognizer.PATTERNS[0].regex, rules()["model"]["postcode_score"])
    for recogniser in (SpacyRecognizer(supported_entities=["PERSON"]), PhoneRecognizer(supported_regions=("GB",)),
                       OfflineEmail(), NhsRecognizer(), UkNinoRecognizer(), UkPostcodeRecognizer(patterns=[postcode])):
        registry.add_recognizer(recogniser)
    for p in rules()["patterns"]:
        registry.add_recognizer(PatternRecognizer(supported_entity=p["entity"], name=p["name"],
                                                  patterns=[Pattern(p["name"], p["regex"], p["score"])]))
    return AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["en"])


@lru_cache(maxsize=8)
def _library(corpus_dir: Path, stamp: tuple) -> tuple[str, frozenset[str]]:
    """The library's own text (lower case, spaces collapsed) and its ordinary words: those it uses in lower
    case, and capitalised words it uses alone, not as part of a name and not only to start a sentence
    ("Ofsted", "DCSF"; not "David" of "David Hawker")."""
    texts = []
    for name, _ in stamp:
        try:
            texts.append((corpus_dir / name).read_text("utf-8", errors="replace"))
        except OSError:
            continue
    raw = " ".join(texts).replace("’", "'")
    tokens = list(re.finditer(r"[^\W\d_][\w'-]*", raw))
    words: set[str] = set()
    for i, m in enumerate(tokens):
        w = m.group(0)
        if w.islower():
            words.update([w, *re.split(r"[-']", w)])
            continue
        # a capitalised neighbour with only spaces between: part of a longer name
        named = lambda a, b, other: raw[a.end():b.start()].isspace() and other.group(0)[:1].isupper()
        alone = not (i and named(tokens[i - 1], m, tokens[i - 1])) and \
            not (i + 1 < len(tokens) and named(m, tokens[i + 1], tokens[i + 1]))
        before = raw[max(0, m.start() - 8):m.start()].rstrip(" \t")
        starts_sentence = not before or before[-1] in ".!?:\"(\n"
        if alone and not starts_sentence:
            words.add(w.lower())
    return " " + re.sub(r"\s+", " ", raw).lower() + " ", frozenset(words)


def library(settings: Settings | None = None) -> tuple[str, frozenset[str]]:
    """``_library`` for the corpus folder as it is now (re-read when a text file there changes)."""
    corpus_dir = (settings or get_settings()).corpus_dir
    try:
        stamp = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in corpus_dir.iterdir()
                             if p.suffix.lower() in (".txt", ".md") and p.is_file()))
    except OSError:
        stamp = ()
    return _library(corpus_dir, stamp)


def recased(text: str, known: frozenset[str]) -> str:
    """``text`` with each unfamiliar word capitalised, as a name would be written; the same length, so a
    span found in it is the same span of ``text``. Text in capitals is read as lower case first."""
    letters = [c for c in text if c.isalpha()]
    shouting = bool(letters) and sum(c.isupper() for c in letters) > 0.8 * len(letters)
    base = text.lower() if shouting else text

    def cap(m: re.Match) -> str:
        w = m.group(0)
        if not w.islower() or w in known or len(w) < 3:
            return w
        c = w[0].upper() + w[1:]
        return c if len(c) == len(w) else w
    out = _WORD.sub(cap, base)
    return out if len(out) == len(text) else text


@lru_cache(maxsize=1)
def _ordinary() -> frozenset[str]:
    """Words that are not taken for names: spaCy's function words, the most frequent English words and
    the person_context words."""
    from spellchecker import SpellChecker

    counts = SpellChecker().word_frequency.dictionary
    return _plain() | frozenset(sorted(counts, key=counts.get, reverse=True)[:rules()["model"]["common_words"]])


@lru_cache(maxsize=1)
def _plain() -> frozenset[str]:
    """spaCy's function words and the person_context words: never the edge of a name."""
    from spacy.lang.en.stop_words import STOP_WORDS
    return frozenset(STOP_WORDS) | frozenset(w for w in rules()["person_context"]["words"] if " " not in w)


@lru_cache(maxsize=1)
def _name_patterns() -> list[tuple[re.Pattern, str]]:
    # as few words as fit when the name comes first in the pattern (its detail follows at once), as many as
    # fit when the name comes last (ordinary words after it are trimmed)
    def slot(trim: str) -> str:
        return r"(?P<name>[^\W\d_][\w'’-]*(?:\s+[^\W\d_][\w'’-]*){0,2}" + ("?)" if trim == "start" else ")")
    return [(re.compile(n["regex"].replace("{name}", slot(n["trim"])), re.I), n["trim"]) for n in rules()["names"]]


def _trimmed(text: str, start: int, end: int, ordinary: frozenset[str], trim: str = "both",
             plain_words: frozenset[str] = frozenset()) -> tuple[int, int] | None:
    """The span less the ``ordinary`` words at its ``trim`` end ("start", "end" or "both"; a possessive 's
    counts with its word), or None when nothing is left or an end is one of ``plain_words`` (function,
    context and library words: "a child with special needs" names no one, "Nathan Price in Y9" does)."""
    words = [(m.start() + start, m.end() + start) for m in re.finditer(r"\S+", text[start:end])]
    plain = lambda w: re.sub(r"['’]s$", "", text[w[0]:w[1]]).strip(".,;:()'’").lower()
    while words and trim in ("start", "both") and plain(words[0]) in ordinary:
        words.pop(0)
    while words and trim in ("end", "both") and plain(words[-1]) in ordinary:
        words.pop()
    if not words or plain(words[0]) in plain_words or plain(words[-1]) in plain_words:
        return None
    return words[0][0], words[-1][1]


def _allowed(text: str, start: int, end: int, library_text: str, known: frozenset[str]) -> bool:
    """The library's own words: a minister, an author, the DCSF's address (leading function words such as
    a question's "Will" dropped). One word alone only when the library uses it as an ordinary word or the
    text names the same person as the library ("john" of "john chowcat"): "David" of David Hawker does not
    make a pupil called David public."""
    def norm(span: str) -> list[str]:
        span = re.sub(r"\s+", " ", span.replace("’", "'")).lower().strip(" .,;:()'\"?!")
        return re.sub(r"'s$", "", span).split(" ")

    def printed(words: list[str]) -> bool:
        key = " ".join(words)
        return bool(key) and re.search(r"(?<![\w])" + re.escape(key) + r"(?![\w])", library_text) is not None

    words = norm(text[start:end])
    while len(words) > 1 and words[0] in _plain():
        words.pop(0)
    if len(words) > 1:
        return printed(words)
    before, after = norm(text[:start])[-1:], norm(text[end:])[:1]
    return (words[0] in known and printed(words)) or printed(before + words) or printed(words + after)


def find(text: str, settings: Settings | None = None) -> list[privacy.Finding]:
    """Personal details in ``text``, in order, overlapping ones merged: ``privacy``'s patterns and the
    detector's findings, less those whose text is in the library's own documents."""
    found = list(privacy.find(text))
    if not text.strip():
        return found
    analyzer = load()
    library_text, known = library(settings)
    ordinary = _ordinary()
    plain_words = known | _plain()
    spans: list[tuple[str, int, int]] = [(r.entity_type, r.start, r.end) for r in analyzer.analyze(
        text=text, language="en", score_threshold=rules()["model"]["threshold"])]
    if _person_context().search(text):  # a name in lower or upper case, where the text is about someone
        names = [(s, e) for kind, s, e in spans if kind == "PERSON"]
        copy = recased(text, known | ordinary)
        for ent in analyzer.nlp_engine.nlp["en"](copy).ents if copy != text else ():
            if ent.label_ == "PERSON" and not any(s < ent.end_char and ent.start_char < e for s, e in names):
                cut = _trimmed(text, ent.start_char, ent.end_char, ordinary)
                if cut and len(text[cut[0]:cut[1]].split()) > 1:  # one capitalised word alone is no name
                    spans.append(("PERSON", *cut))
        for pattern, trim in _name_patterns():
            for m in pattern.finditer(text):
                if (cut := _trimmed(text, *m.span("name"), ordinary, trim, plain_words)):
                    spans.append(("PERSON", *cut))
    found += [privacy.Finding(KINDS.get(kind, "a personal detail"), start, end) for kind, start, end in spans]
    return privacy.merge(text, [f for f in found if not _allowed(text, f.start, f.end, library_text, known)])


def redact(text: str, settings: Settings | None = None) -> str:
    """``text`` with every personal detail ``find`` sees replaced by ``[... removed]``."""
    return privacy.redact(text, find(text, settings)) if text else text
