"""Answering a question: the ordered steps (``pipeline``) and what they use (follow-ups, the judge,
stand-alone quotes, the vocabulary), plus the optional LLM answers (``generate``, ``verify``, ``llm``)."""
