"""File → text, by file type (txt, md, pdf, docx, html). Raises ``LoadError`` with a plain message.

Every loader returns text with paragraphs separated by blank lines; cleaning happens afterwards.
Nothing a reader sees is left out: a Word document's page headers, paragraphs and tables (row by row)
come in reading order, and so does every block of an HTML page, whatever element holds it. What no
reader reads is left out: data URIs and other long runs without a space (an embedded image's base64)
would otherwise be indexed, and quoted, as a "sentence"; and what no reader of an HTML page sees (``hidden``,
``display: none``, ``visibility: hidden``, ``aria-hidden``, ``<template>``, ``<noscript>``, scripts and
styles), which could otherwise be quoted as if the page said it (issue 30).
"""
from __future__ import annotations

import codecs
import errno
import logging
import os
import re
import stat
import zipfile
from pathlib import Path
from typing import BinaryIO

from ..errors import LoadError
from ..safety.inputs import shown

logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings about damaged files are ours to word

MAX_DOCX_UNCOMPRESSED = 50 * 1024 * 1024  # refuse zip bombs dressed as .docx
MAX_DOCX_ENTRIES = 5000
MAX_PDF_PAGES = 5000
MAX_TOKEN_CHARS = 100  # a run this long with no space is data, not prose (the corpus's longest is a 47-character URL)

_DATA_URI = re.compile(r"\bdata:[\w.+-]+/[\w.+-]+[^\s\"'<>)]*", re.I)
_LONG_RUN = re.compile(r"\S{%d,}" % (MAX_TOKEN_CHARS + 1))


def check_file(path: Path, max_bytes: int | None = None, name: str | None = None) -> int:
    """Cheap checks before a file is copied or parsed: type, existence, kind of file, size.
    Returns the size in bytes; raises ``LoadError`` with a plain message."""
    path = Path(path)
    name = name or shown(path.name)
    suffix = path.suffix.lower()
    if suffix not in _LOADERS:
        raise LoadError(f"{name}: unsupported file type '{shown(suffix) or '(none)'}'; use .txt, .md, .pdf, .docx or .html.")
    try:
        st = path.lstat()  # a link is refused, not followed: it could point anywhere (/etc/passwd)
    except FileNotFoundError:
        raise LoadError(f"{name}: file not found.") from None
    except OSError as exc:
        raise LoadError(f"{name}: cannot be read ({exc.strerror or exc.__class__.__name__}).") from None
    if stat.S_ISLNK(st.st_mode):
        raise LoadError(_LINK_MESSAGE.format(name=name))
    if stat.S_ISDIR(st.st_mode):
        raise LoadError(f"{name}: is a folder, not a file.")
    if not stat.S_ISREG(st.st_mode):
        raise LoadError(f"{name}: not a regular file (a device, pipe or socket).")
    if st.st_size == 0:
        raise LoadError(f"{name}: the file is empty.")
    if max_bytes is not None and st.st_size > max_bytes:
        raise LoadError(f"{name}: {st.st_size / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit.")
    return st.st_size


_LINK_MESSAGE = ("{name}: is a symbolic link (a shortcut to another file); links are not followed, so a "
                 "document is only ever the file named. Use the file itself.")


def open_regular(path: Path, name: str | None = None) -> BinaryIO:
    """Open ``path`` for reading only if it is a regular file and not a link, in one step, so it
    cannot be swapped for a link between a check and the read. Raises ``LoadError``."""
    name = name or shown(Path(path).name)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)  # O_NONBLOCK: a named pipe must not hang the open
    except FileNotFoundError:
        raise LoadError(f"{name}: file not found.") from None
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):  # O_NOFOLLOW met a link (Linux, BSD)
            raise LoadError(_LINK_MESSAGE.format(name=name)) from None
        raise LoadError(f"{name}: cannot be read ({exc.strerror or exc.__class__.__name__}).") from None
    f = os.fdopen(fd, "rb")
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        f.close()
        raise
    if not stat.S_ISREG(mode):
        f.close()
        raise LoadError(f"{name}: is a folder, not a file." if stat.S_ISDIR(mode)
                        else f"{name}: not a regular file (a device, pipe or socket).")
    return f


