"""The library manager: adding, removing, editing and indexing documents, and the one-writer rule.

Why apart from the facade (``service.py``): changing the library is one concern with its own invariants,
kept here in one place: every file is checked and staged before anything changes, a failed add is rolled
back (corpus, manifest and index as they were), and one writer runs at a time, in this process
(``write_lock``) and across processes (``CorpusLock`` on the corpus folder). Questions meanwhile are
answered from the live index (``assistant/live.py``), which this manager tells when a write has finished
(``Live.publish``). The manager sits in the library layer, so it knows the live index only through the
small ``Live`` protocol below, never by import.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import shutil
import threading
from pathlib import Path
from typing import Callable, Protocol

from .. import identity
from ..config import Settings
from ..errors import AssistantError, IdTaken, InputError, StoreError, UnknownDocument
from ..safety.inputs import clean_metadata, name_from_filename, shown
from . import catalog_file, health
from . import details as doc_details
from .corpus_lock import CorpusLock
from .indexer import IndexReport, sync
from .ingest import ingest
from .loaders import check_file, open_regular
from .sources import (Manifest, Source, Titles, corpus_file, date_in_text, default_source, slugify, validate_date,
                      validate_id, write_atomically)
from .store import Store, failure_reason, is_store_failure, looks_broken, os_reason

log = logging.getLogger(__name__)


class Live(Protocol):
    """What the manager needs of the live index (``assistant.live.LiveIndex``)."""

    @property
    def store(self) -> Store: ...

    def recovering(self, action: Callable): ...  # run; a damaged index is set aside and the action run again

    def publish(self) -> None: ...  # the last writer finished: build the new Kit aside and swap it in

    def invalidate(self) -> None: ...  # the index changed: the next question re-reads it

    def close_store(self) -> None: ...  # the index folder was replaced or dropped: reopen it on next use

    def documents(self) -> dict: ...  # the indexed documents (id -> DocView)


class LibraryManager:
    """Add, stage, remove, edit and index documents; one writer at a time.

    ``writers``: how many writes this process has in progress (nested: an add indexes). While it is above
    zero the live index keeps answering from the Kit that was live when the write started."""

    def __init__(self, settings: Settings, live: Live, embedder: Callable, model_name: Callable[[], str]):
        self.settings, self.live = settings, live
        self._embedder, self._model_name = embedder, model_name
        self.write_lock = threading.RLock()
        self.writers = 0
        self.corpus_lock = CorpusLock(settings.corpus_dir)  # one library writer, across processes

    def manifest(self) -> Manifest:
        return Manifest(self.settings.corpus_dir)

    # ---- the one-writer rule -----------------------------------------------------------------------
    @contextlib.contextmanager
    def writing(self):
        """One writer at a time; questions meanwhile use the Kit that was live when it started. When the
        outermost writer ends, the new Kit is built aside and swapped in, so no question waits for it."""
        self.check_writable()
        self.settings.corpus_dir.mkdir(parents=True, exist_ok=True)  # the library lock is taken on the folder
        with self.write_lock, self.corpus_lock:  # one writer in this process, and across processes
            if not self.writers:  # what an add killed before its manifest was saved left: rolled back
                health.drop_staging(self.settings.corpus_dir)
            self.writers += 1
            try:
                yield
            finally:
                self.writers -= 1
                if self.writers == 0:
                    self.live.publish()

    def check_writable(self) -> None:
        if self.settings.read_only:
            raise InputError("This instance is read-only (ASSISTANT_READ_ONLY): add, remove and index "
                             "where the library is managed.")
        if problem := health.read_only_folder(self.settings):
            raise InputError(problem)

    def writable(self) -> bool:
        return not self.settings.read_only and not health.read_only_folder(self.settings)

    # ---- indexing ----------------------------------------------------------------------------------
    def index(self, progress: bool = False, rebuild: bool = False, log=None) -> IndexReport:
        """Bring the index in line with the corpus (incremental); ``rebuild`` drops it first.

        A run stopped part-way (killed, disk full) leaves every document at its old or its new
        version, never half; the next run carries on from there.
        """
        with self.writing():
            if rebuild and not self.settings.chroma_host:  # built aside, swapped in when complete
                report = health.rebuild_aside(self.settings, lambda aside: self.sync(progress, log, Store(aside), aside))
                self.live.close_store()
                return report
            if rebuild:
                def drop():
                    for name in ("catalog", "chunks", "sentences"):
                        self.live.store.client.delete_collection(f"{self.settings.collection_prefix}_{name}")
                    self.live.close_store()
                self.live.recovering(drop)
            return self.live.recovering(lambda: self.sync(progress, log))

    def sync(self, progress: bool = False, log=None, store: Store | None = None, settings=None) -> IndexReport:
        """One index run over the manifest's documents (``indexer.sync``), and the catalog file after it."""
        store, settings = store or self.live.store, settings or self.settings
        try:
            catalog_file.invalidate(settings)
            report = sync(store, self._embedder(), settings, self.manifest().sources(), progress, log)
            catalog_file.write(settings, store.documents())
            return report
        except Exception as exc:
            if isinstance(exc, AssistantError) or looks_broken(exc) or not is_store_failure(exc):
                raise
            raise StoreError(f"Indexing stopped: {failure_reason(exc, self.settings)}. The documents indexed before this "
                             "point are live and complete; run `assistant index` again to finish.") from None
        finally:
            self.live.invalidate()

    # ---- adding, removing, editing -----------------------------------------------------------------
    def add(self, paths: list[Path | str], title: str | None = None, date: str | None = None,
            kind: str | None = None, status: str | None = None, publisher: str | None = None,
            doc_id: str | None = None, progress: bool = False) -> IndexReport:
        """Copy documents into the corpus with their metadata and index them.

        Every file is read and checked before anything changes; if any is unusable, the corpus, the
        manifest and the index stay exactly as they were. A file is stored in the corpus as
        ``<id><extension>``, the id made from its name (or ``doc_id``), so whatever name it arrived
        with (``../x``, ``C:\\x``) nothing is written outside the corpus folder.
        """
        if isinstance(paths, (str, Path)):
            paths = [paths]
        paths = [Path(p) for p in paths or []]
        if not paths:
            raise InputError("Give at least one file to add.")
        if doc_id and len(paths) > 1:
            raise InputError("--id can only be used when adding a single file.")
        date = validate_date(date or "")
        meta = {"title": clean_metadata("title", title), "kind": clean_metadata("kind", kind),
                "status": clean_metadata("status", status), "publisher": clean_metadata("publisher", publisher)}
        # The manifest is read, changed and written (or restored) under the library lock, so a
        # second add, remove or index in another process waits rather than overwrite this one's entry.
        with self.writing():
            corpus = self.settings.corpus_dir
            manifest = self.manifest()
            entries = manifest.entries()
            taken = set(entries) | {p.stem for p in corpus.iterdir()}
            used_files = {e.file for e in entries.values()} | {p.name for p in corpus.iterdir()}
            planned: list[tuple[Path, Source]] = []
            seen: dict[bytes, str] = {}  # text hash -> file name, within this add
            titles = Titles(manifest.sources())
            try:
                for path in paths:
                    planned.append(self.stage(path, doc_id, date, meta, taken, used_files, seen))
                    titles.claim(planned[-1][1], shown(path.name))
            except BaseException:
                for staged, _ in planned:
                    staged.unlink(missing_ok=True)
                raise
            before = manifest.path.read_text("utf-8") if manifest.path.exists() else None
            try:
                for staged, source in planned:
                    staged.replace(corpus / source.file)
                    manifest.set(source)
                manifest.save()
                report = self.index(progress=progress)
                bad = {k: v for k, v in report.failed.items() if k in {s.id for _, s in planned}}
                if bad:
                    raise InputError("; ".join(bad.values()))
            except BaseException as exc:
                self._roll_back(planned, manifest, before)
                if isinstance(exc, OSError):
                    raise StoreError(f"The document could not be stored ({os_reason(exc)}). "
                                     "Nothing was changed.") from None
                raise
            return report  # a document added without its date or status: each interface says how to set them

    def _roll_back(self, planned: list[tuple[Path, Source]], manifest: Manifest, before: str | None) -> None:
        """A failed add: its files and manifest entries go, and the index follows the corpus back."""
        corpus = self.settings.corpus_dir
        for staged, source in planned:
            (corpus / source.file).unlink(missing_ok=True)
            staged.unlink(missing_ok=True)
        if before is None:
            manifest.path.unlink(missing_ok=True)
        else:
            write_atomically(manifest.path, before)
        try:
            self.index()
        except Exception:  # e.g. still no disk space: the next `assistant index` tidies up
            log.exception("re-indexing after a failed add failed")

    def stage(self, path: Path, doc_id: str | None, date: str, meta: dict[str, str | None], taken: set[str],
              used_files: set[str], seen: dict[bytes, str] | None = None) -> tuple[Path, Source]:
        """Check one file, copy it beside the corpus (hidden) and read it fully; raise if it is unusable.

        Cheap checks (type, existence, kind of file — a link is refused, never followed —, size) come
        first, so an unusable file is refused without copying it or loading the model. ``seen``: the
        texts staged earlier in this add, so the same text given twice is refused like a duplicate of
        the library.
        """
        corpus = self.settings.corpus_dir
        check_file(path, self.settings.max_upload_bytes)
        suffix = path.suffix.lower()
        new_id = validate_id(doc_id) if doc_id else slugify(Path(name_from_filename(path.name)).stem)
        name = shown(path.name)
        seen = {} if seen is None else seen
        if new_id in taken:
            raise IdTaken(name, new_id)  # each interface says how to choose another id
        fname = f"{new_id}{suffix}"
        if fname in used_files:
            raise InputError(f"{name}: a file named {fname} is already in the corpus.")
        base = default_source(path)
        source = Source(id=new_id, file=fname, title=meta["title"] or base.title, date=date or base.date,
                        date_approximate=False, kind=meta["kind"] or base.kind,
                        status=meta["status"] or base.status, publisher=meta["publisher"] or base.publisher)
        staged = corpus / f".staging-{new_id}{suffix}"
        try:
            staged.unlink(missing_ok=True)  # then "x": created afresh, never written through a link
            with open_regular(path, name) as src, open(staged, "xb") as dst:  # the file named, not a link
                shutil.copyfileobj(src, dst)
            doc = ingest(source.model_copy(update={"file": staged.name}), corpus, self._model_name(),
                         self.settings.max_upload_bytes, self.settings.max_document_chars, shown_name=name,
                         library=identity.of_settings(self.settings))
            digest = hashlib.sha256(doc.clean.text.encode()).digest()
            if digest in seen:
                raise InputError(f"{name}: has the same text as {seen[digest]}, also given in this add; "
                                 "add it once.")
            if any(_same_text(doc.clean.text, d.text) for d in self.live.documents().values()):
                raise InputError(f"{name}: this document is already in the library.")
            if not meta["title"] and (own := doc_details.title_from_heading(doc.clean)):  # its own heading, not the file name
                source = source.model_copy(update={"title": own})
            if not date and (found := date_in_text(doc.clean.text)):  # the date the document gives itself
                source = source.model_copy(update={"date": found, "date_approximate": True})
        except OSError as exc:
            staged.unlink(missing_ok=True)
            raise StoreError(f"{name}: could not be copied into the library ({os_reason(exc)}). "
                             "Nothing was changed.") from None
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        taken.add(new_id)
        used_files.add(fname)
        seen[digest] = name
        return staged, source

    def remove(self, doc_id: str, progress: bool = False) -> IndexReport:
        """Remove a document from the corpus, the manifest and the index."""
        if not isinstance(doc_id, str) or not doc_id.strip():
            raise InputError("Give the id of the document to remove; see `assistant sources` for the ids.")
        with self.writing():
            manifest = self.manifest()  # every entry's file checked to be inside the corpus folder
            found = {s.id: s for s in manifest.sources()}
            if doc_id not in found:
                raise UnknownDocument(doc_id, shown(doc_id))
            # Never through a folder link; a link itself is removed, never the file it points to.
            corpus_file(self.settings.corpus_dir, found[doc_id].file).unlink(missing_ok=True)
            manifest.delete(doc_id)
            manifest.save()
            return self.index(progress=progress)

    def edit(self, doc_id: str, **changes: str | None) -> Source:
        """Change only the details given (title, publisher, date, kind, status), keeping the document."""
        with self.writing():
            after = doc_details.edit(self.settings.corpus_dir, doc_id, changes)[1]
            self.index()
            return after

    def details(self, doc_id: str) -> Source:
        """A document's details as the manifest records them (``Source.unrecorded``: what is missing)."""
        return doc_details.source_of(self.settings.corpus_dir, doc_id)


def _same_text(a: str, b: str) -> bool:
    return hashlib.sha256(a.encode()).digest() == hashlib.sha256(b.encode()).digest()
