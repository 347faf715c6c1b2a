"""Evaluation harness (``python -m evals``) and performance benchmark (``python -m evals.bench``)."""
