"""Make policy.docx, policy.pdf and policy.html from policy.txt, the one text of the school policy.

policy.txt: "# " lines are the title, "## " lines section headings, other blocks (separated by blank
lines) paragraphs. Run ``python tests/data/school_policy/make.py`` after editing it, and commit the three
files it writes (the tests read them; they do not regenerate them). The documents' own dates are fixed:
the same text gives the same PDF and HTML bytes, and the same DOCX but for its zip entries' times.
"""
from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

HERE = Path(__file__).resolve().parent
WHEN = dt.datetime(2009, 10, 14, 9, 0, tzinfo=dt.timezone.utc)


def blocks(text: str) -> list[tuple[str, str]]:
    """[(kind, text)]: kind "title", "heading" or "para"."""
    out = []
    for block in text.split("\n\n"):
        block = " ".join(block.split())
        if not block:
            continue
        if block.startswith("## "):
            out.append(("heading", block[3:]))
        elif block.startswith("# "):
            out.append(("title", block[2:]))
        else:
            out.append(("para", block))
    return out


def make_docx(parts, path: Path) -> None:
    import docx

    d = docx.Document()
    d.core_properties.title = parts[1][1]
    d.core_properties.author = "Ashgrove Primary School"
    d.core_properties.created = d.core_properties.modified = WHEN.replace(tzinfo=None)
    d.core_properties.last_modified_by = "Ashgrove Primary School"
    d.core_properties.revision = 1
    for kind, text in parts:
        if kind == "title":
            d.add_heading(text, level=1)
        elif kind == "heading":
            d.add_heading(text, level=2)
        else:
            d.add_paragraph(text)
    d.save(str(path))


def make_pdf(parts, path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(WHEN)
    pdf.set_title(parts[1][1])
    pdf.set_author("Ashgrove Primary School")
    pdf.set_margins(22, 20, 22)
    pdf.add_page()
    for kind, text in parts:
        if kind == "title":
            pdf.set_font("Helvetica", "B", 16)
            pdf.multi_cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
        elif kind == "heading":
            pdf.ln(3)
            pdf.set_font("Helvetica", "B", 12)
            pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        else:
            pdf.set_font("Helvetica", "", 11)
            pdf.multi_cell(0, 5.5, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
    pdf.output(str(path))


def make_html(parts, path: Path) -> None:
    body = []
    for kind, text in parts:
        tag = {"title": "h1", "heading": "h2", "para": "p"}[kind]
        body.append(f"<{tag}>{html.escape(text, quote=False)}</{tag}>")
    page = ("<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(parts[1][1])}</title>\n</head>\n<body>\n<main>\n"
            + "\n".join(body) + "\n</main>\n</body>\n</html>\n")
    path.write_text(page, "utf-8")


def main() -> None:
    parts = blocks((HERE / "policy.txt").read_text("utf-8"))
    make_docx(parts, HERE / "policy.docx")
    make_pdf(parts, HERE / "policy.pdf")
    make_html(parts, HERE / "policy.html")


if __name__ == "__main__":
    main()
