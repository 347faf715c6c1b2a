"""The library: documents → index (load, clean, chunk, embed, store) and the live index read back
(``Snapshot``, hybrid search). Nothing here imports answering, training or the interfaces."""
