"""The tutorial's cold start: import langchain_chroma, load the model, open the store, query once.

    python -m evals.tutorial_cold --store DIR --question "..."

``evals.bench`` times this process from start to printed answer, next to ``assistant ask``.
"""
import argparse
import sys


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--store", required=True)
    p.add_argument("--question", required=True)
    p.add_argument("--k", type=int, default=5)
    args = p.parse_args(argv)

    from langchain_chroma import Chroma  # noqa: F401 - the import is part of what is timed

    from .lc_embeddings import OfflineEmbeddings
    from .tutorial import open_store

    store = open_store(args.store, OfflineEmbeddings.standalone())
    hits = store.similarity_search(args.question, k=args.k)
    print(hits[0].page_content if hits else "(no result)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
