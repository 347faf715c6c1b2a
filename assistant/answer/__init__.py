"""Answering a question: ``pipeline.py`` holds the whole path as three lists (CHECKS, STEPS,
GENERATION), each step a function in its own module sharing one ``context.Context``; what they use
(what may be quoted, stand-alone quotes, the vocabulary, the dialogue words); and the optional LLM
answers (``generate``, ``verify``, ``llm``)."""
