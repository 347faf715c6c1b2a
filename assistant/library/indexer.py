"""Incremental indexing by content hash: unchanged documents are skipped, changed ones replaced,
removed ones deleted. Each document is swapped in atomically (see ``store``), so a failure part-way
leaves the previous index usable."""
from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from tqdm import tqdm

from .. import identity
from ..config import Settings
from ..encoders.embeddings import Embedder
from ..errors import LoadError, StoreError
from . import bank as bank_data
from .ingest import Document, ingest, raw_hash
from .sources import Source, corpus_file
from .store import Store

@dataclass
class IndexReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    passages: int = 0
    sentences: int = 0
    seconds: float = 0.0
    bank_added: int = 0  # bank questions embedded and stored (bank.py)
    bank_removed: int = 0
    bank_size: int = 0
    bank_problems: list[str] = field(default_factory=list)  # "file:line: ...": anchors that match no sentence

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        parts = [f"{len(self.added)} added", f"{len(self.updated)} updated", f"{len(self.unchanged)} unchanged",
                 f"{len(self.removed)} removed"]
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        bank = f"; question bank {self.bank_size} (+{self.bank_added} −{self.bank_removed})" if (
            self.bank_size or self.bank_removed) else ""
        return ", ".join(parts) + (f" ({self.passages} passages, {self.sentences} sentences embedded, "
                                   f"{self.seconds:.2f} s{bank})")


def source_meta(source: Source, doc: Document | None = None) -> dict:
    meta = source.model_dump(exclude={"id"})
    if doc is not None:
        meta.update(n_passages=len(doc.chunks), n_sentences=sum(len(c.sentences) for c in doc.chunks))
    return meta


def sync(store: Store, embedder: Embedder, settings: Settings, sources: list[Source],
         progress: bool = False, log: Callable[[str], None] | None = None) -> IndexReport:
    """Bring the index in line with ``sources``. A document that fails to load is reported and
    left as it was in the index (its previous version, if any, stays live). ``log`` gets one line
    per document once it is live (``assistant index --verbose``)."""
    started = time.perf_counter()
    report = IndexReport()
    indexed = store.documents(with_text=False)
    wanted = {s.id for s in sources}
    todo: list[tuple[Source, str]] = []
    library = identity.of_settings(settings)  # its publishers' page furniture (corpus/library.toml)
    for source in sources:
        record = indexed.get(source.id)
        try:  # a link (or a folder link on the way) is refused here, before anything is read
            digest = raw_hash(corpus_file(settings.corpus_dir, source.file), embedder.name, library.furniture_key)
        except LoadError as exc:
            report.failed[source.id] = str(exc)
            continue
        except OSError as exc:
            report.failed[source.id] = f"{source.file}: cannot be read ({exc.strerror or exc})."
            continue
        if record and record.raw_hash == digest:
            if {k: record.meta.get(k) for k in source_meta(source)} != source_meta(source):
                store.update_meta(record, {**record.meta, **source_meta(source)})
            report.unchanged.append(source.id)
        else:
            todo.append((source, digest))
    bar = tqdm(total=len(todo), desc="indexing", unit="doc", disable=not progress or not todo)
    group: list[Document] = []
    for number, (source, _) in enumerate(todo, start=1):
        record = indexed.get(source.id)
        try:
            doc = ingest(source, settings.corpus_dir, embedder.name, settings.max_upload_bytes,
                         settings.max_document_chars, library=library)
        except LoadError as exc:
            report.failed[source.id] = str(exc)
            if log:
                log(f"failed {source.id} ({number}/{len(todo)})")
            bar.update()
            continue
        if record and record.version == doc.version:  # bytes changed, text did not
            store.publish(source.id, doc.version, doc.raw_hash, doc.clean.text,
                          _doc_vector(store, source.id, doc.version), {**source_meta(source, doc), "encoder": embedder.name})
            report.unchanged.append(source.id)
            if log:
                log(f"unchanged {source.id} ({number}/{len(todo)})")
            bar.update()
            continue
        group.append(doc)
        # Documents are embedded in groups: one encode call over many documents' sentences runs in
        # full, length-sorted batches (per-document calls ran at half the model's speed).
        if sum(len(c.sentences) for d in group for c in d.chunks) >= settings.index_group_sentences:
            _check_free_space(settings, number - len(group), len(todo))
            _flush(store, embedder, group, indexed, report, bar, log, number, len(todo))
            group = []
    if group:
        _check_free_space(settings, len(todo) - len(group), len(todo))
    _flush(store, embedder, group, indexed, report, bar, log, len(todo), len(todo))
    bar.close()
    for doc_id in sorted(set(indexed) - wanted):
        store.unpublish(doc_id)
        report.removed.append(doc_id)
    records = store.documents(with_text=False)
    if report.changed or not _counts_match(store, records):  # orphans of an interrupted run show in the counts
        store.collect_garbage({d.doc_id: d.version for d in records.values()})
    sync_bank(store, embedder, settings, report, records)
    report.seconds = time.perf_counter() - started
    return report


def live_sentence_keys(store: Store, records: dict | None = None) -> set[str]:
    """The bank keys (``bank.sentence_key``) of every live sentence."""
    records = store.documents(with_text=False) if records is None else records
    got = store.live_records(store.sentences, {r.version for r in records.values()}, ["metadatas", "documents"])
    return {bank_data.sentence_key(t) for t in got["documents"]}


