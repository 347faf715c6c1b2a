"""Readers' corrections and the question bank's edits: the review list, and what accepting one does.

A reader who found an answer unhelpful can point at the sentence that does answer the question ("This
answers my question" in the document viewer) or say the documents don't cover it. That is a *pending
correction*: a record in the index's ``corrections`` collection (so every answering instance that shares a
Chroma server writes to the one review list), holding the question with personal details removed. Nothing
pending changes an answer. An admin accepts (optionally after editing the question) or rejects each; an
accepted one is appended to ``corpus/bank/corrections.toml`` and the bank is synced at once, so the next
question is answered with it, on every instance, without a restart.

    desk = BankDesk(settings, store, embedder, writing)   # Assistant.bank does this
    desk.correct("can the LA make us join", doc_id="dcsf-2008-07-03-letter", start=5389)
    desk.pending(); desk.review(cid, "accept")
    desk.add("question", ["exact sentence"]); desk.entries(); desk.remove("question")
"""
from __future__ import annotations

import datetime as dt
import uuid
from contextlib import AbstractContextManager
from typing import Callable

from ..config import Settings
from ..errors import InputError
from ..safety import pii
from ..safety.inputs import clean_question
from . import bank as bank_data
from .indexer import IndexReport, sync_bank
from .store import Store

ADDED_FILE = "added.toml"  # questions added with `assistant bank add` / Manage library
ACTIONS = ("accept", "reject", "edit")
MAX_PENDING = 5000  # the review list is for people: beyond this, new corrections are refused, not stored


