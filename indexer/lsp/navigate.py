"""What an id under the cursor names, and the answers about it: hover, definition, references.

Every answer comes from the assembled Dialogue (indexer/assemble.py): a marker's target or a
qualified mention is looked up in the dialogue's references (resolved there, by the library's
rules); a marker's own id names its block; a ledger row names the tension the ledger row was
matched to; in the Judge's files, and in experts' prose from round 1 on, a bare id that no
marker names is the ledger's id (``Tension.ledger_id``). Nothing is re-resolved here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import layout
from ..assemble import rel_to_dialogue
from ..grammar import load as load_grammar

if TYPE_CHECKING:
    from ..dialogue import Dialogue, Entry, Tension

_WORD = re.compile(r"[A-Za-z0-9_-]")


@dataclass(slots=True)
class Token:
    raw: str
    start: int  # code points in the line
    end: int


@dataclass(slots=True)
class Target:
    """What a token names: a tension (with its events) or another entity (a block)."""

    key: str
    tension: Tension | None
    entry: Entry | None


def tokens_at(text: str, char: int) -> list[Token]:
    """The ids (``T01``, ``MUFFIN R1-T01``, ``MACARON-T01``, ``P0101``) at ``char``, longest
    first: ``on T01`` also reads as ``T01`` (a word before an id may be an expert's name or
    a preposition; the dialogue's references decide)."""
    g = load_grammar()
    out: list[Token] = []
    for m in g.ref_re.finditer(text):
        if m.start() > char:
            break
        if not (m.start() <= char <= m.end()) or (m.start() and _WORD.match(text[m.start() - 1])):
            continue
        out.append(Token(m.group(0), m.start(), m.end()))
        for sp in [i + 1 for i, c in enumerate(m.group(0)) if c in " \t"]:
            sub = g.ref_re.match(text, m.start() + sp)
            if sub and sub.start() <= char <= sub.end():
                out.append(Token(sub.group(0), sub.start(), sub.end()))
    return out


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).upper() == " ".join(b.split()).upper()


def _norm(raw: str) -> str | None:
    ref = load_grammar().parse_ref(raw)
    return ref.id if ref else None


def target_of(d: Dialogue, rel: str, role: str, round_: int | None, line: int, token: Token
              ) -> Target | None:
    """The entity ``token`` (on 1-based ``line`` of ``rel``, root-relative) names."""
    tensions = {t.key: t for t in d.tensions}
    entries = {e.key: e for e in d.blocks}
    file = rel_to_dialogue(d.id, rel)

    merged = {n.get("key"): t.key for t in d.tensions for n in t.names}

    def target(key: str | None) -> Target | None:
        if key is not None and key not in tensions and key in merged:
            key = merged[key]  # an expert tension the identity merged into a ledger row
        if key is None or (key not in tensions and key not in entries):
            return None
        return Target(key, tensions.get(key), entries.get(key))

    here = [e for e in d.blocks if e.file == file
            and (e.block.line == line or (not e.block.inline
                                          and e.block.line <= line <= e.block.end_line))]
    here.sort(key=lambda e: e.block.line != line)  # markers on this very line first
    sources = {e.key for e in here}
    # 1. a marker's target, or a qualified mention in a block's text
    refs = [r for r in d.references if r.source in sources and _same(r.target_raw, token.raw)]
    refs.sort(key=lambda r: (r.line != line, r.type == "mention"))
    for r in refs:
        if r.target:
            return target(r.target)
    # 2. a marker's own id ([TENSION T01: ...], [MUFFIN-P0101: ...])
    norm = _norm(token.raw)
    for e in here:
        b = e.block
        if b.line == line and b.id and (_same(b.raw_id or "", token.raw) or b.id == norm):
            return target(e.key)
    # 3. a ledger row (or any place a tension is listed at) naming that tension
    for t in d.tensions:
        if t.file == file and t.line == line and (
                _same(t.ledger_id or "", token.raw) or t.id == norm):
            return target(t.key)
    # 4. in the Judge's files, and in prose from round 1 on (FORMAT.md 6: writers use the
    #    Judge's numbering), a bare id no marker names is the ledger's id
    if role != layout.RESPONSE or (round_ or 0) >= 1:
        hits = [t for t in d.tensions if t.ledger_id and _same(t.ledger_id, token.raw)]
        if len(hits) == 1:
            return target(hits[0].key)
    return None


