"""A dialogue's status from the Judge's word (FORMAT.md 6): ``converged`` or ``active``.

One decision function, ``decide``, over a list of Judge statements (each with its source and
file:line), so every reader of dialogues (folders here; single-file dialogues elsewhere) feeds
it what it found and gets the same answer. ``statements`` gathers them from a folder
dialogue's parsed files; the phrases that say "convergence achieved" are grammar data
(grammars/judge.yaml ``dialogue_status``), matched by the Judge readers at parse time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import layout
from .dialogue import Entry, Tension, Verdict
from .judge.rules import grammar as judge_grammar
from .model import ParsedFile

CONVERGED = "converged"
ACTIVE = "active"

# sources of a statement, in the order FORMAT.md 6 lists them
VERDICT = "verdict"          # verdict.md gives a decision
SCOREBOARD = "scoreboard"    # the final scoreboard says convergence was achieved
NOTE = "note"                # CONVERGENCE.md says so
SUMMARY = "summary"          # the last summary says 100% converged
LEDGER = "ledger"            # the ledger is marked final and every row is closed
MOVES = "moves"              # every panel expert of the last round signalled convergence


@dataclass(frozen=True, slots=True)
class Statement:
    """One thing the Judge (or the whole panel) said that makes the dialogue converged."""

    source: str
    text: str
    file: str
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Keys in sorted order (stores that sort JSON keys give it back the same)."""
        return {"file": self.file, "line": self.line, "source": self.source, "text": self.text}


def decide(statements: list[Statement]) -> tuple[str, list[Statement]]:
    """``(status, the statements that decided it)``: converged when any statement stands."""
    return (CONVERGED if statements else ACTIVE), sorted(
        statements, key=lambda s: (s.source, s.file, s.line or 0, s.text))


def statements(dialogue_id: str, files: list[ParsedFile], verdict: Verdict | None,
               tensions: list[Tension], blocks: list[Entry], final_ledger: bool,
               rel: Any) -> list[Statement]:
    """The statements a folder dialogue's files make (see the module docstring)."""
    jg = judge_grammar()
    out: list[Statement] = []
    if verdict is not None and verdict.decision:
        out.append(Statement(VERDICT, verdict.decision, verdict.file))
    last_summary = max((f.round for f in files if f.role == layout.SUMMARY and f.round is not None),
                       default=None)
    for pf in files:
        data = pf.data if isinstance(pf.data, dict) else {}
        said = s if isinstance(s := data.get("statements"), list) else []
        source = {layout.SCOREBOARD: SCOREBOARD, layout.NOTE: NOTE}.get(pf.role)
        if pf.role == layout.SUMMARY:
            source = SUMMARY if pf.round == last_summary else None
        if source is None:
            continue
        for s in said:
            if isinstance(s, dict) and isinstance(s.get("text"), str) and s["text"].strip():
                line = s.get("line")
                out.append(Statement(source, s["text"], rel(pf.path),
                                     line if isinstance(line, int) else None))
    rows = [t for t in tensions if t.ledger_id and t.ledger_status is not None]
    if final_ledger and rows and all(t.ledger_status in jg.closed_statuses for t in rows):
        ledger = next((f for f in files if f.role == layout.LEDGER), None)
        out.append(Statement(LEDGER, f"final ledger, {len(rows)} rows closed",
                             rel(ledger.path) if ledger else "tensions.md", 1))
    out += _moves(files, blocks)
    return out


def _moves(files: list[ParsedFile], blocks: list[Entry]) -> list[Statement]:
    """Every panel expert of the last round signalled a convergence move (a keyword with
    ``move: converge`` in grammars/*.yaml)."""
    from .grammar import load

    g = load()
    converge = g.converge_keywords
    rounds = [f.round for f in files if f.role == layout.RESPONSE and f.round is not None]
    if not rounds:
        return []
    last = max(rounds)
    panel: set[str] = set()
    for pf in files:
        if pf.role == layout.PANEL and pf.round == last and isinstance(pf.data, dict):
            panel |= {a["slug"] for a in pf.data.get("agents") or []
                      if isinstance(a, dict) and isinstance(a.get("slug"), str)}
    panel |= {f.expert for f in files if f.role == layout.RESPONSE and f.round == last
              and f.expert}
    signalled: dict[str, Entry] = {}
    for e in blocks:
        if e.round == last and e.expert and e.block.keyword in converge:
            signalled.setdefault(e.expert, e)
    if not panel or not panel <= set(signalled):
        return []
    first = min(signalled.values(), key=lambda e: (e.file, e.block.line))
    return [Statement(MOVES, f"{len(panel)}/{len(panel)} panel experts signalled convergence",
                      first.file, first.block.line)]
