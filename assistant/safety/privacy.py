"""Personal data in questions: found, removed before anything is searched or stored, and gently
pointed out to the person asking.

Head teachers may paste a real case ("Jack Smith in Year 4, DOB 03/05/2016, mum's number 07700
900123"). The documents are about policy, so none of that is needed to answer; the question is
searched, echoed, logged and stored in feedback only with such details replaced by ``[... removed]``.

Detected: e-mail addresses, UK phone numbers, National Insurance numbers, postcodes, dates of birth
(a date next to "born", "DOB", "date of birth", "birthday"), and a child's name with details about
them (a name after "pupil", "child", "my son", ... or before "aged 7", "in Year 4", "who has ...").
Pattern matching errs on the side of flagging; names of public figures in the sources (Ed Balls) are
not flagged because they come with no child details.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass

_NAME = r"[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?(?:\s+[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?)?"
_DATE = (r"(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}-\d{2}-\d{2}|"
         r"\d{1,2}(?:st|nd|rd|th)?\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?,?\s+\d{2,4})")
_CHILD = (r"(?:pupil|child|student|learner|boy|girl|son|daughter|stepson|stepdaughter|grandson|granddaughter|"
          r"nephew|niece|foster child|looked[- ]after child|young person|kid)s?")

CHILD_NAME = "a child's name with details about them"
# (what it is, pattern, which group is the personal part (0 = all))
PATTERNS: list[tuple[str, re.Pattern, int]] = [
    ("an e-mail address", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), 0),
    ("a National Insurance number",
     re.compile(r"\b[A-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b", re.I), 0),
    ("a phone number", re.compile(r"(?<![\w/.-])(?:\+44\s?\(?0?\)?\s?|\(?0)\d{2,4}\)?[\s-]?\d{3,4}[\s-]?\d{3,4}(?![\w/-])"), 0),
    ("a date of birth", re.compile(r"\b(?:date of birth|d\.?o\.?b\.?|born(?:\s+on)?|birthday(?:\s+is)?)\s*(?:is|was|:|-)?\s*("
                                   + _DATE + r")", re.I), 1),
    ("a postcode", re.compile(r"\b(?:GIR\s?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?\s?\d[ABD-HJLNP-UW-Z]{2})\b"), 0),
    (CHILD_NAME,
     re.compile(r"(?i:\b(?:my|our|a|the|this|one)\s+(?:\w+\s+)?" + _CHILD + r")(?:,)?\s+(?i:called\s+|named\s+)?(" + _NAME + r")\b"), 1),
    (CHILD_NAME,
     re.compile(r"\b(" + _NAME + r")\s*(?:,\s*|\(\s*)?(?i:aged?\s+\d{1,2}|\d{1,2}\s*(?:years?|yrs?)[\s-]*old|"
                r"in\s+(?:year|yr)\s*\d{1,2}\b|(?:is|was)\s+in\s+care\b|who\s+(?:has|is)\s+(?:an?\s+)?"
                r"(?:adhd|autism|autistic|sen|send|ehcp|dyslexi|diabet|epilep|disab|excluded|a\s+child\s+protection))"), 1),
]


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int


def find(text: str) -> list[Finding]:
    """Personal details in ``text``, in order, overlapping matches merged."""
    found: list[Finding] = []
    for kind, pattern, group in PATTERNS:
        for m in pattern.finditer(text):
            start, end = m.span(group)
            if start < end:
                found.append(Finding(kind, start, end))
    return merge(text, found)


NAME_KINDS = (CHILD_NAME, "a person's name")


def merge(text: str, found: list[Finding]) -> list[Finding]:
    """``found`` in order, overlapping findings merged, and every other mention of a name found once
    flagged too ("Jack ... Jack Smith"): shared by this module's patterns and ``pii``'s detector."""
    found = list(found)
    # a child named once with details is named everywhere else in the question too ("Jack ... Jack Smith")
    names = {text[f.start:f.end] for f in found if f.kind in NAME_KINDS}
    parts = {p for name in names for p in [name, *name.split()] if len(p) > 2}
    for part in sorted(parts, key=len, reverse=True):
        for m in re.finditer(r"\b" + re.escape(part) + r"\b", text):
            found.append(Finding(CHILD_NAME, m.start(), m.end()))
    found.sort(key=lambda f: (f.start, -f.end))
    merged: list[Finding] = []
    for f in found:
        if merged and f.start < merged[-1].end:
            if f.end > merged[-1].end:
                merged[-1] = Finding(merged[-1].kind, merged[-1].start, f.end)
            continue
        merged.append(f)
    return merged


def redact(text: str, findings: list[Finding] | None = None, placeholder: bool = True) -> str:
    """``text`` with each personal detail replaced by ``[... removed]`` (or by nothing)."""
    findings = find(text) if findings is None else findings
    out, last = [], 0
    for f in findings:
        out.append(text[last:f.start])
        out.append(f"[{_LABEL.get(f.kind, 'personal detail')} removed]" if placeholder else "")
        last = f.end
    out.append(text[last:])
    return "".join(out) if placeholder else re.sub(r"\s+", " ", "".join(out)).strip()


_LABEL = {"an e-mail address": "e-mail address", "a National Insurance number": "NI number",
          "a phone number": "phone number", "a date of birth": "date of birth", "a postcode": "postcode",
          CHILD_NAME: "name", "a person's name": "name", "an NHS number": "NHS number",
          "an address": "address"}


def searchable(text: str, findings: list[Finding]) -> str:
    """What to search for: the parts of ``text`` (split at . : ; ? !) that hold no personal detail —
    "My pupil Jack, aged 7: which bodies must co-operate?" searches "which bodies must co-operate?" —
    or, if every part holds one, the text with the details taken out."""
    kept = [m.group(0) for m in re.finditer(r"[^.:;?!]+[.:;?!]*", text)
            if not any(f.start < m.end() and m.start() < f.end for f in findings)]
    rest = " ".join(part.strip() for part in kept if re.search(r"[^\W_]", part))
    return rest if re.search(r"[^\W_]{3}", rest) else redact(text, findings, placeholder=False)


def warning(findings: list[Finding]) -> str | None:
    """The gentle note shown with the answer, or None."""
    kinds = list(dict.fromkeys(f.kind for f in findings))
    if not kinds:
        return None
    what = kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " and " + kinds[-1]
    return (f"Your question seems to include personal information ({what}). You don't need to give names or "
            "contact details to ask about these documents, so it was removed before searching and is not "
            "stored. Please leave such details out, especially about children.")


class RedactingFilter(logging.Filter):
    """Removes personal details from log records (installed on the app's log handlers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            error = f"{record.exc_info[0].__name__}: {record.exc_info[1]}"
            if find(error):  # a traceback would print the exception's text as it is
                record.msg = f"{record.getMessage()} [{redact(error)}; traceback withheld: it held personal data]"
                record.args, record.exc_info, record.exc_text = None, None, None
        return True
