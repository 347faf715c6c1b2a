"""Answering a question: ``pipeline.STEPS``, the ordered steps, each a function in its own module
(``guard``, ``followup``, ``retrieve``, ``select``, ``judge``, ``compose``, ``cite``) sharing one
``context.Context``; what they use (stand-alone quotes, the vocabulary); and the optional LLM answers
(``generate``, ``verify``, ``llm``)."""