class BankDesk:
    """What a person does with the bank: add, list, remove questions; send and review corrections."""

    def __init__(self, settings: Settings, store: Callable[[], Store], embedder: Callable, writing: Callable[[], AbstractContextManager]):
        self.settings, self._store, self._embedder, self._writing = settings, store, embedder, writing

    # ---- readers' corrections ----------------------------------------------------------------------
    def correct(self, question: str, doc_id: str | None = None, start: int | None = None,
                sentence: str | None = None, not_covered: bool = False, key: str | None = None) -> dict:
        """Put one correction on the review list: ``question`` is answered by the sentence of ``doc_id`` at
        character ``start`` (or with text ``sentence``), or, with ``not_covered``, by nothing in the library.
        Returns the pending record. Refused (``InputError``) when the sentence is not in the library. With
        ``key`` (the UI's: one answer in one session), a later correction replaces the earlier one, so one
        reader's answer is one entry on the review list however often it is sent."""
        q, _ = clean_question(question or "", self.settings.max_question_chars)
        q = pii.redact(q, self.settings)  # what is stored: the full detector, not only the question's fast check
        store = self._store()
        if not not_covered:
            sentence = self._find_sentence(store, doc_id, start, sentence)
        elif doc_id or sentence:
            raise InputError("A correction either points at a sentence or says the documents don't cover the question, "
                             "not both.")
        if store.corrections.count() >= MAX_PENDING:
            raise InputError("The review list is full; an admin needs to review the corrections waiting there first.")
        cid = "c-" + (key[:32] if key else uuid.uuid4().hex[:16])
        meta = {"kind": "not_covered" if not_covered else "answers", "doc_id": doc_id or "",
                "sentence": sentence or "", "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
        store.corrections.upsert(ids=[cid], embeddings=[self._embedder().encode([q])[0].tolist()], documents=[q],
                              metadatas=[meta])
        return {"id": cid, "question": q, **meta}

    def _find_sentence(self, store: Store, doc_id: str | None, start: int | None, sentence: str | None) -> str:
        if not doc_id:
            raise InputError("Say which document's sentence answers the question (its id).")
        record = store.documents().get(doc_id)
        if record is None:
            raise InputError(f"No document with id '{doc_id}' in the library.")
        got = store.sentences.get(where={"version": record.version}, include=["documents", "metadatas"])
        rows = sorted(zip(got["documents"], got["metadatas"]), key=lambda r: r[1]["start"])
        if start is not None:
            for text, meta in rows:
                if meta["start"] <= int(start) < meta["end"]:
                    return text
            raise InputError(f"There is no sentence at character {start} of '{doc_id}'.")
        wanted = bank_data.sentence_key(sentence or "")
        for text, _ in rows:
            if bank_data.sentence_key(text) == wanted:
                return text
        raise InputError(f"That sentence is not in '{doc_id}' as the library holds it (see `assistant show {doc_id}`).")

    def pending(self) -> list[dict]:
        """The review list, oldest first."""
        got = self._store().corrections.get(include=["documents", "metadatas"])
        rows = [{"id": i, "question": q, **m} for i, q, m in zip(got["ids"], got["documents"], got["metadatas"])]
        return sorted(rows, key=lambda r: (r.get("created_at", ""), r["id"]))

    def review(self, cid: str, action: str, question: str | None = None) -> IndexReport | None:
        """``accept`` (the question as sent, or ``question`` when given), ``edit`` (accept with ``question``)
        or ``reject`` one pending correction. Accepting writes it to ``corpus/bank/corrections.toml`` and
        syncs the bank, so it answers from the next question on; rejecting deletes it."""
        if action not in ACTIONS:
            raise InputError(f"The review action must be one of {', '.join(ACTIONS)}, not {action!r}.")
        store = self._store()
        got = store.corrections.get(ids=[cid], include=["documents", "metadatas"])
        if not got["ids"]:
            raise InputError(f"No correction '{cid}' is waiting for review (it may have been reviewed already).")
        if action == "reject":
            store.corrections.delete(ids=[cid])
            return None
        if action == "edit" and not (question or "").strip():
            raise InputError("Editing a correction needs the question as it should be kept.")
        text = clean_question(question, self.settings.max_question_chars)[0] if (question or "").strip() else got["documents"][0]
        meta = got["metadatas"][0]
        anchors = [meta["sentence"]] if meta.get("kind") == "answers" else []
        with self._writing():
            bank_data.append_entry(self.settings.corpus_dir, bank_data.CORRECTIONS_FILE, pii.redact(text, self.settings), anchors)
            report = sync_bank(store, self._embedder(), self.settings)
            store.corrections.delete(ids=[cid])
        return report

    # ---- the bank itself ---------------------------------------------------------------------------
    def document(self, doc_id: str) -> list[dict]:
        """One document's live sentences in order, each {"start", "end", "text", "questions"}: its offsets in
        the cleaned text (as a citation's), and the bank questions that point at it (joint entries too)."""
        store = self._store()
        record = store.documents(with_text=False).get(doc_id)
        if record is None:
            raise InputError(f"No document with id '{doc_id}' in the library.")
        got = store.sentences.get(where={"version": record.version}, include=["documents", "metadatas"])
        asked: dict[str, list[str]] = {}
        for e in bank_data.load(self.settings.corpus_dir).entries:
            for key in {bank_data.sentence_key(a) for a in e.anchors}:
                asked.setdefault(key, []).extend(e.questions)
        rows = sorted(zip(got["documents"], got["metadatas"]), key=lambda r: r[1]["start"])
        return [{"start": int(m["start"]), "end": int(m["end"]), "text": t,
                 "questions": asked.get(bank_data.sentence_key(t), [])} for t, m in rows]

    def add(self, question: str, sentences: list[str]) -> IndexReport:
        """Add a bank question answered by ``sentences`` (their text; none: a question the documents do not
        cover) to ``corpus/bank/added.toml`` and sync. Refused when a sentence is not in the library."""
        q, _ = clean_question(question or "", self.settings.max_question_chars)
        store = self._store()
        from .indexer import live_sentence_keys

        live = live_sentence_keys(store)
        missing = [s for s in sentences if bank_data.sentence_key(s) not in live]
        if missing:
            raise InputError(f"Not a sentence of the library: \"{missing[0][:80]}\" (copy it from `assistant show ID`).")
        with self._writing():
            bank_data.append_entry(self.settings.corpus_dir, ADDED_FILE, q, list(sentences))
            return sync_bank(store, self._embedder(), self.settings)

    def entries(self, doc_sentences: set[str] | None = None) -> list[dict]:
        """Every bank entry as {"questions", "sentences", "file", "line", "topic"}; with ``doc_sentences`` (bank
        keys), only entries pointing at one of them."""
        out = []
        for e in bank_data.load(self.settings.corpus_dir).entries:
            if doc_sentences is not None and not {bank_data.sentence_key(a) for a in e.anchors} & doc_sentences:
                continue
            out.append({"questions": e.questions, "sentences": e.anchors, "file": e.file, "line": e.line,
                        "topic": e.topic})
        return out

    def remove(self, question: str) -> int:
        """Remove ``question`` from every bank file and from the index; returns how many were removed."""
        with self._writing():
            n = bank_data.remove_question(self.settings.corpus_dir, question)
            if not n:
                raise InputError(f"No bank question reads \"{' '.join(question.split())[:80]}\".")
            sync_bank(self._store(), self._embedder(), self.settings)
        return n
