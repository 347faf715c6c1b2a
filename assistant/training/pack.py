"""The governor training pack: a short summary of each duty, the quiz, and the answers with their
quoted sources, as Markdown and PDF (fpdf2, the same fonts as the conversation export).

Every statement in the pack is a quoted sentence with its source; the only other words are field
labels, the questions' framing and the disclaimer.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from .. import identity
from .duties import DutyCard, GlossaryEntry
from ..errors import InputError
from ..export import md_inline, one_line, new_pdf, replaced_note
from .quiz import Question

LETTERS = "ABCDEFGH"


def _source(q) -> str:
    return f"{q.label}; {q.status}; {q.location}"


def _sources(cards: list[DutyCard], questions: list[Question], glossary) -> list:
    """Each cited document once, in label order, for the pack's list of sources."""
    quotes = [q.citation for q in questions] + [c for card in cards for c in card.quotes()]
    quotes += [line.citation for g in glossary or [] for line in g.lines]
    return sorted({q.doc_id: q for q in quotes}.values(), key=lambda q: q.label)


def _full(q) -> str:
    return f"{q.label}: {q.title}. {q.publisher}, {q.display_date}. Status: {q.status}."


def _choices(q: Question) -> list[str]:
    return [f"{LETTERS[i]}. {c}" for i, c in enumerate(q.choices)]


def _heading(topic_name: str | None, seed: int, prepared: str) -> str:
    return f"Prepared {prepared}. Topic: {topic_name or 'all duties'}. Quiz number {seed} (the same number gives the same questions)."


def to_markdown(cards: list[DutyCard], questions: list[Question], topic_name: str | None = None, seed: int = 1,
                prepared: str | None = None, glossary: list[GlossaryEntry] | None = None) -> str:
    prepared = prepared or dt.date.today().strftime("%d %B %Y")
    said = identity.current()  # the library's title and notice (corpus/library.toml)
    out = [f"# {said.pack_title}", "", f"*{_heading(topic_name, seed, prepared)}*", "", f"**{said.training_notice}**", "",
           "## Part 1. The duties in brief", ""]
    for card in cards:
        out += [f"### {md_inline(card.name)}", ""]
        if card.badges:
            out += ["Status: " + "; ".join(md_inline(b.label) for b in card.badges), ""]
        for f in card.fields:
            if not f.lines:  # no sentence does this field's job on its own: say so (its note), if anything
                out += [f"- **{md_inline(f.label)}:** *{md_inline(f.note)}*  "] if f.note else []
                continue
            line = f.lines[0]
            label = f.label + (f" ({line.level or line.tag})" if (line.level or line.tag) else "")
            out.append(f"- **{md_inline(label)}:** “{md_inline(one_line(line.citation.quote))}”  ")
            out.append(f"  *{md_inline(_source(line.citation))}*")
        out.append("")
    out += ["## Part 2. Quiz", ""]
    if not questions:
        out += ["(No questions for this topic.)", ""]
    for q in questions:
        kind = "True or false" if q.kind == "true_false" else "Multiple choice"
        out += [f"**{q.number}.** *({kind})* {md_inline(q.question)}", ""]
        out += [f"   - {md_inline(c)}" for c in _choices(q)]
        out.append("")
    out += ["## Part 3. Answers and sources", ""]
    for q in questions:
        out.append(f"**{q.number}. {LETTERS[q.answer_index]}. {md_inline(q.answer)}** — {md_inline(q.explanation)}  ")
        out.append(f"   > “{md_inline(one_line(q.citation.quote))}”  ")
        out.append(f"   > — {md_inline(_source(q.citation))}")
        out.append("")
    if glossary:
        out += ["## Part 4. Glossary", ""]
        for g in glossary:
            out.append(f"- **{md_inline(g.term)}**  ")
            for line in g.lines:
                out.append(f"  “{md_inline(one_line(line.citation.quote))}” *({md_inline(_source(line.citation))})*  ")
            if g.note:
                out.append(f"  *{md_inline(g.note)}*  ")
        out.append("")
    out += ["## Sources", ""]
    out += [f"- {md_inline(_full(q))}" for q in _sources(cards, questions, glossary)]
    out.append("")
    return "\n".join(out).rstrip() + "\n"


