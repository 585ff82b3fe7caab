"""The schema of ``.blue/config.yaml`` (JSON Schema, checked with ``jsonschema``).

Wrong types and unknown keys are configuration errors (exit 2) naming the key and the
file. jsonschema costs ~80 ms to import, and the git hook reads the config on every
commit, so a config that passed is remembered by its sha256 in ``.blue/cache`` (a pure
accelerator: a missing or stale record only means validating again).
"""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path
from typing import Any

from .localstate import make_dir

_STR = {"type": "string"}
_STR_OR_NULL = {"type": ["string", "null"]}
_BOOL = {"type": "boolean"}
_POSITIVE = {"type": "number", "exclusiveMinimum": 0}


def _section(props: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": ["object", "null"], "additionalProperties": False, "properties": props,
            **extra}


SCHEMA: dict[str, Any] = _section({
    # one folder or several (several dialogue roots)
    "dialogues": {"oneOf": [_STR, {"type": "array", "items": _STR, "minItems": 1}]},
    "storage": _section({
        "backend": {"enum": ["sqlite", "dynamodb"]},
        "sqlite": _section({"path": _STR, "busy_timeout": _POSITIVE}),
        "dynamodb": _section({
            "table": _STR, "region": _STR_OR_NULL, "endpoint_url": _STR_OR_NULL,
            "profile": _STR_OR_NULL, "max_attempts": {"type": "integer", "minimum": 1},
            "retry_mode": {"enum": ["standard", "adaptive", "legacy"]},
            "connect_timeout": _POSITIVE, "read_timeout": _POSITIVE,
            # many writers (issue 14): a per-branch view, a writer's lease, a reader's wait
            "namespace": _STR_OR_NULL, "lease_s": _POSITIVE, "wait_s": _POSITIVE,
        }),
    }),
    "hook": _section({"sync": _BOOL, "strict": _BOOL}),
    # queries sync what they read first (sync); how long they wait for a watch daemon to
    # settle before syncing themselves (daemon_wait, seconds; 0: never ask it)
    "query": _section({"sync": _BOOL, "daemon_wait": {"type": "number", "minimum": 0}}),
    "encryption": _section({
        "key_source": {"enum": ["file", "kms"]}, "key_file": _STR,
        "kms_key_id": _STR_OR_NULL, "region": _STR_OR_NULL, "endpoint_url": _STR_OR_NULL,
    }),
    "limits": _section({"max_file_size": {"type": "integer", "minimum": 1}}),
})
# Bump with any change to SCHEMA, so remembered results of the old schema are not trusted.
SCHEMA_VERSION = "3"


def problem(data: Any) -> str | None:
    """One line on what is wrong with ``data`` (the best jsonschema error), or None."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(SCHEMA)
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is None:
        return None
    where = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "additionalProperties":
        known = set(error.schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in known)
        key = f"{where}.{extra[0]}" if where else extra[0]
        return (f"unknown key '{key}'; known keys here: {', '.join(sorted(known))}")
    if error.validator == "oneOf" and where == "dialogues":
        return "'dialogues' must be a folder or a list of folders"
    if error.validator == "type":
        want = error.validator_value
        want = " or ".join(want) if isinstance(want, list) else want
        return f"'{where}' must be of type {want}, not {error.instance!r}"
    if error.validator == "enum":
        return f"'{where}' is {error.instance!r}; use one of " + ", ".join(
            map(str, error.validator_value))
    return f"'{where or 'config'}': {error.message}"


def check(path: Path, raw: bytes, data: Any, cache_dir: Path) -> str | None:
    """``problem(data)``, skipped when these exact bytes of ``path`` passed before."""
    digest = hashlib.sha256(f"{SCHEMA_VERSION}\0{path}\0".encode() + raw).hexdigest()
    mark = cache_dir / "config-ok"
    with contextlib.suppress(OSError):
        if mark.read_text(encoding="ascii") == digest:
            return None
    found = problem(data)
    if found is None:
        from .fsutil import atomic_write

        with contextlib.suppress(OSError):
            make_dir(cache_dir)
            atomic_write(mark, digest)
    return found
