"""Plain data shared by every stage: files -> parse -> assemble -> items -> store.

Everything here is JSON-able through ``to_dict``/``from_dict`` so parse results can be
cached, stored and compared byte for byte.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

ERROR = "error"
WARNING = "warning"
INFO = "info"  # worth knowing, never a problem (a single-file dialogue without markers)


@dataclass(slots=True)
class Diagnostic:
    """One problem found in a file or a dialogue. ``file`` is relative to the dialogues root."""

    code: str
    severity: str  # ERROR, WARNING or INFO
    message: str
    hint: str = ""
    file: str = ""
    line: int | None = None
    column: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Diagnostic:
        return cls(**{f.name: d[f.name] for f in fields(cls) if f.name in d})

    def format(self) -> str:
        """``path:line:column: code message (hint)``: the one-line form users see."""
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: {self.severity} {self.code} {self.message}"
        return f"{text} (hint: {self.hint})" if self.hint else text


@dataclass(slots=True)
class Ref:
    """An id as a marker names it: a target (before the label) or a mention (inside text).

    ``raw`` is the text as written (``MUFFIN R1-T01``); ``id`` the normalised local id
    (``T01``, ``P0101``, ``T-NEW``, ``T04-R1``); ``expert`` a lower-case slug when the id is
    qualified; ``round`` when the id names one (``R1-T01`` -> 1).
    """

    raw: str
    id: str
    expert: str | None = None
    round: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Ref:
        return cls(**{f.name: d[f.name] for f in fields(cls) if f.name in d})


@dataclass(slots=True)
class Block:
    """A marker and its body, as written in one file.

    ``kind`` comes from the grammar (perspective, tension, refinement, concession, resolved,
    resolution, acknowledged, move, reference, verdict, recommendation, evidence, claim,
    unknown, ...); ``keyword`` is the canonical upper-case keyword (``PERSPECTIVE``,
    ``MOVE:BRIDGE``, ``RE:SUPPORT``, ``VERDICT:FINAL``). ``inline`` markers stand inside a
    sentence or table cell and have no body; ``parent`` is the index (in the file's block
    list) of the block they belong to (inline markers, ``RE:`` references).
    """

    kind: str
    keyword: str
    line: int
    column: int = 1
    end_line: int = 0
    id: str | None = None
    raw_id: str | None = None
    label: str = ""
    body: str = ""
    targets: list[Ref] = field(default_factory=list)
    mentions: list[Ref] = field(default_factory=list)
    inline: bool = False
    parent: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Block:
        kw = {f.name: d[f.name] for f in fields(cls) if f.name in d}
        kw["targets"] = [Ref.from_dict(t) for t in d.get("targets") or []]
        kw["mentions"] = [Ref.from_dict(m) for m in d.get("mentions") or []]
        return cls(**kw)


@dataclass(slots=True)
class ParsedFile:
    """Everything one file yields, independent of every other file.

    ``path`` is relative to the dialogues root, POSIX separators. ``role`` is one of
    layout.ROLES. ``data`` holds role-specific structured content (pool/panel JSON, ledger
    rows, scoreboard tables, summary and verdict text), JSON-able, or None.
    ``good_sha256`` is the sha256 of the content that ``blocks``/``data`` reflect: equal to
    ``sha256`` after a clean parse, None when the content has errors. For a file with
    errors the sync engine takes blocks, data and good_sha256 from the file's clean version
    at git HEAD when there is one (FORMAT.md 5; sync.settle).
    """

    path: str
    role: str
    dialogue: str | None = None
    round: int | None = None
    expert: str | None = None
    blocks: list[Block] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    data: dict[str, Any] | None = None
    sha256: str = ""
    size: int = 0
    good_sha256: str | None = None

    @property
    def has_errors(self) -> bool:
        return any(d.severity == ERROR for d in self.diagnostics)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "role": self.role,
            "dialogue": self.dialogue,
            "round": self.round,
            "expert": self.expert,
            "blocks": [b.to_dict() for b in self.blocks],
            "diagnostics": [d.to_dict() for d in self.diagnostics],
            "data": self.data,
            "sha256": self.sha256,
            "size": self.size,
            "good_sha256": self.good_sha256,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ParsedFile:
        return cls(
            path=d["path"],
            role=d["role"],
            dialogue=d.get("dialogue"),
            round=d.get("round"),
            expert=d.get("expert"),
            blocks=[Block.from_dict(b) for b in d.get("blocks") or []],
            diagnostics=[Diagnostic.from_dict(x) for x in d.get("diagnostics") or []],
            data=d.get("data"),
            sha256=d.get("sha256", ""),
            size=d.get("size", 0),
            good_sha256=d.get("good_sha256"),
        )


@dataclass(slots=True)
class SectionFile(ParsedFile):
    """A part of a single-file dialogue seen as the folder file it stands for (one expert's
    response in one round, a round's Judge summary, the panel, the tracker as ledger): built
    in memory by single_file.sections, never stored. ``path`` is the real file's; ``indices``
    are the positions of ``blocks`` in the real file's block list."""

    indices: list[int] = field(default_factory=list)