def load_text(path: Path, max_bytes: int | None = None, max_chars: int | None = None, name: str | None = None) -> str:
    """Read ``path`` and return its text; the error message names the file (``name``) and the problem.

    Parsers of untrusted files can fail in many ways; any failure becomes a ``LoadError``.
    """
    path = Path(path)
    name = name or shown(path.name)
    check_file(path, max_bytes, name)
    try:
        with open_regular(path, name) as f:
            data = f.read() if max_bytes is None else f.read(max_bytes + 1)
    except OSError as exc:
        raise LoadError(f"{name}: cannot be read ({exc.strerror or exc}).") from None
    if max_bytes is not None and len(data) > max_bytes:  # it grew since it was checked
        raise LoadError(f"{name}: {len(data) / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit.")
    try:
        extracted = _LOADERS[path.suffix.lower()](name, data)
        text = drop_non_prose(extracted)
    except LoadError:
        raise
    except MemoryError:
        raise LoadError(f"{name}: too large to read safely.") from None
    except Exception as exc:  # RecursionError, zlib.error, struct.error, ... from a damaged file
        raise LoadError(f"{name}: the file is damaged and cannot be read ({exc.__class__.__name__}).") from None
    if not text.strip():
        if extracted.strip():
            raise LoadError(f"{name}: the file holds only encoded data (long runs of characters with no spaces), "
                            "no readable text.")
        raise LoadError(f"{name}: no text could be extracted (is it a scanned image?).")
    if max_chars is not None and len(text) > max_chars:
        raise LoadError(f"{name}: {len(text):,} characters of text is over the {max_chars:,} limit for one "
                        "document; split it into smaller documents.")
    return text


def drop_non_prose(text: str) -> str:
    """``text`` without data URIs and runs of more than ``MAX_TOKEN_CHARS`` characters with no space
    (base64, hex dumps, minified code): nobody reads them, and as "sentences" they would be indexed,
    retrieved and quoted. Spaces around a removed run are tidied; line breaks are kept."""
    if not _DATA_URI.search(text) and not _LONG_RUN.search(text):
        return text  # the usual case: nothing to do, the text is returned unchanged
    text = _LONG_RUN.sub("", _DATA_URI.sub("", text))
    return "\n".join(re.sub(r"[ \t]{2,}", " ", line).strip() if line.strip() else "" for line in text.split("\n"))


def _decode(name: str, data: bytes) -> str:
    for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):  # Windows "Unicode" text
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                raise LoadError(f"{name}: the text is not valid UTF-16; save it as UTF-8 and add it again.") from None
    if b"\x00" in data[:4096]:
        raise LoadError(f"{name}: this looks like a binary file, not text.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LoadError(f"{name}: the text is not UTF-8; save it as UTF-8 and add it again.") from None


def _load_txt(name: str, data: bytes) -> str:
    return _decode(name, data)


_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.M)
_MD_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")


def _load_md(name: str, data: bytes) -> str:
    text = _decode(name, data)
    text = _MD_HEADING.sub("", text)
    text = _MD_LINK.sub(r"\1", text)
    return _MD_EMPHASIS.sub(r"\2", text)


def _load_pdf(name: str, data: bytes) -> str:
    import io

    from pypdf import PdfReader

    if not data.startswith(b"%PDF"):
        raise LoadError(f"{name}: not a PDF file (the content does not match the .pdf extension).")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not _open_without_password(reader):
            raise LoadError(f"{name}: the PDF is password-protected; remove the password and add it again.")
        if len(reader.pages) > MAX_PDF_PAGES:
            raise LoadError(f"{name}: {len(reader.pages):,} pages is over the {MAX_PDF_PAGES:,}-page limit.")
        pages = [page.extract_text() or "" for page in reader.pages]
    except LoadError:
        raise
    except Exception as exc:  # pypdf raises many kinds on damaged files
        kind = "password-protected or encrypted" if "decrypt" in str(exc).lower() else "damaged"
        raise LoadError(f"{name}: the PDF is {kind} and cannot be read ({exc.__class__.__name__}).") from None
    # pypdf keeps the page's line breaks; a line that ends a sentence-less fragment joins the next.
    return "\n\n".join(_reflow_pdf_page(p) for p in pages)


