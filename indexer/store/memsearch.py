"""Full-text search in memory, for stores that cannot search their own bytes.

DynamoDB has no text index and an encrypted store only holds ciphertext, so both load the
partitions searched and rank their blocks here exactly as the SQLite backend ranks its own:
FTS5 with the porter tokenizer, every word required, bm25 rank, then dialogue and sort key.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable

from ..items import Item, Items
from .fts import TOKENIZER, match_query


def search_partitions(load: Callable[[str], Items], dialogue_ids: Iterable[str], query: str,
                      kind: str | None, limit: int) -> list[Item]:
    """Load each dialogue (one partition read each) and rank its blocks in memory."""
    blocks = [
        dict(item, dialogue_id=did)
        for did in dialogue_ids
        for item in load(did).values()
        if item.get("kind") == "block" and (kind is None or item.get("block_kind") == kind)
    ]
    return fts_search(blocks, query, limit)


def fts_search(blocks: list[Item], query: str, limit: int) -> list[Item]:
    """Rank blocks (each with ``dialogue_id``) as the SQLite backend does."""
    match = match_query(query)
    if not match or not blocks:
        return []
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(f"CREATE VIRTUAL TABLE f USING fts5(label, body, tokenize='{TOKENIZER}')")
        conn.executemany("INSERT INTO f(rowid, label, body) VALUES (?, ?, ?)",
                         [(i, b.get("label"), b.get("body")) for i, b in enumerate(blocks)])
        rows = conn.execute("SELECT rowid, rank FROM f WHERE f MATCH ?", (match,)).fetchall()
    finally:
        conn.close()
    rows.sort(key=lambda r: (r[1], blocks[r[0]]["dialogue_id"], blocks[r[0]]["sk"]))
    return [blocks[r[0]] for r in rows[: max(int(limit), 0)]]
