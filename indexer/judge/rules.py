"""The Judge-file grammar (grammars/judge.yaml), the diagnostic codes, and small helpers
shared by the readers. Rules are data: status words and headings live in the YAML."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from .. import diagnostics
from ..grammar import read_grammar_file
from ..model import Diagnostic

# Diagnostic codes (stable), registered in indexer/diagnostics.py with their severity.
JSON_INVALID = "json-invalid"                  # error: a pool/panel JSON file does not parse
JUDGE_UNKNOWN_SHAPE = "judge-unknown-shape"    # warning: nothing of the expected shape found
JUDGE_UNKNOWN_STATUS = "judge-unknown-status"  # warning: a ledger status word not in grammar
JUDGE_BAD_VALUE = "judge-bad-value"            # warning: a cell/field of the wrong type
JUDGE_UNREADABLE = "judge-unreadable"          # warning: the reader failed on odd input
CODES = {c: diagnostics.CODES[c].severity for c in (
    JSON_INVALID, JUDGE_UNKNOWN_SHAPE, JUDGE_UNKNOWN_STATUS, JUDGE_BAD_VALUE, JUDGE_UNREADABLE)}

def diag(code: str, message: str, hint: str, path: str, line: int | None = None,
         column: int | None = None) -> Diagnostic:
    """A registered diagnostic; ``message``/``hint`` fill the registry's templates."""
    return diagnostics.make(code, path, line, column, detail=message, hint=hint)


def norm_words(text: str) -> str:
    """Lower case, punctuation to single spaces: the form phrases are matched in."""
    return re.sub(r"[^a-z0-9%]+", " ", text.lower()).strip()


def _phrase_table(mapping: dict[str, list[str]]) -> list[tuple[str, str]]:
    pairs = [(norm_words(str(p)), canon) for canon, phrases in mapping.items()
             for p in phrases or []]
    # Longest phrase first: "partially resolved" must win over "resolved".
    return sorted((p for p in pairs if p[0]), key=lambda pc: (-len(pc[0]), pc[0]))


@dataclass(frozen=True)
class JudgeGrammar:
    statuses: list[tuple[str, str]]
    section_statuses: list[tuple[str, str]]
    resolved_statuses: frozenset[str]
    closed_statuses: frozenset[str]
    status_prefixes: list[str]
    ledger_heading: re.Pattern[str]
    ledger_id_cell: re.Pattern[str]
    id_pad: int
    ledger_columns: dict[str, list[str]]
    scoreboard: dict[str, Any]
    round_column: re.Pattern[str]
    total_parts: re.Pattern[str]
    verdict: dict[str, list[str]]
    identity: dict[str, Any]  # judge.yaml `identity:` (indexer/identity.py reads it)
    link_rules: list[dict[str, Any]]  # identity.links in order, each {"rule": name, ...}
    own_words: list[re.Pattern[str]]
    stopwords: frozenset[str]
    suffixes: tuple[str, ...]
    prompt_headings: list[str]
    prompt_role: re.Pattern[str]
    section_heading: re.Pattern[str]
    summary_heading: re.Pattern[str]
    summary_item: re.Pattern[str]
    summary_numbered_under: list[str]
    summary_numbered_item: re.Pattern[str]
    final_ledger: list[str]
    converged_patterns: list[re.Pattern[str]]
    negation: re.Pattern[str]
    status_notes: frozenset[str]

    def match_phrase(self, table: list[tuple[str, str]], text: str) -> str | None:
        words = norm_words(text)
        for phrase, canon in table:
            if words == phrase or words.startswith(phrase + " "):
                return canon
        return None

    def status_of(self, text: str) -> str | None:
        return self.match_phrase(self.statuses, text)

    def section_status_of(self, text: str) -> str | None:
        return self.match_phrase(self.section_statuses, text)

    def column(self, name: str, header: str) -> bool:
        return norm_words(header) in {norm_words(h) for h in self.ledger_columns.get(name, [])}

    def norm_id(self, raw: str) -> str:
        """``T1`` -> ``T01`` (zero-pad the leading number); suffixes and ``T-NEW`` kept."""
        up = raw.strip().upper()
        m = re.match(r"^([A-Z])(\d+)(.*)$", up)
        if not m:
            return up
        return f"{m.group(1)}{m.group(2).zfill(self.id_pad)}{m.group(3)}"


@cache
def grammar(path: str | None = None) -> JudgeGrammar:
    """Load and compile grammars/judge.yaml once per process."""
    data = read_grammar_file("judge.yaml", path)
    sb = dict(data["scoreboard"])
    return JudgeGrammar(
        statuses=_phrase_table(data["statuses"]),
        section_statuses=_phrase_table(data["section_statuses"]),
        resolved_statuses=frozenset(data["resolved_statuses"]),
        closed_statuses=frozenset(data["closed_statuses"]),
        status_prefixes=[norm_words(p) for p in data["status_prefixes"]],
        ledger_heading=re.compile(data["ledger_heading"]),
        ledger_id_cell=re.compile(data["ledger_id_cell"]),
        id_pad=int(data["id_pad"]),
        ledger_columns={k: list(v) for k, v in data["ledger_columns"].items()},
        scoreboard=sb,
        round_column=re.compile(sb["round_column"], re.IGNORECASE),
        total_parts=re.compile(sb["total_parts"]),
        verdict={k: [norm_words(x) for x in v] for k, v in data["verdict"].items()},
        **_identity(data["identity"]),
        **_dialogue_status(data["dialogue_status"]),
    )


def _identity(ident: dict[str, Any]) -> dict[str, Any]:
    links = [dict(r) for r in ident.get("links") or []]
    own = next((r.get("patterns") or [] for r in links if r.get("rule") == "own-words"), [])
    summ = ident["summary"]
    return {
        "identity": ident,
        "link_rules": links,
        "own_words": [re.compile(p, re.IGNORECASE) for p in own],
        "stopwords": frozenset(str(w).lower() for w in ident.get("stopwords") or []),
        "suffixes": tuple(sorted((str(x) for x in ident.get("suffixes") or []),
                                 key=len, reverse=True)),
        "prompt_headings": [norm_words(h) for h in ident.get("prompt_headings") or []],
        "prompt_role": re.compile(ident["prompt_role"]),
        "section_heading": re.compile(ident["section_heading"]),
        "summary_heading": re.compile(summ["heading"]),
        "summary_item": re.compile(summ["item"]),
        "summary_numbered_under": [norm_words(h) for h in summ.get("numbered_under") or []],
        "summary_numbered_item": re.compile(summ["numbered_item"]),
        "final_ledger": [norm_words(h) for h in ident.get("final_ledger") or []],
    }


def _dialogue_status(ds: dict[str, Any]) -> dict[str, Any]:
    return {
        "converged_patterns": [re.compile(p, re.IGNORECASE) for p in ds["converged_patterns"]],
        "negation": re.compile(ds["negation"], re.IGNORECASE),
        "status_notes": frozenset(str(n) for n in ds.get("notes") or []),
    }


def to_int(text: str) -> int | None:
    """``25`` -> 25, ``**10**`` -> 10; anything else None."""
    s = text.strip().strip("*_ ").replace(",", "")
    return int(s) if re.fullmatch(r"-?\d+", s) else None