def _open_without_password(reader) -> bool:
    """Many PDFs are encrypted with an empty user password (only printing or copying restricted)."""
    try:
        return bool(reader.decrypt(""))
    except Exception:  # e.g. AES without the optional cryptography package
        return False


def _reflow_pdf_page(text: str) -> str:
    """A page's lines as paragraphs: a wrapped line joins the next, a short line ending a sentence ends its
    paragraph, and a heading (a short line with no closing punctuation, after a sentence's end and before
    a capital: "The designated well-being lead") is a paragraph of its own, never the start of the next
    sentence (pypdf gives no blank line between a heading and the paragraph under it)."""
    paragraphs, current = [], []
    lines = [line.strip() for line in text.splitlines()]
    for i, line in enumerate(lines):
        if not line:
            if current:
                paragraphs.append(" ".join(current))
                current = []
            continue
        after = next((x for x in lines[i + 1:] if x), "")
        if (len(line) < 60 and not re.search(r"[.!?:;,”\"-]$", line) and after[:1].isupper()
                and (not current or re.search(r"[.!?”\"]$", current[-1]))):
            if current:
                paragraphs.append(" ".join(current))
                current = []
            paragraphs.append(line)
            continue
        current.append(line)
        if re.search(r"[.!?:”\"]$", line) and len(line) < 60:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return "\n\n".join(paragraphs)


def _load_docx(name: str, data: bytes) -> str:
    import io

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_DOCX_ENTRIES:
                raise LoadError(f"{name}: the document holds {len(infos):,} parts; refused as unsafe.")
            total = sum(info.file_size for info in infos)
            if total > MAX_DOCX_UNCOMPRESSED:
                raise LoadError(f"{name}: the document expands to {total / 1e6:.0f} MB; refused as unsafe.")
            if "word/document.xml" not in zf.namelist():
                raise LoadError(f"{name}: not a Word document (no word/document.xml inside).")
    except zipfile.BadZipFile:
        raise LoadError(f"{name}: not a valid .docx file (it is not a zip archive).") from None
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many kinds on malformed XML
        raise LoadError(f"{name}: the Word document is damaged ({exc.__class__.__name__}).") from None
    blocks = _docx_headers(document) + list(_docx_blocks(document))
    return "\n\n".join(b for b in blocks if b.strip())


def _docx_headers(document) -> list[str]:
    """The distinct page-header text of every section (a school's or policy's name is often only there),
    once, before the body. Footers (page numbers, file paths) are left out."""
    seen: list[str] = []
    for section in document.sections:
        for header in (section.first_page_header, section.header, section.even_page_header):
            if header.is_linked_to_previous:
                continue
            for block in _docx_blocks(header):
                if block.strip() and block not in seen:
                    seen.append(block)
    return seen


def _docx_blocks(container):
    """Paragraph and table text of a document, header or table cell, in reading order."""
    from docx.table import Table

    for item in container.iter_inner_content():
        if isinstance(item, Table):
            yield from _docx_rows(item)
        elif item.text.strip():
            yield item.text


def _docx_rows(table):
    """One line per table row, its cells joined (``join_cells``); a merged cell counts once."""
    for row in table.rows:
        cells, seen = [], []
        for cell in row.cells:
            if any(cell._tc is tc for tc in seen):
                continue
            seen.append(cell._tc)
            cells.append(" ".join(" ".join(_docx_blocks(cell)).split()))
        line = join_cells(cells)
        if line:
            yield line


def join_cells(cells: list[str]) -> str:
    """A table row as one line: cells separated by " | ", or by a space after a cell that ends a
    sentence (so the next cell's sentence is a sentence of its own)."""
    out = ""
    for cell in (c.strip() for c in cells):
        if not cell:
            continue
        out = cell if not out else out + (" " if re.search(r"[.!?][”’\"')\]]*$", out) else " | ") + cell
    return out


