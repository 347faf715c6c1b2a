"""Export a conversation, with its citations and quotes, as Markdown or PDF.

A conversation is a list of turns ``{"question": str, "answer": Answer | dict}`` (the answer as
``Answer`` or its ``model_dump()``), oldest first.

    from assistant.export import to_markdown, write_markdown, write_pdf
    write_markdown(turns, "conversation.md")
    write_pdf(turns, "conversation.pdf")

Document and user text is text in both: the Markdown escapes every character that would make a link,
an image, an autolink, a reference definition, raw HTML or emphasis, so an exported file never loads a
remote image or offers a link a document planted. The answer's citation markers are located from its
citations (``markers.py``) and set in bold; a document's own "[2]" stays escaped plain text.

PDF uses ``fpdf2`` (pure Python) with DejaVu Sans embedded when it can find it (system fonts or
matplotlib's copy; its licence allows embedding), so curly quotes, dashes and most European scripts
print; without it, the built-in Helvetica with plain punctuation. A character the font has no glyph for
(CJK, most emoji) is never dropped silently: it prints as ``MISSING_GLYPH`` and the PDF ends with a
note saying how many were replaced.
"""
from __future__ import annotations

import datetime as dt
import importlib.util
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

from . import identity
from .errors import AssistantError
from .markers import split_markers

# The title and disclaimer are the library's own: ``export_title`` and ``export_disclaimer`` in
# corpus/library.toml (``identity.current()``, the library this process serves).


def _answer(turn: dict) -> dict:
    a = turn.get("answer") or {}
    return a.model_dump() if hasattr(a, "model_dump") else dict(a)


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def _now() -> str:
    return dt.datetime.now().astimezone().strftime("%d %B %Y, %H:%M")


def _turns(turns: Iterable[dict]) -> list[tuple[str, dict]]:
    return [(one_line(t.get("question") or _answer(t).get("question", "")), _answer(t))
            for t in turns if t.get("answer")]


def to_markdown(turns: Iterable[dict], exported_at: str | None = None) -> str:
    """The conversation as Markdown: each question, the quoted answer with [n], then its sources."""
    said = identity.current()
    out = [f"# {said.export_title}", "", f"*Exported {exported_at or _now()}.* {said.export_disclaimer}", ""]
    items = _turns(turns)
    if not items:
        out += ["(No questions asked yet.)", ""]
    for i, (question, a) in enumerate(items, start=1):
        out += [f"## {i}. {md_inline(question)}", ""]
        if a.get("abstained"):
            out += [f"**Not answered from the documents.** {md_inline(a.get('message') or a.get('answer') or '')}", ""]
            continue
        out += [_md_answer(a.get("answer", ""), a.get("citations") or []), ""]
        if a.get("notice"):
            out += [f"*Note: {md_inline(a['notice'])}*", ""]
        if a.get("citations"):
            out += ["**Sources**", ""]
            for c in a["citations"]:
                out.append(f"{c['n']}. **{md_inline(c['title'])}** — {md_inline(c['publisher'])}, "
                           f"{c['display_date']} · {md_inline(c['status'])} · {c['location']}  ")
                out.append(f"   > “{md_inline(one_line(c['quote']))}”")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


# Every character that can start Markdown markup inside a line: links, images and reference links ([ ]; an
# image's "!" is harmless once its bracket is escaped), autolinks and raw HTML (< >), emphasis, code and
# strikethrough (* _ ` ~), tables (|), an entity's "&" and the escape itself. Text is made one line first,
# so nothing can start a heading, a list, a code block or a reference definition ("[x]: url").
_MD_SPECIAL = re.compile(r"([\\`*_<>|\[\]~]|&(?=#?\w+;))")


def md_inline(text: str) -> str:
    """User and document text as Markdown that renders as exactly that text: no links, images,
    autolinks, raw HTML or emphasis (CommonMark backslash escapes)."""
    return _md_escape(one_line(text))


def _md_escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text or "")


def _md_answer(text: str, citations: list) -> str:
    """The answer with its citation markers in bold and everything else escaped as text, so a quoted
    footnote mark ("[2]") can never be mistaken for citation 2."""
    runs = split_markers(text or "", citations)
    return "".join(f"**{run}**" if n is not None else _md_escape(re.sub(r"\s+", " ", run)) for run, n in runs).strip()


def write_markdown(turns: Iterable[dict], path: str | Path) -> Path:
    path = Path(path)
    path.write_text(to_markdown(turns), "utf-8")
    return path


# ---- PDF ---------------------------------------------------------------------------------------
_FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"),
              Path("/usr/local/share/fonts"), Path("/Library/Fonts"), Path("C:/Windows/Fonts")]
_FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}
_PLAIN = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "...",
                        "•": "*", "\u00a0": " ", "→": "->"})


def _font_dir() -> Path | None:
    dirs = list(_FONT_DIRS)
    spec = importlib.util.find_spec("matplotlib")
    if spec and spec.submodule_search_locations:
        dirs += [Path(p) / "mpl-data" / "fonts" / "ttf" for p in spec.submodule_search_locations]
    for d in dirs:
        if all((d / f).is_file() for f in _FONT_FILES.values()):
            return d
    return None


MISSING_GLYPH = "\ufffd"  # printed where the embedded font has no glyph (DejaVu Sans has this one)
MISSING_GLYPH_PLAIN = "[?]"  # the same with the built-in Helvetica, which has only Latin-1


