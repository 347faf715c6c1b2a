"""Checks at the edges: what people type (``inputs``), personal details in questions (``privacy``),
and no outbound network connections (``netguard``)."""