# Elements that start a new block of text; td/th are the cells of their row (tr), joined like Word's.
_BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details", "dialog", "div",
    "dl", "dt", "fieldset", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "html", "legend",
    "li", "main", "ol", "p", "pre", "section", "summary", "table", "tbody", "tfoot", "thead", "tr", "ul"})
_CELL_TAGS = frozenset({"td", "th"})
_DROP_TAGS = ["head", "title", "script", "style", "nav", "header", "footer", "aside", "form", "noscript", "template"]


def _load_html(name: str, data: bytes) -> str:
    """Every text of the page in reading order, one paragraph per block element that holds text directly
    (a <div>'s own text as much as a <p>'s), a table row per line."""
    from bs4 import BeautifulSoup
    from bs4.element import CData, NavigableString, Tag

    soup = BeautifulSoup(_decode(name, data), "html.parser")
    hidden = _hidden_by_stylesheet(soup)  # read before <style> goes
    for tag in [*soup(_DROP_TAGS), *hidden, *soup.find_all(_is_hidden)]:
        if not tag.decomposed:  # a hidden tag inside one already gone
            tag.decompose()
    blocks: list[list[list[str]]] = []  # block → cells → strings
    place: dict[int, tuple] = {id(soup): (None, None)}  # tag → (its nearest block, its cell within it)
    where: tuple | None = None
    for node in soup.descendants:  # document order, parents first: one pass, whatever the nesting depth
        if isinstance(node, Tag):
            block, cell = place.get(id(node.parent), (None, None))
            place[id(node)] = (node, None) if node.name in _BLOCK_TAGS else (block, node) if node.name in _CELL_TAGS \
                else (block, cell)
            continue
        if type(node) not in (NavigableString, CData) or not node.strip():
            continue  # comments, doctype, processing instructions; white space between tags
        block, cell = place.get(id(node.parent), (None, None))
        if where is None or where[0] is not block:
            blocks.append([[]])
        elif where[1] is not cell:
            blocks[-1].append([])
        where = (block, cell)
        blocks[-1][-1].append(node.strip())
    lines = [join_cells([" ".join(strings) for strings in cells]) for cells in blocks]
    return "\n\n".join(line for line in lines if line)


_HIDING = re.compile(r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*(?:hidden|collapse))\s*(?:!\s*important\s*)?(?:;|$)", re.I)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_CSS_AT_BLOCK = re.compile(r"@[^{;]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}")  # @media print { ... }: not what a screen shows
_CSS_RULE = re.compile(r"([^{}@;]+)\{([^{}]*)\}")


def _is_hidden(tag) -> bool:
    """An element a reader of the page never sees: ``hidden`` (not "until-found", which the browser's find
    opens), ``aria-hidden="true"``, or an inline style of ``display: none`` or ``visibility: hidden``."""
    hidden = tag.get("hidden")
    if hidden is not None and str(hidden).strip().lower() != "until-found":
        return True
    if str(tag.get("aria-hidden") or "").strip().lower() == "true":
        return True
    return bool(_HIDING.search(_CSS_COMMENT.sub("", str(tag.get("style") or ""))))


def _hidden_by_stylesheet(soup) -> list:
    """Elements that a rule of the page's own ``<style>`` hides (``.note { display: none }``): the
    rule's selectors matched by soupsieve; a selector it cannot read is passed over."""
    found = []
    for style in soup("style"):
        css = _CSS_AT_BLOCK.sub("", _CSS_COMMENT.sub("", style.get_text()))
        for selectors, body in _CSS_RULE.findall(css):
            if _HIDING.search(body.strip()):
                try:
                    found += soup.select(selectors.strip())
                except Exception:  # soupsieve: an unsupported or malformed selector
                    continue
    return found


_LOADERS = {".txt": _load_txt, ".md": _load_md, ".pdf": _load_pdf, ".docx": _load_docx,
            ".html": _load_html, ".htm": _load_html}
