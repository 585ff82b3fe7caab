"""The backend registry for the store conformance suite, and synthetic items to feed it.

``BACKENDS`` maps a backend name to a factory ``factory(request, tmp_path) -> Store`` that
returns a fresh, empty store (the test closes it). A backend that needs a server (DynamoDB
on moto) starts it in its factory through ``request.getfixturevalue(...)``; such fixtures
must be importable from this module (add them to ``__all__``) so that
``tests/test_store_conformance.py`` sees them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from indexer.items import SCHEMA, Item, Items
from indexer.store.base import Store
from tests.support.dynamo import (
    dynalite_endpoint,
    dynalite_store_factory,
    dynamo_endpoint,
    dynamo_store_factory,
    fake_aws_credentials,
)


def _sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    from indexer.store.sqlite import SQLiteStore

    return SQLiteStore(tmp_path / "conformance.db")


def _dynamodb(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """A fresh table on the session's moto server (tests/support/dynamo.py)."""
    return request.getfixturevalue("dynamo_store_factory")()


def _dynalite(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """A fresh table on the session's dynalite server (an independent implementation)."""
    return request.getfixturevalue("dynalite_store_factory")()


BACKENDS: dict[str, Callable[[pytest.FixtureRequest, Path], Store]] = {
    "sqlite": _sqlite,
    "dynamodb": _dynamodb,
    "dynalite": _dynalite,
}

def another_handle(store: Store) -> Store:
    """A second, independent store object on the same storage (a restarted process)."""
    path = getattr(store, "path", None)
    if path is not None:
        from indexer.store.sqlite import SQLiteStore

        return SQLiteStore(path)
    from indexer.store.dynamodb import DynamoDBStore

    d: Any = store
    return DynamoDBStore(table=d.table, region=d.region, endpoint_url=d.endpoint_url,
                         namespace=d.namespace)


__all__ = ["BACKENDS", "another_handle", "make_item", "synthetic_dialogue", "dynamo_endpoint",
           "dynamo_store_factory", "dynalite_endpoint", "dynalite_store_factory",
           "fake_aws_credentials"]

_SAMPLE: dict[str, Any] = {"str": "x", "int": 7, "float": 0.25, "bool": True,
                           "json": {"a": [1, "b", None]}}


def make_item(kind: str, sk: str, **fields: Any) -> Item:
    """An item with every SCHEMA field of ``kind`` set (a value of its type), then overrides."""
    item: Item = {f: _SAMPLE[t] for f, t in SCHEMA[kind].items()}
    item.update(sk=sk, kind=kind, enc=None)
    item.update(fields)
    return item


def synthetic_dialogue(did: str, blocks: int = 5, words: str = "") -> Items:
    """A small dialogue of every item kind, text tagged with ``did`` so searches can tell
    partitions apart."""
    tag = did.replace("-", "")
    out = [
        make_item("dialogue", "meta", id=did, title=f"Dialogue {did}", status="open",
                  rounds=2, experts=2),
        make_item("file", "file#round-0/muffin.md", path="round-0/muffin.md",
                  sha256="a" * 64, size=1234, role="response", round=0, expert="muffin",
                  good_sha256="a" * 64, data=None, errors=0, warnings=1),
        make_item("file", "file#verdict.md", path="verdict.md", sha256="b" * 64, size=9,
                  role="verdict", round=None, expert=None, data={"title": "Verdict"}),
        make_item("expert", "expert#muffin", slug="muffin", name="Muffin", relevance=0.95,
                  rounds=[0, 1], scores={"0": 20}, sources=["pool", "panel"]),
        make_item("round", "round#00", number=0, experts=["muffin"], alignment=None),
        make_item("tension", "tension#00#muffin#T01", key="00#muffin#T01", id="T01",
                  status="open", label=f"Open tension {tag}", status_by_round={"0": "open"},
                  ledger_status=None,
                  open=True),
        make_item("tension", "tension#00#muffin#T02", key="00#muffin#T02", id="T02",
                  status="resolved", label=f"Closed tension {tag}", open=False,
                  ledger_status=None),
        make_item("event", "event#00#muffin#T01#00#0000", tension="00#muffin#T01", round=0,
                  actor="muffin", event="raised"),
        make_item("ref", "ref#a#resolves#b", source="a", type="resolves", target="b",
                  resolved=False, rule=None),
        make_item("verdict", "verdict", title="Final", text="Ship it", decision="yes"),
        make_item("diagnostic", "diag#round-0/muffin.md#00000", file="round-0/muffin.md",
                  line=3, column=None, code="W001", severity="warning", message="unresolved"),
        make_item("datakey", "datakey", key_id="k1", version=1, wrapped="AAAA",
                  algorithm="AES-256-GCM"),
    ]
    for i in range(blocks):
        out.append(make_item(
            "block", f"block#00#muffin#perspective#P{i:02d}", key=f"00#muffin#perspective#P{i:02d}",
            block_kind="perspective" if i % 2 == 0 else "tension", id=f"P{i:02d}",
            label=f"Label {i} {tag}", body=f"Body number {i} of {tag}. {words}".strip(),
            inline=i == 3, parent=None, targets=[{"raw": "T01", "id": "T01"}], mentions=[],
            line=i + 1, ordinal=i))
    return {it["sk"]: it for it in out}