def to_pdf(cards: list[DutyCard], questions: list[Question], topic_name: str | None = None, seed: int = 1,
           prepared: str | None = None, glossary: list[GlossaryEntry] | None = None) -> bytes:
    """The same content as ``to_markdown``, as an A4 PDF."""
    pdf, family, clean = new_pdf("Governor training pack")
    from fpdf.enums import XPos, YPos

    prepared = prepared or dt.date.today().strftime("%d %B %Y")
    pdf.add_page()
    width = pdf.epw
    navy, grey, ink, amber = (25, 45, 90), (90, 90, 90), (20, 20, 20), (120, 70, 0)

    def room(mm: float) -> None:
        if pdf.get_y() + mm > pdf.h - pdf.b_margin:
            pdf.add_page()

    def para(text: str, size: float = 10.5, style: str = "", color=ink, indent: float = 0, gap: float = 1.5):
        pdf.set_font(family, style, size)
        pdf.set_text_color(*color)
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(width - indent, size * 0.5, clean(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(gap)

    def rule() -> None:
        pdf.set_draw_color(200, 205, 215)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())
        pdf.ln(3)

    said = identity.current()
    para(said.pack_title, 16, "B", navy, gap=2)
    para(_heading(topic_name, seed, prepared), 9, "I", grey, gap=1)
    para(said.training_notice, 9.5, "B", amber, gap=5)
    para("Part 1. The duties in brief", 14, "B", navy, gap=3)
    for card in cards:
        room(45)
        rule()
        para(card.name, 12.5, "B", navy, gap=1)
        if card.badges:
            para("Status: " + "; ".join(b.label for b in card.badges), 9.5, "I", amber, gap=2)
        for f in card.fields:
            if not f.lines and not f.note:
                continue
            room(22)
            line = f.lines[0] if f.lines else None
            label = f.label + (f" ({line.level or line.tag})" if line and (line.level or line.tag) else "")
            para(label, 10, "B", indent=2, gap=0.5)
            if line is None:
                para(f.note, 9.5, "I", grey, indent=6, gap=2)
                continue
            para(f"“{one_line(line.citation.quote)}”", 10, "I", (40, 40, 40), indent=6, gap=0.5)
            para(_source(line.citation), 8.5, "", grey, indent=6, gap=2)
    pdf.add_page()
    para("Part 2. Quiz", 14, "B", navy, gap=3)
    if not questions:
        para("(No questions for this topic.)")
    for q in questions:
        room(30)
        kind = "True or false" if q.kind == "true_false" else "Multiple choice"
        para(f"{q.number}. ({kind}) {q.question}", 10.5, "B", gap=1)
        for c in _choices(q):
            para(c, 10.5, indent=6, gap=0.5)
        pdf.ln(3)
    pdf.add_page()
    para("Part 3. Answers and sources", 14, "B", navy, gap=3)
    for q in questions:
        room(28)
        para(f"{q.number}. {LETTERS[q.answer_index]}. {q.answer}: {q.explanation}", 10.5, "B", gap=0.5)
        para(f"“{one_line(q.citation.quote)}”", 10, "I", (40, 40, 40), indent=6, gap=0.5)
        para(_source(q.citation), 8.5, "", grey, indent=6, gap=3)
    if glossary:
        pdf.add_page()
        para("Part 4. Glossary", 14, "B", navy, gap=3)
        for g in glossary:
            room(25)
            para(g.term, 10.5, "B", gap=0.5)
            for line in g.lines:
                para(f"“{one_line(line.citation.quote)}”", 10, "I", (40, 40, 40), indent=6, gap=0.5)
                para(_source(line.citation), 8.5, "", grey, indent=6, gap=2)
            if g.note:
                para(g.note, 9.5, "I", grey, indent=6, gap=2)
    room(30)
    pdf.ln(4)
    para("Sources", 14, "B", navy, gap=3)
    for q in _sources(cards, questions, glossary):
        para(_full(q), 9.5, gap=1.5)
    note = replaced_note(clean)
    if note:
        para(note, 9, "I", amber, gap=2)
    return bytes(pdf.output())


def write_pack(out_dir: Path | str, cards: list[DutyCard], questions: list[Question], topic: str | None = None,
               topic_name: str | None = None, seed: int = 1, glossary: list[GlossaryEntry] | None = None) -> dict:
    """Write ``training-pack[-topic]-seedN.md`` and ``.pdf`` into ``out_dir`` (created if needed)."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise InputError(f"{out} exists and is not a folder; give a folder for the training pack.") from None
    except OSError as exc:
        raise InputError(f"Cannot create the folder {out}: {exc.strerror or exc}.") from None
    stem = f"training-pack{'-' + topic if topic else ''}-seed{seed}"
    md, pdf = out / f"{stem}.md", out / f"{stem}.pdf"
    try:
        md.write_text(to_markdown(cards, questions, topic_name, seed, glossary=glossary), "utf-8")
        pdf.write_bytes(to_pdf(cards, questions, topic_name, seed, glossary=glossary))
    except OSError as exc:
        raise InputError(f"Cannot write the training pack into {out}: {exc.strerror or exc}.") from None
    return {"markdown": str(md), "pdf": str(pdf), "questions": len(questions), "duties": len(cards),
            "topic": topic, "seed": seed}
