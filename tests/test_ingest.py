"""Loading, page-furniture removal, chunk offsets: on the real corpus and real files of each type."""
from __future__ import annotations

import zipfile

import pytest

from assistant.library.chunking import chunk_document, split_sentences
from assistant.library.cleaning import clean
from assistant.errors import LoadError
from assistant.library.loaders import load_text
from assistant.library.sources import Manifest

from conftest import CORPUS, FURNITURE


def test_manifest_has_accurate_metadata_for_every_seed():
    sources = {s.id: s for s in Manifest(CORPUS).sources()}
    assert len(sources) == 5
    letter = sources["dcsf-2008-07-03-letter"]
    assert letter.date == "2008-07-03" and not letter.date_approximate
    assert letter.status == "proposal under consultation" and letter.concerns_proposals
    for s in sources.values():
        assert s.title and s.publisher and s.kind and s.label
        assert s.date.startswith("2008")
        if s.publisher == "Community Care":
            assert s.kind == "news report" and s.date_approximate and s.display_date.startswith("c. ")
        assert "enacted" not in s.status  # none of these texts is law in force


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.txt")), ids=lambda p: p.stem)
def test_furniture_removed_and_sentences_kept(path):
    cleaned = clean(load_text(path))
    for junk in FURNITURE:
        assert junk.lower() not in cleaned.text.lower(), junk
    assert "Balls" not in cleaned.text.splitlines()[-1]  # no signature name as the last line
    assert len(cleaned.text) > 1000


def test_page_footer_split_paragraph_is_joined():
    text = clean(load_text(CORPUS / "dcsf-2008-07-03-letter.txt")).text
    assert "This duty currently applies to local authorities, Primary Care Trusts and other strategic partners." in text
    assert "fulfil their potential and get the good qualifications they need." in text


def test_chunk_and_sentence_offsets_round_trip():
    for path in CORPUS.glob("*.txt"):
        cleaned = clean(load_text(path))
        chunks = chunk_document("d", cleaned)
        assert chunks
        for chunk in chunks:
            assert cleaned.text[chunk.start:chunk.end] == chunk.text
            para = cleaned.paragraphs[chunk.paragraph - 1]
            assert para.start <= chunk.start < chunk.end <= para.end and chunk.heading == para.heading
            if chunk.heading:  # only the front matter's headings, before the first paragraph of text
                assert not any(not p.heading for p in cleaned.paragraphs[:chunk.paragraph - 1])
            if chunk.heading:  # a heading line is one chunk of one sentence: the whole line
                assert len(chunk.sentences) == 1 and chunk.text == cleaned.text[para.start:para.end].strip()
            for s in chunk.sentences:
                sentence = cleaned.text[s.start:s.end]
                assert sentence == sentence.strip() and chunk.start <= s.start < s.end <= chunk.end


def test_sentence_splitter_keeps_abbreviations_and_quotes():
    text = "Rt Hon. Ed Balls said: “Schools can’t do it alone.” They need help. See e.g. the plan."
    got = [text[s.start:s.end] for s in split_sentences(text)]
    assert got == ["Rt Hon. Ed Balls said: “Schools can’t do it alone.”", "They need help.", "See e.g. the plan."]


def test_index_holds_no_furniture(assistant):
    chunks = assistant.store.chunks.get(include=["documents"])["documents"]
    sentences = assistant.store.sentences.get(include=["documents"])["documents"]
    assert len(chunks) > 50 and len(sentences) > 90
    for text in chunks + sentences:
        for junk in FURNITURE:
            if "\n" not in junk:
                assert junk.lower() not in text.lower(), (junk, text)
        assert not text.startswith(("department for", "children, schools and families")), text


def test_index_offsets_match_stored_text(assistant):
    docs = {d.doc_id: d for d in assistant.store.documents().values()}
    for name in ("chunks", "sentences"):
        got = getattr(assistant.store, name).get(include=["documents", "metadatas"])
        for text, meta in zip(got["documents"], got["metadatas"]):
            assert docs[meta["doc_id"]].text[meta["start"]:meta["end"]] == text


