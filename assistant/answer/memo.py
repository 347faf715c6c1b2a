"""Worked out once per snapshot of the index: what may be quoted, each document's sentence order, the
documents' describing words. Kept beside the snapshot (weakly: it goes when the snapshot does), not
written onto it, so the index's ``Snapshot`` knows nothing of what the answer steps derive from it."""
from __future__ import annotations

from typing import Any, Callable
from weakref import WeakKeyDictionary

_MEMO: WeakKeyDictionary = WeakKeyDictionary()


def per_snapshot(snap: Any, name: str, make: Callable[[], Any]) -> Any:
    """``make()`` for ``snap``, once: a new snapshot after a change of the library starts afresh."""
    memo = _MEMO.setdefault(snap, {})
    if name not in memo:
        memo[name] = make()
    return memo[name]
