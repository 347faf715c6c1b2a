"""Errors a user can act on. The CLI prints their message (no traceback) and exits non-zero.

Some carry what went wrong as data (which field, which id) as well as a message, so that each interface
can word its own advice: the CLI in its commands and flags, the web page in its form's fields and buttons
(``interfaces/cli_words.py``, ``interfaces/web_admin.py``). The message itself names neither."""


class AssistantError(Exception):
    """Base class: the message is written for the person using the assistant."""


class InputError(AssistantError):
    """The question, file or option given was not acceptable; nothing was changed. ``field``: the detail
    it concerns ("date", "status", "title", "kind", "publisher", "id"), when it is one of a document's."""

    def __init__(self, message: str = "", field: str | None = None):
        super().__init__(message)
        self.field = field


class LoadError(InputError):
    """A document could not be read; nothing was changed."""


class IdTaken(InputError):
    """A document being added would get an id (``doc_id``, made from the file ``name``) that the library
    already uses. How to choose another depends on the interface (a flag, or renaming the file)."""

    def __init__(self, name: str, doc_id: str):
        super().__init__(f"{name}: a document with id '{doc_id}' is already in the library.", field="id")
        self.name, self.doc_id = name, doc_id


class UnknownDocument(InputError):
    """No document in the library has the id ``doc_id``. Where to see the ids depends on the interface."""

    def __init__(self, doc_id: str, shown_id: str | None = None):
        super().__init__(f"No document with id '{shown_id if shown_id is not None else doc_id}' in the library.",
                         field="id")
        self.doc_id = doc_id


class StoreError(AssistantError):
    """The index could not be built or read. ``broken``: its files are damaged (rebuild from the corpus)."""

    def __init__(self, message: str, broken: bool = False):
        super().__init__(message)
        self.broken = broken
