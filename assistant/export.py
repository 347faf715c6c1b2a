"""Export a conversation, with its citations and quotes, as Markdown or PDF.

A conversation is a list of turns ``{"question": str, "answer": Answer | dict}`` (the answer as
``Answer`` or its ``model_dump()``), oldest first.

    from assistant.export import to_markdown, write_markdown, write_pdf
    write_markdown(turns, "conversation.md")
    write_pdf(turns, "conversation.pdf")

PDF uses ``fpdf2`` (pure Python) with DejaVu Sans when it can find it (system fonts or matplotlib's
copy), so curly quotes and dashes print; without it, the built-in Helvetica with plain punctuation.
"""
from __future__ import annotations

import datetime as dt
import importlib.util
import re
from pathlib import Path
from typing import Iterable

from .errors import AssistantError

TITLE = "Children's trusts and pupils' well-being: 2008 proposals assistant"
DISCLAIMER = ("Answers are sentences quoted word for word from the library's documents, which date from 2008 and "
              "describe proposals and reactions to them, not the law in force today. This is not legal advice.")


def _answer(turn: dict) -> dict:
    a = turn.get("answer") or {}
    return a.model_dump() if hasattr(a, "model_dump") else dict(a)


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def _now() -> str:
    return dt.datetime.now().astimezone().strftime("%d %B %Y, %H:%M")


def _turns(turns: Iterable[dict]) -> list[tuple[str, dict]]:
    return [(_one_line(t.get("question") or _answer(t).get("question", "")), _answer(t))
            for t in turns if t.get("answer")]


def to_markdown(turns: Iterable[dict], exported_at: str | None = None) -> str:
    """The conversation as Markdown: each question, the quoted answer with [n], then its sources."""
    out = [f"# {TITLE}", "", f"*Exported {exported_at or _now()}.* {DISCLAIMER}", ""]
    items = _turns(turns)
    if not items:
        out += ["(No questions asked yet.)", ""]
    for i, (question, a) in enumerate(items, start=1):
        out += [f"## {i}. {_md_inline(question)}", ""]
        if a.get("abstained"):
            out += [f"**Not answered from the documents.** {_md_inline(a.get('message') or a.get('answer') or '')}", ""]
            continue
        out += [_md_inline(_one_line(a.get("answer", ""))), ""]
        if a.get("notice"):
            out += [f"*Note: {_md_inline(a['notice'])}*", ""]
        if a.get("citations"):
            out += ["**Sources**", ""]
            for c in a["citations"]:
                out.append(f"{c['n']}. **{_md_inline(c['title'])}** — {_md_inline(c['publisher'])}, "
                           f"{c['display_date']} · {_md_inline(c['status'])} · {c['location']}  ")
                out.append(f"   > “{_md_inline(_one_line(c['quote']))}”")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def _md_inline(text: str) -> str:
    """Keep user and document text from turning into Markdown markup (headings, links, emphasis)."""
    return re.sub(r"([\\`*_<>|])", r"\\\1", text or "")


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


def to_pdf(turns: Iterable[dict], exported_at: str | None = None) -> bytes:
    """The conversation as a PDF document (A4), same content as ``to_markdown``."""
    try:
        from fpdf import FPDF
        from fpdf.enums import XPos, YPos
    except ImportError:  # pragma: no cover - fpdf2 is a dependency
        raise AssistantError("PDF export needs the fpdf2 package: pip install fpdf2") from None

    pdf = FPDF(format="A4")
    pdf.set_title("Conversation export")
    pdf.set_creator("wellbeing-duties-assistant")
    pdf.set_auto_page_break(True, margin=18)
    pdf.set_margins(18, 18, 18)
    fonts = _font_dir()
    if fonts:
        for style, name in _FONT_FILES.items():
            pdf.add_font("body", style, str(fonts / name))
        family, clean = "body", (lambda s: s or "")
    else:
        family = "helvetica"
        clean = lambda s: (s or "").translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")  # noqa: E731

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

    para(TITLE, 16, "B", (25, 45, 90), gap=2)
    para(f"Exported {exported_at or _now()}. {DISCLAIMER}", 9, "I", (90, 90, 90), gap=4)
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
        para(_one_line(a.get("answer", "")), gap=2)
        if a.get("notice"):
            para(f"Note: {a['notice']}", 9, "I", (120, 70, 0), gap=2)
        if a.get("citations"):
            room(30)
            para("Sources", 10.5, "B", gap=1)
            for c in a["citations"]:
                para(f"[{c['n']}] {c['title']}", 10, "B", indent=2, gap=0.5)
                para(f"{c['publisher']}, {c['display_date']} · {c['status']} · {c['location']}", 9, "",
                     (90, 90, 90), indent=2, gap=0.5)
                para(f"“{_one_line(c['quote'])}”", 10, "I", (40, 40, 40), indent=6, gap=2.5)
        pdf.ln(2)
    return bytes(pdf.output())


def write_pdf(turns: Iterable[dict], path: str | Path) -> Path:
    path = Path(path)
    path.write_bytes(to_pdf(turns))
    return path