def sync_bank(store: Store, embedder: Embedder, settings: Settings, report: IndexReport | None = None,
              records: dict | None = None) -> IndexReport:
    """Bring the bank collection in line with ``corpus/bank/*.toml``: new questions embedded, gone ones
    deleted (rows are keyed by question and anchors, so unchanged ones are not re-embedded). Anchors that
    match no live sentence and files that do not parse go into ``report.bank_problems``."""
    report = report or IndexReport()
    bank = bank_data.load(settings.corpus_dir)
    report.bank_problems += bank.problems + bank_data.unresolved(bank, live_sentence_keys(store, records))
    rows = bank.rows()
    have = set(store.bank.get(include=[])["ids"])
    wanted = {r["id"] for r in rows}
    add = [r for r in rows if r["id"] not in have]
    delete = sorted(have - wanted)
    vectors = embedder.encode([r["question"] for r in add]) if add else []
    store.write_bank(add, vectors, delete)
    report.bank_added, report.bank_removed, report.bank_size = len(add), len(delete), len(wanted)
    return report


def _counts_match(store: Store, records: dict) -> bool:
    """True when the stores hold exactly the live documents' passages and sentences, so there is no
    garbage to collect: two count() calls instead of reading every record (an unchanged re-index at
    100× spent most of its time there)."""
    try:
        want_chunks = sum(int(r.meta["n_passages"]) for r in records.values())
        want_sentences = sum(int(r.meta["n_sentences"]) for r in records.values())
    except (KeyError, TypeError, ValueError):  # an entry written before the counts were kept
        return False
    return store.chunks.count() == want_chunks and store.sentences.count() == want_sentences


def _check_free_space(settings: Settings, done: int, total: int) -> None:
    """Stop before the embedded index's disk fills up: Chroma needs some free space even to read an
    index whose last write was cut short, so a full disk would take the live index down with it."""
    if settings.chroma_host or not settings.min_free_bytes:
        return
    free = shutil.disk_usage(settings.index_dir).free
    if free < settings.min_free_bytes:
        raise StoreError(f"Indexing stopped after {done} of {total} documents: only {free / 1e6:.1f} MB is free on "
                         f"the disk holding {settings.index_dir} (ASSISTANT_MIN_FREE_BYTES keeps "
                         f"{settings.min_free_bytes / 1e6:.1f} MB free so the index stays readable). The documents "
                         "indexed so far are live and complete; free some space and run `assistant index` again.")


def _flush(store: Store, embedder: Embedder, group: list[Document], indexed: dict, report: IndexReport,
           bar: tqdm, log: Callable[[str], None] | None = None, number: int = 0, total: int = 0) -> None:
    """Embed a group of documents together, store their records, then publish the group in one
    upsert (the swap is atomic for the group; earlier groups are already live)."""
    if not group:
        return
    chunk_rows, sentence_rows, published = [], [], []
    for doc, vectors in zip(group, _encode_group(embedder, group)):
        c_rows, s_rows = _rows(doc, vectors)
        chunk_rows += c_rows
        sentence_rows += s_rows
        published.append((doc.source.id, doc.version, doc.raw_hash, doc.clean.text, _unit(vectors.mean(axis=0)),
                          {**source_meta(doc.source, doc), "encoder": embedder.name}))
    store.write_rows(chunk_rows, sentence_rows)
    store.publish_many(published)
    for doc in group:
        (report.updated if doc.source.id in indexed else report.added).append(doc.source.id)
        report.passages += len(doc.chunks)
        report.sentences += sum(len(c.sentences) for c in doc.chunks)
        bar.update()
        if log:
            log(f"indexed {doc.source.id} ({number}/{total})")


def _encode_group(embedder: Embedder, docs: list[Document]) -> list[np.ndarray]:
    """Every sentence of ``docs`` in one encode call; the vectors split back per document."""
    texts = [d.clean.text[s.start:s.end] for d in docs for c in d.chunks for s in c.sentences]
    vectors = embedder.encode(texts)
    out, i = [], 0
    for d in docs:
        n = sum(len(c.sentences) for c in d.chunks)
        out.append(vectors[i:i + n])
        i += n
    return out


def _rows(doc: Document, vectors: np.ndarray) -> tuple[list[dict], list[dict]]:
    """A document's passage and sentence records; a passage's vector is the normalised mean of its
    sentences' vectors (so each sentence is embedded once)."""
    text = doc.clean.text
    prefix = doc.version[:16]
    tag = {"doc_id": doc.source.id, "version": doc.version}
    chunk_rows, sentence_rows, i = [], [], 0
    for chunk in doc.chunks:
        n = len(chunk.sentences)
        block = vectors[i:i + n]
        chunk_id = f"{prefix}:{chunk.id}"
        chunk_rows.append({"id": chunk_id, "embedding": _unit(block.mean(axis=0)).tolist(), "text": chunk.text,
                           "meta": {"paragraph": chunk.paragraph, "start": chunk.start, "end": chunk.end,
                                    "heading": chunk.heading, **tag}})
        for j, (sentence, vector) in enumerate(zip(chunk.sentences, block)):
            sentence_rows.append({"id": f"{chunk_id}:{j}", "embedding": vector.tolist(),
                                  "text": text[sentence.start:sentence.end],
                                  "meta": {"chunk": chunk_id, "paragraph": chunk.paragraph,
                                           "start": sentence.start, "end": sentence.end,
                                           "heading": chunk.heading, **tag}})
        i += n
    return chunk_rows, sentence_rows


def _doc_vector(store: Store, doc_id: str, version: str) -> np.ndarray:
    got = store.chunks.get(where={"version": version}, include=["embeddings"])
    return _unit(np.asarray(got["embeddings"], dtype=np.float32).mean(axis=0))


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n else v