# ---- loaders for each file type -------------------------------------------------------------
BODY = "Schools will have a duty to co-operate with the local authority. Governors should know this."


def _pdf_bytes(text: str) -> bytes:
    """A minimal valid one-page PDF with ``text`` in Helvetica (enough for pypdf to extract)."""
    stream = f"BT /F1 11 Tf 40 760 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def make_file(tmp_path, kind: str, text: str = BODY):
    path = tmp_path / f"policy.{kind}"
    if kind == "txt":
        path.write_text(text, "utf-8")
    elif kind == "md":
        path.write_text(f"# Our policy\n\n**{text}**\n", "utf-8")
    elif kind == "html":
        path.write_text(f"<html><head><script>alert(1)</script></head><body><nav>Home</nav><p>{text}</p>"
                        "<footer>Copyright</footer></body></html>", "utf-8")
    elif kind == "pdf":
        path.write_bytes(_pdf_bytes(text))
    elif kind == "docx":
        import docx

        d = docx.Document()
        d.add_paragraph(text)
        d.save(path)
    return path


@pytest.mark.parametrize("kind", ["txt", "md", "html", "pdf", "docx"])
def test_each_loader_extracts_the_text(tmp_path, kind):
    text = load_text(make_file(tmp_path, kind))
    assert "duty to co-operate with the local authority" in " ".join(text.split())
    assert "alert(1)" not in text and "Copyright" not in text and "#" not in text and "**" not in text


@pytest.mark.parametrize("setup,message", [
    (lambda p: p.write_bytes(b""), "empty"),
    (lambda p: p.write_bytes("caf\xe9 policy".encode("latin-1")), "not UTF-8"),
    (lambda p: p.write_bytes(b"\x00\x01binary\x00"), "binary"),
])
def test_bad_text_files_are_refused_plainly(tmp_path, setup, message):
    path = tmp_path / "bad.txt"
    setup(path)
    with pytest.raises(LoadError, match=message):
        load_text(path)


def test_corrupt_pdf_and_fake_docx_are_refused(tmp_path):
    pdf = tmp_path / "broken.pdf"
    pdf.write_bytes(b"%PDF-1.4\nthis is not really a pdf")
    with pytest.raises(LoadError, match="damaged|no text"):
        load_text(pdf)
    fake = tmp_path / "fake.docx"
    fake.write_text("plain text pretending", "utf-8")
    with pytest.raises(LoadError, match="not a valid .docx"):
        load_text(fake)
    bomb = tmp_path / "bomb.docx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", b"0" * (60 * 1024 * 1024))
    with pytest.raises(LoadError, match="refused as unsafe"):
        load_text(bomb)


def test_embedder_vectors_equal_sentence_transformers():
    """The torch runner's fast loader (transformers + mean pooling) must give the vectors SentenceTransformer gives,
    or an index built by one would be searched with the other's geometry."""
    import numpy as np
    from sentence_transformers import SentenceTransformer

    from assistant.encoders.embeddings import default_model_path, get_embedder

    texts = ["Which bodies are bound by the duty to co-operate?", "Schools Forums",
             "Children’s secretary Ed Balls yesterday proposed to place schools under a duty to co-operate. " * 12]
    ours = get_embedder(kind="sentence-transformers").encode(texts)
    reference = SentenceTransformer(str(default_model_path()), device="cpu").encode(texts, normalize_embeddings=True)
    assert ours.shape == (3, 384)
    assert np.abs(ours - reference).max() < 1e-5


def test_stemmer_joins_word_forms():
    from assistant.text import tokens

    assert tokens("close closing closed") == ["clos"] * 3
    assert tokens("co-operate co-operat")[:2] == ["cooperat", "operat"]
