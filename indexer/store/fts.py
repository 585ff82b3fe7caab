"""The full-text query language shared by every search: SQLite's FTS5 index and the
in-memory search of stores that cannot search their own bytes (``memsearch``), so a query
matches the same blocks whatever the backend."""

from __future__ import annotations

TOKENIZER = "porter"  # FTS5 tokenizer of both: "running" matches "run"


def match_query(query: str) -> str:
    """An FTS5 MATCH expression: each word quoted (FTS5 syntax characters are text), all
    required; ``word*`` = prefix."""
    terms = []
    for word in query.split():
        prefix = word.endswith("*") and len(word) > 1
        word = word.rstrip("*") if prefix else word
        terms.append('"' + word.replace('"', '""') + '"' + ("*" if prefix else ""))
    return " ".join(terms)
