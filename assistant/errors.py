"""Errors a user can act on. The CLI prints their message (no traceback) and exits non-zero."""


class AssistantError(Exception):
    """Base class: the message is written for the person using the assistant."""


class InputError(AssistantError):
    """The question, file or option given was not acceptable; nothing was changed."""


class LoadError(InputError):
    """A document could not be read; nothing was changed."""


class StoreError(AssistantError):
    """The index could not be built or read. ``broken``: its files are damaged (rebuild from the corpus)."""

    def __init__(self, message: str, broken: bool = False):
        super().__init__(message)
        self.broken = broken
