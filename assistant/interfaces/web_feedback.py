"""Readers' ratings for the library manager over HTTP: ``/feedback`` (admin password), every rating of every
instance that shares the library's Chroma server, oldest first (``library.feedback.rows``)."""
from __future__ import annotations

from typing import Callable

import gradio as gr

from ..config import Settings
from ..errors import AssistantError
from ..library import feedback


def add_feedback_api(settings: Settings, check: Callable[[str, gr.Request | None], str | None]) -> None:
    """Register ``/feedback``; ``check(password, request)`` says why access is refused (None: allowed).
    Called outside ``gr.Tabs()`` (a gr.api inside it is not registered)."""

    def feedback_list(password: str, request: gr.Request = None) -> list:
        """Every reader's rating, oldest first: created_at, rating, comment, question, answer, status, answer_id,
        citations (JSON), personal details already removed (admin password required)."""
        why = check(password, request)
        if why:
            raise gr.Error(why, print_exception=False)
        try:
            return feedback.rows(settings)
        except AssistantError as exc:
            raise gr.Error(str(exc), print_exception=False) from None

    gr.api(feedback_list, api_name="feedback")
