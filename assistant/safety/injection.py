"""Prompt injection: text that addresses an AI instead of asking about, or saying something about, the
library. One home for the patterns, used three ways:

* ``INSTRUCTION`` — a *question* that reads as an instruction to the assistant ("ignore the rules above",
  "you are now ...", fake ``</context>`` markup) is refused (``answer/guard.py``), and a document
  sentence that reads so is never put in a *prompt* to a language model (``answer/generate.py``).
* ``ADDRESSED_TO_AI`` — a *document* sentence that talks to an AI ("as an AI ...", "reply only with ...",
  "System:") is never quoted (``answer/quotable.py``), so an extractive answer cannot be steered by what
  a document tells it.

Two patterns, not one: a document may well say "local authorities act as lead" or "the rules above",
which the question pattern refuses, and a school leader may ask about "chatbots" in a question.
"""
from __future__ import annotations

import re

INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|prompts?|rules?|guidelines?|above|previous|system)\b"
    r"|\b(system prompt|your prompt|jailbreak|developer mode|you are now|act as|pretend (to be|you are))\b"
    r"|^\s*(system|assistant)\s*:"
    r"|</?\s*(context|system|instructions?|prompt|documents?)\s*>"  # fake markup closing "our" context
    r"|\bnew (instructions?|rules?|task)\b|\b(administrator|admin|developer|operator)\s*(says|:)",
    re.I)

ADDRESSED_TO_AI = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|prompts?|rules?|guidelines?)\b"
    r"|\b(system prompt|jailbreak|developer mode|you are now|language model|as an ai|ai assistant|chatbot)\b"
    r"|^\W*(system|assistant|user)\s*:"
    r"|\b(reply|respond|answer)\b.{0,40}\b(only|always)\b.{0,40}\bwith\b",
    re.I)


def reads_as_instruction(text: str) -> bool:
    """A question (or a passage for a prompt) that tells the assistant what to do."""
    return bool(INSTRUCTION.search(text))


def addressed_to_ai(text: str) -> bool:
    """A document sentence that talks to an AI rather than to a reader."""
    return bool(ADDRESSED_TO_AI.search(text))
