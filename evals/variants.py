"""The evaluation's variants of the answer path (ablations): each is ``ours`` with one component off.

``using(assistant, name)`` yields an ``ask(question, history=..., id=...)`` for the variant ``name``
("" is the shipped path). Today a variant is made with ``ASSISTANT_DISABLE``'s setting; issue 32 makes
each an alternative list of steps built here, so the product carries no experiment.
"""
from __future__ import annotations

import contextlib

from assistant.config import COMPONENTS

NAMES = list(COMPONENTS)


@contextlib.contextmanager
def using(assistant, name: str):
    if name and name not in NAMES:
        raise ValueError(f"unknown variant {name!r}; known: {', '.join(NAMES)}")
    assistant.settings.disable = name
    assistant.live.drop_kit()  # the kit is rebuilt with these settings
    try:
        yield assistant.ask
    finally:
        assistant.settings.disable = ""
        assistant.live.drop_kit()
