"""Item fields <-> DynamoDB attribute values.

Item fields are stored as attributes of their SCHEMA type (``json`` fields as compact JSON
strings, which keeps key order and float text exact); a value whose type does not match the
schema is stored as JSON and its name listed in ``_j``. Attribute names starting with ``_``
belong to the backend (keys of indexes, large-item bookkeeping) and are never item fields.
"""

from __future__ import annotations

import json
import math
import zlib
from decimal import Decimal
from typing import Any

from ...items import SCHEMA, Item

INTERNAL_PREFIX = "_"
LOGICAL_SK = "_sk"  # the full sort key, when the physical one had to be shortened
JSON_NAMES = "_j"  # fields stored as JSON because their value did not match the schema
BUNDLE = "_z"  # big fields of a large item, zlib-compressed JSON (large.py)

Attrs = dict[str, Any]


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _dynamo_float(v: float) -> bool:
    """A float that a DynamoDB number holds exactly (else it is stored as JSON)."""
    if not math.isfinite(v) or (v == 0.0 and math.copysign(1.0, v) < 0):
        return False
    return v == 0.0 or 1e-128 < abs(v) < 1e125


def _encode_value(typ: str | None, v: Any) -> dict[str, Any] | None:
    """The attribute value for a field of schema type ``typ``; None when JSON is needed."""
    if v is None:
        return {"NULL": True}
    if typ == "json":
        return {"S": dumps(v)}
    if typ == "str" and isinstance(v, str):
        return {"S": v}
    if typ == "bool" and isinstance(v, bool):
        return {"BOOL": v}
    if typ == "int" and type(v) is int and abs(v) < 10**38:
        return {"N": str(v)}
    if typ == "float" and type(v) is float and _dynamo_float(v):
        return {"N": repr(v)}
    return None


def _decode_value(typ: str | None, av: dict[str, Any], as_json: bool) -> Any:
    if "NULL" in av:
        return None
    if as_json or typ == "json":
        return json.loads(av["S"])
    if "S" in av:
        return av["S"]
    if "BOOL" in av:
        return av["BOOL"]
    if "N" in av:
        return float(av["N"]) if typ == "float" else int(Decimal(av["N"]))
    raise ValueError(f"unexpected DynamoDB attribute value {av!r}")


def size(attrs: Attrs) -> int:
    """Upper bound of DynamoDB's size of an item (names + values, UTF-8). Raises
    UnicodeEncodeError for text DynamoDB cannot hold."""
    total = 0
    for name, av in attrs.items():
        total += len(name.encode()) + 1
        for t, v in av.items():
            if t == "B":
                total += len(v)
            elif t in ("S", "N"):
                total += len(v.encode())
            elif t == "L":
                total += 3 + sum(len(x["S"].encode()) + 1 for x in v)
            else:
                total += 1
    return total


def schema_of(item: Item) -> dict[str, str]:
    kind = item.get("kind")
    return SCHEMA.get(kind, {}) if isinstance(kind, str) else {}


def encode_fields(item: Item) -> tuple[Attrs, list[str]]:
    """The attribute of every field but ``sk``, and the names stored as JSON."""
    schema = schema_of(item)
    fields: Attrs = {}
    as_json: list[str] = []
    for name, value in item.items():
        if name.startswith(INTERNAL_PREFIX) or name == "pk":
            raise ValueError(f"item field name {name!r} is reserved by the DynamoDB backend")
        if name == "sk":
            continue
        av = _encode_value(schema.get(name), value)
        if av is None:
            av = {"S": dumps(value)}
            as_json.append(name)
        fields[name] = av
    return fields, as_json


def json_names(attrs: Attrs) -> set[str]:
    return {x["S"] for x in attrs.get(JSON_NAMES, {}).get("L", [])}


def logical_sk(attrs: Attrs) -> str:
    return str(attrs[LOGICAL_SK]["S"] if LOGICAL_SK in attrs else attrs["sk"]["S"])


def decode_item(attrs: Attrs, bundle: bytes | None = None) -> Item:
    """An item back from its head attributes (+ the joined part chunks, when it has parts)."""
    as_json = json_names(attrs)
    kind = _decode_value("str", attrs["kind"], "kind" in as_json) if "kind" in attrs else None
    schema = SCHEMA.get(kind, {}) if isinstance(kind, str) else {}
    values: dict[str, Any] = {"sk": logical_sk(attrs)}
    for name, av in attrs.items():
        if name in ("pk", "sk") or name.startswith(INTERNAL_PREFIX):
            continue
        values[name] = _decode_value(schema.get(name), av, name in as_json)
    if BUNDLE in attrs:
        bundle = bytes(attrs[BUNDLE]["B"])
    if bundle is not None:
        values.update(json.loads(zlib.decompress(bundle)))
    # Deterministic field order: the schema's, then any others by name.
    ordered = {n: values[n] for n in schema if n in values}
    ordered.update({n: values[n] for n in sorted(values) if n not in ordered})
    return ordered
