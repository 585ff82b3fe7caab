"""One dialogue assembled in memory: what ``assemble`` builds and ``codec`` turns into items.

Paths in these dataclasses (``file`` fields) are relative to the dialogue folder
(``round-1/macaron.md``), like the store's ``file#{path}`` keys; ``Diagnostic.file`` keeps its
own convention (relative to the dialogues root, as users see it in ``lint``).

Tension status has two sides, both kept:

- ``status``: what the experts' markers say, replayed in order (raised -> addressed ->
  resolved / reopened / acknowledged / deferred);
- ``ledger_status``: what the Judge's ledger (``tensions.md``) says, None when it does not
  list the tension. FORMAT.md 4: the ledger states the final status and wins, so
  ``effective_status`` is the ledger's when present, else the experts'.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .model import Block, Diagnostic, ParsedFile


@dataclass(slots=True)
class Expert:
    slug: str
    name: str  # capitalised slug
    role: str | None = None
    tier: str | None = None  # lower case (pool says "core", panels say "Core")
    relevance: float | None = None
    emoji: str | None = None
    rounds: list[int] = field(default_factory=list)  # rounds with a response file
    scores: dict[str, int] = field(default_factory=dict)  # {"0": 25, ...} from the scoreboard
    total: int | None = None
    sources: list[str] = field(default_factory=list)  # panel, pool, response, scoreboard


@dataclass(slots=True)
class Round:
    number: int
    experts: list[str] = field(default_factory=list)  # slugs with a response file
    files: int = 0  # files of this round (responses, prompts, panel, summary)
    summary_title: str | None = None
    summary: str | None = None
    alignment: dict[str, Any] | None = None  # the scoreboard's ALIGNMENT row


@dataclass(slots=True)
class Entry:
    """A block placed in the dialogue: its stable key and where it came from."""

    key: str
    file: str
    ordinal: int  # index in its file's block list
    round: int | None
    expert: str | None  # None for the Judge's files and notes
    block: Block
    parent: str | None = None  # key of the block it belongs to

    @property
    def actor(self) -> str:
        return self.expert or "judge"


@dataclass(slots=True)
class Event:
    """A marker touching a tension (or the tension being raised)."""

    tension: str  # tension key
    round: int | None
    actor: str  # expert slug or "judge"
    kind: str  # raised, addressed, resolved, reopened, acknowledged, deferred, restated,
    # converged, referenced
    file: str
    line: int | None
    block: str | None  # key of the source block
    ordinal: int = 0  # among this tension's events of the same round


@dataclass(slots=True)
class Tension:
    key: str  # the raising block's key, or ledger#{ID} for a row of the Judge's numbering
    id: str | None
    expert: str | None
    round: int | None
    label: str
    status: str  # the experts' markers
    ledger_status: str | None = None  # the Judge's ledger
    ledger_id: str | None = None  # the id as the ledger writes it
    file: str | None = None
    line: int | None = None
    # the experts' status after each round, from the raising round to the last one
    status_by_round: dict[str, str] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    # the expert tensions merged into this one (identity.py), each with the rule and the
    # file:line of the evidence that linked it: {key, id, expert, round, label, file, line,
    # rule, evidence_file, evidence_line}
    names: list[dict[str, Any]] = field(default_factory=list)
    agent: str | None = None  # ledger rows keyed by (ID, Agent): the raiser

    @property
    def effective_status(self) -> str:
        return self.ledger_status or self.status

    @property
    def is_open(self) -> bool:
        """Not in grammars/judge.yaml's ``closed_statuses`` (the ledger's word wins)."""
        from .judge.rules import grammar

        return self.effective_status not in grammar().closed_statuses


@dataclass(slots=True)
class Reference:
    """A link from a block to an entity: a marker's target, or a (weaker) mention."""

    source: str  # source block key
    type: str  # the source keyword in lower case (resolved, re:support, move:bridge) or "mention"
    target: str | None  # target key (block or tension), None when unresolved
    target_raw: str  # the id as written
    rule: str  # qualified, ledger, mention, own, label, unresolved (FORMAT.md 3)
    resolved: bool
    file: str
    line: int | None


@dataclass(slots=True)
class Verdict:
    file: str
    title: str | None = None
    text: str | None = None
    decision: str | None = None


@dataclass(slots=True)
class Dialogue:
    id: str
    title: str | None = None
    question: str | None = None
    domain: str | None = None
    status: str = "active"  # converged | active (FORMAT.md 6; convergence.py)
    # the Judge statements that decided it: [{"source", "text", "file", "line"}]
    status_reasons: list[dict[str, Any]] = field(default_factory=list)
    rounds: list[Round] = field(default_factory=list)
    experts: list[Expert] = field(default_factory=list)
    files: list[ParsedFile] = field(default_factory=list)  # sorted by path
    blocks: list[Entry] = field(default_factory=list)  # files in path order, blocks in file order
    tensions: list[Tension] = field(default_factory=list)  # sorted by key
    references: list[Reference] = field(default_factory=list)
    verdict: Verdict | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)  # dialogue-level

    @property
    def open_tensions(self) -> int:
        return sum(1 for t in self.tensions if t.is_open)