@lru_cache(maxsize=4)
def _glyphs(font_dir: Path) -> frozenset[int]:
    """Code points every style of the font can draw (fpdf2 would silently leave out the others)."""
    from fontTools.ttLib import TTFont

    cmaps = [set(TTFont(str(font_dir / name), lazy=True)["cmap"].getBestCmap()) for name in _FONT_FILES.values()]
    return frozenset(set.intersection(*cmaps))


class _Printable:
    """Text the PDF font can print: a character it lacks becomes a visible mark (counted, so the PDF can
    say so); invisible format characters it lacks (zero-width joiners, variation selectors) are left out."""

    def __init__(self, covered: Callable[[str], bool], mark: str, prepare: Callable[[str], str] = lambda s: s):
        self.covered, self.mark, self.prepare, self.replaced = covered, mark, prepare, 0

    def __call__(self, text: str | None) -> str:
        out = []
        for ch in self.prepare(text or ""):
            if ch.isspace() or self.covered(ch):
                out.append(ch)
            elif unicodedata.category(ch) in ("Cf", "Cc") or 0xFE00 <= ord(ch) <= 0xFE0F:
                continue
            else:
                out.append(self.mark)
                self.replaced += 1
        return "".join(out)


def new_pdf(title: str):
    """An A4 document with the body font (DejaVu Sans embedded, else Helvetica), and the filter every text
    goes through on its way in: it marks the characters that font cannot draw (``_Printable``). Shared by
    the conversation export and the training pack, so neither drops a character silently.
    Returns (pdf, font family, filter)."""
    try:
        from fpdf import FPDF
    except ImportError:  # pragma: no cover - fpdf2 is a dependency
        raise AssistantError("PDF export needs the fpdf2 package: pip install fpdf2") from None
    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_creator("wellbeing-duties-assistant")
    pdf.set_auto_page_break(True, margin=18)
    pdf.set_margins(18, 18, 18)
    fonts = _font_dir()
    if fonts:
        for style, name in _FONT_FILES.items():
            pdf.add_font("body", style, str(fonts / name))
        glyphs = _glyphs(fonts)
        return pdf, "body", _Printable(lambda ch: ord(ch) in glyphs, MISSING_GLYPH)
    return pdf, "helvetica", _Printable(lambda ch: ord(ch) < 256, MISSING_GLYPH_PLAIN, lambda s: s.translate(_PLAIN))


def replaced_note(clean: _Printable) -> str | None:
    """The closing line of a PDF in which ``clean`` had to mark characters, or None."""
    if not clean.replaced:
        return None
    one = clean.replaced == 1
    return (f"{clean.replaced} character{'' if one else 's'} could not be shown in this PDF's font (for example "
            f"Chinese, Japanese or Korean script, or emoji) and {'is' if one else 'are'} printed as {clean.mark}; "
            "the Markdown export keeps them.")


def to_pdf(turns: Iterable[dict], exported_at: str | None = None) -> bytes:
    """The conversation as a PDF document (A4), same content as ``to_markdown``."""
    from fpdf.enums import XPos, YPos

    pdf, family, clean = new_pdf("Conversation export")
    pdf.add_page()
    width = pdf.epw

    def room(mm: float) -> None:
        """Start a new page unless ``mm`` of space is left (keeps headings with what follows)."""
        if pdf.get_y() + mm > pdf.h - pdf.b_margin:
            pdf.add_page()

    def para(text: str, size: float = 10.5, style: str = "", color=(20, 20, 20), indent: float = 0, gap: float = 1.5):
        pdf.set_font(family, style, size)
        pdf.set_text_color(*color)
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(width - indent, size * 0.5, clean(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(gap)

    said = identity.current()
    para(said.export_title, 16, "B", (25, 45, 90), gap=2)
    para(f"Exported {exported_at or _now()}. {said.export_disclaimer}", 9, "I", (90, 90, 90), gap=4)
    items = _turns(turns)
    if not items:
        para("(No questions asked yet.)")
    for i, (question, a) in enumerate(items, start=1):
        room(40)
        pdf.set_draw_color(200, 205, 215)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())
        pdf.ln(3)
        para(f"{i}. {question}", 12.5, "B", (25, 45, 90), gap=2)
        if a.get("abstained"):
            para("Not answered from the documents.", 10.5, "B", (120, 70, 0), gap=1)
            para(a.get("message") or a.get("answer") or "", gap=4)
            continue
        para(one_line(a.get("answer", "")), gap=2)
        if a.get("notice"):
            para(f"Note: {a['notice']}", 9, "I", (120, 70, 0), gap=2)
        if a.get("citations"):
            room(30)
            para("Sources", 10.5, "B", gap=1)
            for c in a["citations"]:
                para(f"[{c['n']}] {c['title']}", 10, "B", indent=2, gap=0.5)
                para(f"{c['publisher']}, {c['display_date']} · {c['status']} · {c['location']}", 9, "",
                     (90, 90, 90), indent=2, gap=0.5)
                para(f"“{one_line(c['quote'])}”", 10, "I", (40, 40, 40), indent=6, gap=2.5)
        pdf.ln(2)
    note = replaced_note(clean)
    if note:
        room(20)
        para(note, 9, "I", (120, 70, 0), gap=2)
    return bytes(pdf.output())


def write_pdf(turns: Iterable[dict], path: str | Path) -> Path:
    path = Path(path)
    path.write_bytes(to_pdf(turns))
    return path