# -- answers -----------------------------------------------------------------------------
def _who(actor: str | None) -> str:
    return (actor or "judge").capitalize()


def _round(r: int | None) -> str:
    return "-" if r is None else str(r)


def hover_markdown(d: Dialogue, t: Target) -> str:
    if t.tension is not None:
        return _tension_markdown(d, t.tension)
    e = t.entry
    assert e is not None
    b = e.block
    name = b.raw_id or b.id or b.keyword
    lines = [f"**{name}** {b.label}".rstrip(), "",
             f"{b.kind} by {_who(e.expert)} in round {_round(e.round)} — `{e.file}:{b.line}`"]
    cited = [r for r in d.references if r.target == e.key]
    if cited:
        lines += ["", f"referenced {len(cited)} time{'s' * (len(cited) != 1)}:"]
        by_key = {x.key: x for x in d.blocks}
        for r in cited:
            src = by_key.get(r.source)
            who = _who(src.expert) if src else "?"
            rnd = _round(src.round) if src else "-"
            lines.append(f"- R{rnd} {who} {r.type} — `{r.file}:{r.line}`")
    return "\n".join(lines)


def _tension_markdown(d: Dialogue, t: Tension) -> str:
    ident = t.ledger_id or t.id or t.key
    out = [f"**{ident}** {t.label}".rstrip(), ""]
    status = f"status: **{t.effective_status}**"
    if t.ledger_status:
        status += " (the Judge's ledger)"
        if t.status and t.status != t.ledger_status:
            status += f"; the experts' markers say {t.status}"
    out.append(status)
    if t.expert:
        where = f"`{t.file}:{t.line}`" if t.file else ""
        out.append(f"raised by {_who(t.expert)} in round {t.round} {where}".rstrip())
    elif t.file:
        who = f", raised by {_who(t.agent)}" if t.agent else ""
        out.append(f"the Judge's ledger row{who} — `{t.file}:{t.line}`")
    if t.names:  # the expert tensions the Judge merged into this one (identity.py)
        out += ["", "raised as:"]
        out += [f"- R{_round(n.get('round'))} {_who(n.get('expert'))} {n.get('id')}: "
                f"{n.get('label') or ''} — `{n.get('file')}:{n.get('line')}`"
                f" ({n.get('rule')})" for n in t.names]
    if t.events:
        out += ["", "lifecycle:"]
        out += [f"- R{_round(ev.round)} {_who(ev.actor)} {ev.kind} — `{ev.file}:{ev.line}`"
                for ev in t.events]
    return "\n".join(out)


def definition_place(t: Target, here: tuple[str, int] | None = None
                     ) -> tuple[str, int, int | None] | None:
    """``(dialogue-relative file, 1-based line, 1-based column or None)`` where it was
    defined: the raising marker, or the ledger row for a Judge id. Asked on that very line
    (``here``: the ledger row), the first expert tension merged into it."""
    if t.entry is not None:
        return t.entry.file, t.entry.block.line, t.entry.block.column
    tn = t.tension
    if tn is None or not tn.file or not tn.line:
        return None
    if here == (tn.file, tn.line):
        first = next((n for n in tn.names if n.get("file") and n.get("line")), None)
        if first is not None:
            return first["file"], first["line"], None
    return tn.file, tn.line, None


def reference_places(d: Dialogue, t: Target, include_declaration: bool
                     ) -> list[tuple[str, int, int | None]]:
    """Every event on a tension (or every reference to another entity), in round order."""
    entries = {e.key: e for e in d.blocks}
    out: list[tuple[str, int, int | None]] = []
    if t.tension is not None:
        for ev in t.tension.events:
            src = entries.get(ev.block or "")
            out.append((ev.file, ev.line or 1, src.block.column if src else None))
    else:
        for r in d.references:
            if r.target == t.key:
                src = entries.get(r.source)
                out.append((r.file, r.line or 1, src.block.column if src else None))
    if include_declaration:
        decl = definition_place(t)
        if decl and all(decl[:2] != p[:2] for p in out):
            out.insert(0, decl)
    return out
