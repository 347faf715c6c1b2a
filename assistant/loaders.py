"""File → text, by file type (txt, md, pdf, docx, html). Raises ``LoadError`` with a plain message.

Every loader returns text with paragraphs separated by blank lines; cleaning happens afterwards.
"""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

from .errors import LoadError

MAX_DOCX_UNCOMPRESSED = 50 * 1024 * 1024  # refuse zip bombs dressed as .docx


def load_text(path: Path, max_bytes: int | None = None) -> str:
    """Read ``path`` and return its text; the error message names the file and the problem."""
    path = Path(path)
    if not path.exists():
        raise LoadError(f"{path.name}: file not found.")
    if not path.is_file():
        raise LoadError(f"{path.name}: not a regular file.")
    size = path.stat().st_size
    if size == 0:
        raise LoadError(f"{path.name}: the file is empty.")
    if max_bytes is not None and size > max_bytes:
        raise LoadError(f"{path.name}: {size / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit.")
    suffix = path.suffix.lower()
    loader = _LOADERS.get(suffix)
    if loader is None:
        raise LoadError(f"{path.name}: unsupported file type '{suffix or '(none)'}'; use .txt, .md, .pdf, .docx or .html.")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"{path.name}: cannot be read ({exc.strerror or exc}).") from None
    text = loader(path.name, data)
    if not text.strip():
        raise LoadError(f"{path.name}: no text could be extracted (is it a scanned image?).")
    return text


def _decode(name: str, data: bytes) -> str:
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
    from pypdf.errors import PdfReadError

    if not data.startswith(b"%PDF"):
        raise LoadError(f"{name}: not a PDF file (the content does not match the .pdf extension).")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise LoadError(f"{name}: the PDF is password-protected; remove the password and add it again.")
        pages = [page.extract_text() or "" for page in reader.pages]
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise LoadError(f"{name}: the PDF is damaged and cannot be read ({exc.__class__.__name__}).") from None
    # pypdf keeps the page's line breaks; a line that ends a sentence-less fragment joins the next.
    return "\n\n".join(_reflow_pdf_page(p) for p in pages)


def _reflow_pdf_page(text: str) -> str:
    paragraphs, current = [], []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            if current:
                paragraphs.append(" ".join(current))
                current = []
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
            total = sum(info.file_size for info in zf.infolist())
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
    return "\n\n".join(p.text for p in document.paragraphs if p.text.strip())


_BLOCK_TAGS = ["p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "td", "th", "pre", "dd", "dt"]


def _load_html(name: str, data: bytes) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(name, data), "html.parser")
    for tag in soup(["script", "style", "nav", "header", "footer", "aside", "form", "noscript", "template"]):
        tag.decompose()
    blocks = [el.get_text(" ", strip=True) for el in soup.find_all(_BLOCK_TAGS)
              if not el.find_parent(_BLOCK_TAGS)]
    if not any(blocks):
        blocks = [soup.get_text("\n", strip=True)]
    return "\n\n".join(b for b in blocks if b)


_LOADERS = {".txt": _load_txt, ".md": _load_md, ".pdf": _load_pdf, ".docx": _load_docx,
            ".html": _load_html, ".htm": _load_html}
