"""Named rules applied in the order a grammar file gives (as markdown-it-py's Ruler does).

The code of each rule lives with its stage (resolve.py, lifecycle.py); which rules apply, in
what order and with which parameters is data in grammars/*.yaml. A Ruler is built from the
file's ordered list of ``{rule: name, ...params}`` entries and the stage's registry of rule
functions: an unknown or repeated name is a GrammarError naming the file and the key.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from .grammar import GrammarError

F = TypeVar("F")


@dataclass(frozen=True, slots=True)
class Rule(Generic[F]):
    name: str
    fn: F
    params: Mapping[str, Any]


class Ruler(Generic[F]):
    """Rules in order; the stage asks them in turn (first answer wins, usually)."""

    def __init__(self, rules: list[Rule[F]]) -> None:
        self.rules = rules

    @classmethod
    def from_data(cls, entries: list[dict[str, Any]], registry: Mapping[str, F], path: Path,
                  key: str) -> Ruler[F]:
        rules: list[Rule[F]] = []
        seen: set[str] = set()
        for i, entry in enumerate(entries):
            name = str(entry["rule"])
            if name in seen:
                raise GrammarError(f"{path}: key '{key}.{i}.rule': rule {name!r} is listed "
                                   "twice; fix the grammar file")
            fn = registry.get(name)
            if fn is None:
                raise GrammarError(f"{path}: key '{key}.{i}.rule': unknown rule {name!r} "
                                   f"(known: {', '.join(sorted(registry))}); fix the grammar "
                                   "file")
            seen.add(name)
            rules.append(Rule(name, fn, {k: v for k, v in entry.items() if k != "rule"}))
        return cls(rules)

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.rules]

    def __iter__(self) -> Iterator[Rule[F]]:
        return iter(self.rules)
