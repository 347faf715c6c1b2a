"""The model runners: the sentence encoder (``embeddings``, ``onnx_embedder``) and the judge's
cross-encoder (``reranker``). Offline, one thread each; nothing here knows about documents or answers."""
