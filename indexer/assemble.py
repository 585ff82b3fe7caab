"""All ParsedFiles of one dialogue -> a Dialogue (keys, experts, rounds, references, tensions).

Pure and deterministic: no disk, no clock; the result does not depend on the order of the
input files (they are sorted by path first). Problems that involve several files (an
unresolved target, a ledger row nobody raised, a missing round) are dialogue-level warnings;
nothing here raises on bad input.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

from . import convergence, diagnostics, layout
from .dialogue import Dialogue, Entry, Event, Expert, Reference, Round, Tension, Verdict
from .grammar import load as load_grammar
from .identity import SECTION, Identity, Link, Linker
from .items import rr
from .judge.rules import grammar as judge_grammar
from .judge.rules import norm_words
from .lifecycle import RAISED, REFERENCED, Rules, Transitions, rules
from .model import Diagnostic, ParsedFile, Ref, SectionFile
from .resolve import QUALIFIED, UNRESOLVED, Candidate, Resolver

# Dialogue-level diagnostic codes (stable; documented in the README).
UNRESOLVED_TARGET = "unresolved-target"
REFERENCE_RULE = "reference-rule"
REFERENCE_CYCLE = "reference-cycle"
LEDGER_UNMATCHED = "ledger-unmatched"
LEDGER_AMBIGUOUS = "ledger-ambiguous"
TENSION_UNLINKED = "tension-unlinked"
ROUND_MISSING = "round-missing"
EMPTY_RESPONSE = "empty-response"
DUPLICATE_KEY = "duplicate-key"
DUPLICATE_FILE = "duplicate-file"

LABEL = "label"  # rule name: a lifecycle marker without targets naming a qualified id in its label


def _warn(code: str, message: str, hint: str, file: str, line: int | None) -> Diagnostic:
    """A dialogue-level diagnostic; its severity comes from the registry (diagnostics.py)."""
    return diagnostics.make(code, file, line, detail=message, hint=hint)


def rel_to_dialogue(dialogue_id: str, path: str) -> str:
    """``{dialogue}/round-1/x.md`` -> ``round-1/x.md`` (paths in items are per dialogue)."""
    prefix = f"{dialogue_id}/"
    return path[len(prefix):] if path.startswith(prefix) else path


def block_key(round_: int | None, expert: str | None, kind: str, local: str) -> str:
    return f"{rr(round_)}#{expert or 'judge'}#{kind}#{local}"


def place_blocks(dialogue_id: str, files: list[ParsedFile],
                 diags: list[Diagnostic]) -> list[Entry]:
    """Stable keys for every block (see items.py): unchanged when other files change."""
    entries: list[Entry] = []
    seen: set[str] = set()
    for pf in files:
        rel = rel_to_dialogue(dialogue_id, pf.path)
        expert = pf.expert if pf.role == layout.RESPONSE else None
        ordinals: dict[str, int] = defaultdict(int)
        keys: list[str] = []
        for b in pf.blocks:
            if b.id:
                local = b.id
            else:
                ordinals[b.kind] += 1
                local = f"n{ordinals[b.kind]:03d}"
            key = base = block_key(pf.round, expert, b.kind, local)
            n = 1
            while key in seen:
                n += 1
                key = f"{base}~{n}"
            if n > 1:
                diags.append(_warn(
                    DUPLICATE_KEY, f"block key {base} is used more than once; this one is {key}",
                    "give each marker its own id, or keep Judge notes out of round folders",
                    pf.path, b.line))
            seen.add(key)
            keys.append(key)
        # a single file's part: ordinals are positions in the real file (codec rebuilds it)
        ordinals_in_file = pf.indices if isinstance(pf, SectionFile) else range(len(keys))
        for i, b, key in zip(ordinals_in_file, pf.blocks, keys, strict=True):
            parent = keys[b.parent] if b.parent is not None and 0 <= b.parent < len(keys) else None
            entries.append(Entry(key=key, file=rel, ordinal=i, round=pf.round, expert=expert,
                                 block=b, parent=parent))
    return entries


# --- metadata: pool, panels, scoreboard, summaries, verdict ------------------------------

def _data(pf: ParsedFile) -> dict[str, Any]:
    return pf.data if isinstance(pf.data, dict) else {}


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _float(value: Any) -> float | None:
    try:
        return float(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _slug(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return re.sub(r"\s+", "-", value.strip().lower())


def _pick_scoreboard(files: list[ParsedFile]) -> ParsedFile | None:
    """The dialogue's scoreboard (top level) wins over per-round copies; then the latest."""
    boards = [f for f in files if f.role == layout.SCOREBOARD and f.data]
    top = [f for f in boards if f.round is None]
    if top:
        return top[0]
    return max(boards, key=lambda f: (f.round or 0, f.path), default=None)


def _merged_board(files: list[ParsedFile]) -> dict[str, Any]:
    """The dialogue's scoreboard with the expert rows of every board (top level and per
    round) merged by slug: per-round boards give one round's score each."""
    pick = _pick_scoreboard(files)
    board = dict(_data(pick)) if pick else {}
    if pick is not None and pick.round is not None:
        board.pop("title", None)  # a round's board titles that round, not the dialogue
    rows: dict[str, dict[str, Any]] = {}
    for pf in sorted((f for f in files if f.role == layout.SCOREBOARD and f.data),
                     key=lambda f: (-1 if f.round is None else f.round, f.path)):
        for row in _data(pf).get("experts") or []:
            if not isinstance(row, dict) or not row.get("slug"):
                continue
            cur = rows.setdefault(row["slug"], {**row, "scores": {}})
            cur["scores"] = {**cur["scores"], **(row.get("scores") or {})}
            cur["role"] = cur.get("role") or row.get("role")
            if row.get("total") is not None and pf.round is None:
                cur["total"] = row["total"]
    for row in rows.values():
        if row.get("total") is None and row["scores"]:
            row["total"] = sum(v for v in row["scores"].values() if isinstance(v, int))
    if rows:
        board["experts"] = list(rows.values())
    return board


def build_experts(files: list[ParsedFile], scoreboard: dict[str, Any]) -> list[Expert]:
    experts: dict[str, Expert] = {}

    def get(slug: str) -> Expert:
        if slug not in experts:
            experts[slug] = Expert(slug=slug, name=slug.capitalize())
        return experts[slug]

    def note(e: Expert, source: str) -> None:
        if source not in e.sources:
            e.sources.append(source)

    def named(rows: Any, source: str, create: bool = True
              ) -> Iterator[tuple[dict[str, Any], Expert]]:
        """The rows that name an expert (by slug or name), with that expert, noted. Only
        panels and response files make an expert (FORMAT.md 7); a scoreboard or a pool
        row adds to an expert they made."""
        for row in rows or []:
            slug = isinstance(row, dict) and (_slug(row.get("slug")) or _slug(row.get("name")))
            if slug and (create or slug in experts):
                e = get(slug)
                note(e, source)
                yield row, e

    for pf in files:
        if pf.role == layout.RESPONSE and pf.expert:
            e = get(pf.expert)
            note(e, "response")
            if pf.round is not None and pf.round not in e.rounds:
                e.rounds.append(pf.round)
    # Panels, latest round last so it wins.
    panels = sorted((f for f in files if f.role == layout.PANEL),
                    key=lambda f: (-1 if f.round is None else f.round, f.path))
    for pf in panels:
        for agent, e in named(_data(pf).get("agents"), "panel"):
            e.role = _text(agent.get("role")) or e.role
            e.tier = (_text(agent.get("tier")) or e.tier or "").lower() or None
            e.relevance = _float(agent.get("relevance")) if agent.get("relevance") is not None \
                else e.relevance
            e.emoji = _text(agent.get("emoji")) or e.emoji
    for pf in files:  # "You are Muffin 🧁, a Platform Architect in ...": the role they took
        if pf.role == layout.PROMPT and pf.expert in experts and isinstance(pf.data, dict):
            e = experts[pf.expert]
            e.role = e.role or _text(pf.data.get("role"))
    for row, e in named(scoreboard.get("experts"), "scoreboard", create=False):
        e.role = e.role or _text(row.get("role"))
        scores = row.get("scores") or {}
        if isinstance(scores, dict):
            e.scores = {str(k): v for k, v in sorted(scores.items(), key=lambda kv: int(kv[0])
                        if str(kv[0]).isdigit() else 10**6)}
        total = row.get("total")
        e.total = total if isinstance(total, int) and not isinstance(total, bool) else e.total
    # Pool entries: by slug/name when given, else by role (the corpus pool lists only roles).
    for pf in (f for f in files if f.role == layout.POOL):
        claimed: set[str] = set()
        for item in _data(pf).get("experts") or []:
            if not isinstance(item, dict):
                continue
            slug = _slug(item.get("slug")) or _slug(item.get("name"))
            role = (_text(item.get("role")) or "").lower()
            if not slug and role:
                slug = next((s for s in sorted(experts) if s not in claimed
                             and (experts[s].role or "").lower() == role), None)
            if not slug or slug not in experts:
                continue  # a pool lists candidates; only the panel took part
            claimed.add(slug)
            e = get(slug)
            note(e, "pool")
            e.role = e.role or _text(item.get("role"))
            e.tier = e.tier or ((_text(item.get("tier")) or "").lower() or None)
            e.relevance = e.relevance if e.relevance is not None else _float(item.get("relevance"))
            e.emoji = e.emoji or _text(item.get("emoji"))
    for e in experts.values():
        e.rounds.sort()
        e.sources.sort()
    return [experts[s] for s in sorted(experts)]


def build_rounds(files: list[ParsedFile], scoreboard: dict[str, Any], dialogue_id: str,
                 diags: list[Diagnostic]) -> list[Round]:
    rounds: dict[int, Round] = {}
    folders: set[int] = set()  # rounds with a round-N/ folder
    for pf in files:
        if pf.round is None:
            continue
        part = isinstance(pf, SectionFile)  # a round of a single-file dialogue
        if part or re.match(r"round-\d+/", rel_to_dialogue(dialogue_id, pf.path)):
            folders.add(pf.round)
        r = rounds.setdefault(pf.round, Round(number=pf.round))
        r.files += not part
        if pf.role == layout.RESPONSE and pf.expert and pf.expert not in r.experts:
            r.experts.append(pf.expert)
        if pf.role == layout.SUMMARY and r.summary is None:
            d = _data(pf)
            r.summary_title = _text(d.get("title"))
            r.summary = _text(d.get("text"))
    for row in scoreboard.get("alignment") or []:
        if isinstance(row, dict) and isinstance(row.get("round"), int):
            rounds.setdefault(row["round"], Round(number=row["round"])).alignment = row
    for r in rounds.values():
        r.experts.sort()
    # a single file may number its rounds from 1: its gaps are only those between rounds
    first = min(folders) if folders and any(isinstance(f, SectionFile) for f in files) else 0
    for n in range(first, max(rounds) + 1 if rounds else 0):
        if n not in folders:
            known = "no files" if n not in rounds else "a summary or scoreboard row but no folder"
            diags.append(_warn(
                ROUND_MISSING, f"round {n} has {known} (round folders: {sorted(folders)})",
                f"add {dialogue_id}/round-{n}/ or renumber the round folders",
                f"{dialogue_id}/round-{n}", None))
    return [rounds[n] for n in sorted(rounds)]


# --- tensions and the ledger ---------------------------------------------------------------

def _name(t: Tension, link: Link) -> dict[str, Any]:
    """An expert tension as one of the names of the tension it was merged into (keys in
    sorted order: a store that sorts JSON keys, like the encryption envelope, gives it back
    the same)."""
    return dict(sorted({
        "key": t.key, "id": t.id, "expert": t.expert, "round": t.round, "label": t.label,
        "file": t.file, "line": t.line, "rule": link.rule, "evidence_file": link.file,
        "evidence_line": link.line}.items()))


def apply_identity(ident: Identity, dialogue_id: str, tensions: dict[str, Tension],
                   diags: list[Diagnostic]) -> None:
    """Ledger rows become tensions (or mark the expert tension they name); linked expert
    tensions become names of their row's tension; unlinked ones stay, with a warning."""
    jg = judge_grammar()
    full = f"{dialogue_id}/"
    linked_to: dict[str, list[Link]] = defaultdict(list)
    for link in ident.links.values():
        linked_to[link.tension].append(link)
    for row in ident.rows:
        t = tensions.get(row.key)
        if t is None:
            t = tensions[row.key] = Tension(
                key=row.key, id=row.id, expert=row.agent or row.expert, round=row.round,
                label=row.label, status="open", file=row.file, line=row.line, agent=row.agent)
            if not linked_to.get(row.key):
                what = "was not raised in any response file" if not row.judge else \
                    "names no expert tension that any evidence links to it"
                diags.append(_warn(
                    LEDGER_UNMATCHED, f"ledger tension {row.raw} {what}",
                    "check the id in tensions.md or the expert's TENSION marker; a Key "
                    "Tensions table naming the raisers links them", full + row.file, row.line))
        t.ledger_status = row.status or t.ledger_status
        t.ledger_id = row.raw
    raised = dict(tensions)
    for key, links in linked_to.items():
        target = tensions.get(key)
        if target is None:
            continue
        for link in sorted(links, key=lambda x: x.name):
            name = raised.get(link.name)
            if name is None:
                continue
            target.names.append(_name(name, link))
            if link.name != key:
                tensions.pop(link.name, None)
        if target.round is None and target.names:
            target.round = min((n["round"] for n in target.names if n["round"] is not None),
                               default=None)
    judge_rows = [r for r in ident.rows if r.judge]
    all_closed = bool(ident.rows) and all(r.status in jg.closed_statuses for r in ident.rows)
    ambiguous = dict(ident.ambiguous)
    for t in tensions.values():
        if not t.expert or t.key.startswith("ledger#") or t.key in ident.links:
            continue
        if t.key in ambiguous:
            diags.append(_warn(
                LEDGER_AMBIGUOUS, f"{t.expert}'s tension {t.id} ({t.label!r}) is as like "
                f"ledger rows {', '.join(ambiguous[t.key])}; linked to none",
                "name the Judge's id in a later round or in the ledger", full + (t.file or ""),
                t.line))
        elif judge_rows:
            closed = ident.final and all_closed
            diags.append(_warn(
                TENSION_UNLINKED, f"{t.expert}'s tension {t.id} ({t.label!r}) is linked to no "
                "ledger row" + ("; the final ledger closed every row, so it is taken as "
                                "consolidated" if closed else ""),
                "name the raisers in the ledger or the next prompt's Key Tensions table",
                full + (t.file or ""), t.line))
        if ident.final and all_closed:
            t.ledger_status = jg.identity.get("consolidated_status", "consolidated")


# --- references, events, cycles ------------------------------------------------------------

def _find_cycles(edges: dict[str, list[str]]) -> list[list[str]]:
    """Each elementary cycle reached by a depth-first walk (iterative; nodes in key order)."""
    color: dict[str, int] = {}
    cycles: list[list[str]] = []
    # each node's children, sorted once (the walk comes back to a node once per child)
    children = {node: sorted(set(targets)) for node, targets in edges.items()}
    for start in sorted(edges):
        if color.get(start):
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = []
        while stack:
            node, i = stack.pop()
            if i == 0:
                color[node] = 1
                path.append(node)
            nxt = children.get(node, [])
            if i < len(nxt):
                stack.append((node, i + 1))
                child = nxt[i]
                if color.get(child) == 1:
                    cycles.append(path[path.index(child):] + [child])
                elif not color.get(child):
                    stack.append((child, 0))
            else:
                color[node] = 2
                path.pop()
    return cycles


def _metadata(d: Dialogue, files: list[ParsedFile], diags: list[Diagnostic]) -> None:
    """Question, domain, verdict, title, status, experts and rounds."""
    board = _merged_board(files)
    for pf in files:
        if pf.role == layout.POOL:
            data = _data(pf)
            d.question = d.question or _text(data.get("question"))
            d.domain = d.domain or _text(data.get("domain"))
        elif pf.role == layout.VERDICT and d.verdict is None:
            data = _data(pf)
            d.verdict = Verdict(file=rel_to_dialogue(d.id, pf.path),
                                title=_text(data.get("title")), text=_text(data.get("text")),
                                decision=_text(data.get("decision")))
    title = _text(board.get("title"))
    if title:
        title = re.sub(r"^scoreboard\s*[:\-—–]\s*", "", title, flags=re.I) or title
        if norm_words(title) in {norm_words(x) for x in
                                 judge_grammar().scoreboard.get("generic_titles") or []}:
            title = None  # "Alignment Scoreboard" names the file, not the dialogue
    d.title = title or (d.verdict.title if d.verdict else None) or d.id
    d.experts = build_experts(files, board)
    d.rounds = build_rounds(files, board, d.id, diags)
    for pf in files:
        if pf.role == layout.RESPONSE and not pf.blocks and not pf.has_errors \
                and not isinstance(pf, SectionFile):  # the single file says it once (info)
            diags.append(_warn(EMPTY_RESPONSE, f"{pf.expert}'s response has no markers",
                               "tag the contributions ([PERSPECTIVE P01: ...], [TENSION T01: ...])",
                               pf.path, None))


def _link(d: Dialogue, R: Rules, resolver: Resolver, tensions: dict[str, Tension],
          ident: Identity, link: Linker,
          diags: list[Diagnostic]) -> tuple[list[Reference], list[Event]]:
    """Resolve every target and mention; one event per (marker, tension it touches).
    Events land on the canonical tension (a ledger row takes its names' events)."""
    by_key = {e.key: e for e in d.blocks}
    g = load_grammar()
    path_of = {rel_to_dialogue(d.id, pf.path): pf.path for pf in d.files}
    refs: dict[tuple[str, str, str], Reference] = {}
    events: list[Event] = []
    edges: dict[str, list[str]] = defaultdict(list)
    touched: set[tuple[str, str]] = set()
    for e in d.blocks:
        b = e.block
        full = path_of.get(e.file, e.file)
        ref_type = R.ref_type(b.keyword)
        lifecycle = R.event_on_target(b.keyword, b.kind)
        label_mentions = [m for m in b.mentions if m.expert and m.raw and m.raw in b.label]
        strong: list[tuple[Ref, str | None, str]] = []
        for t in b.targets:
            key, rule = resolver.resolve(t, e.expert, e.round, label_mentions)
            strong.append((t, key, rule))
        if not b.targets and lifecycle:  # [REFINEMENT: Sharpening CROISSANT-T01 ...]
            for m in label_mentions:
                key = resolver.qualified(m, e.round)
                strong.append((m, key, LABEL if key else UNRESOLVED))
            lead = g.parse_ref(b.label.split(" ", 1)[0].rstrip(":,-—–")) if b.label else None
            if not strong and lead is not None:  # [REFINEMENT: T06 resolution path]
                key, _ = resolver.resolve(lead, e.expert, e.round, [])
                strong.append((lead, key, LABEL if key else UNRESOLVED))
            sid = link.section_of(e) if not strong and ident.enabled(SECTION) else None
            row = ident.row_for(sid, e.round) if sid else None
            if row is not None:  # a targetless marker in a `### T06` section is about T06
                strong.append((Ref(raw=sid or "", id=sid or ""), row.key, SECTION))
        parent = by_key.get(e.parent or "")
        for ref, key, rule in strong:
            sk = (e.key, ref_type, key or f"?{ref.raw}")
            if sk not in refs:
                refs[sk] = Reference(source=e.key, type=ref_type, target=key,
                                     target_raw=ref.raw, rule=rule, resolved=key is not None,
                                     file=e.file, line=b.line)
            if key is None:
                diags.append(_warn(
                    UNRESOLVED_TARGET,
                    f"[{b.keyword}] target {ref.raw} names no entity of this dialogue",
                    "qualify it with the expert and round (MUFFIN R1-T01)", full, b.line))
            else:  # RE: and inline markers speak for the entity they belong to
                edges[e.parent or e.key].append(key)
            why = R.violation(b.keyword, ref, parent.block.kind if parent else None)
            if why:
                diags.append(_warn(REFERENCE_RULE, f"[{b.keyword}] {why}",
                                   "RFC 0051: RE:RESOLVE/REOPEN/ADDRESS name a tension; "
                                   "RE:REFINE an entity of its own type", full, b.line))
            tkey = ident.canonical(key) if key else None
            if tkey in tensions and key != e.key and (tkey, e.key) not in touched:
                touched.add((tkey, e.key))
                events.append(Event(tension=tkey, round=e.round, actor=e.actor,
                                    kind=lifecycle or REFERENCED, file=e.file, line=b.line,
                                    block=e.key))
        strong_targets = {key for _, key, _ in strong if key}
        for m in b.mentions:  # weaker links; never events, never warnings
            if not m.expert:
                continue
            key = resolver.qualified(m, e.round)
            if key and (key in strong_targets or key == e.key):
                continue
            sk = (e.key, "mention", key or f"?{m.raw}")
            if sk not in refs:
                refs[sk] = Reference(source=e.key, type="mention", target=key, target_raw=m.raw,
                                     rule=QUALIFIED if key else UNRESOLVED,
                                     resolved=key is not None, file=e.file, line=b.line)
    for t in tensions.values():
        if t.key in by_key:
            events.append(Event(tension=t.key, round=t.round, actor=t.expert or "judge",
                                kind=RAISED, file=t.file or "", line=t.line, block=t.key))
        for n in t.names:  # each merged expert tension was raised by its expert
            if n["key"] != t.key:
                events.append(Event(tension=t.key, round=n["round"], actor=n["expert"] or "judge",
                                    kind=RAISED, file=n["file"] or "", line=n["line"],
                                    block=n["key"]))
    restated = str(judge_grammar().identity.get("restatement_event", "restated"))
    for e, row_key in ident.restated:
        if row_key in tensions and (row_key, e.key) not in touched:
            touched.add((row_key, e.key))
            events.append(Event(tension=row_key, round=e.round, actor=e.actor, kind=restated,
                                file=e.file, line=e.block.line, block=e.key))
    for cycle in _find_cycles(edges):
        first = by_key[cycle[0]]
        diags.append(_warn(
            REFERENCE_CYCLE, "references form a cycle: " + " -> ".join(cycle),
            "a cycle is kept as written; check that the ids are the intended ones",
            path_of.get(first.file, first.file), first.block.line))
    return [refs[k] for k in sorted(refs)], events


def _lifecycle(tensions: dict[str, Tension], events: list[Event], last_round: int | None,
               lifecycle: Transitions) -> None:
    """Number the events and replay each tension's status round by round."""
    events.sort(key=lambda ev: (ev.tension, -1 if ev.round is None else ev.round,
                                ev.kind != RAISED, ev.file, ev.line or 0, ev.block or "",
                                ev.kind))
    counters: dict[tuple[str, int | None], int] = defaultdict(int)
    by_tension: dict[str, list[Event]] = defaultdict(list)
    for ev in events:
        counters[(ev.tension, ev.round)] += 1
        ev.ordinal = counters[(ev.tension, ev.round)]
        by_tension[ev.tension].append(ev)
    for t in tensions.values():
        t.events = by_tension.get(t.key, [])
        t.status, t.status_by_round = lifecycle.replay(
            [(ev.round, ev.kind) for ev in t.events], t.round, last_round)


def _single_files(files: list[ParsedFile]) -> tuple[list[ParsedFile], list[ParsedFile]]:
    """(the dialogue's files, the files assembly reads). A single-file dialogue is read as
    its parts (single_file.sections). When the dialogue also has a folder, the folder is the
    dialogue and a single file of the same id is its ``recording``: kept as a file, its
    blocks not read (not counted twice). Of two single files, the first path is the source."""
    from .single_file import sections

    singles = [f for f in files if f.role in layout.SINGLE_FILE_ROLES]
    if not singles:
        return files, files
    source = None if len(singles) < len(files) else next(
        (f for f in singles if f.role == layout.DIALOGUE_FILE), None)
    ids = {id(f) for f in singles}
    kept = [f if f is source or f.role == layout.RECORDING or id(f) not in ids
            else replace(f, role=layout.RECORDING, blocks=[]) for f in files]
    parts = [f for f in files if id(f) not in ids] + (sections(source) if source else [])
    return kept, parts


def assemble(dialogue_id: str, files: Iterable[ParsedFile]) -> Dialogue:
    """Assemble one dialogue from its parsed files (any order; ignored files are skipped)."""
    R = rules()
    diags: list[Diagnostic] = []
    by_path: dict[str, ParsedFile] = {}
    for pf in sorted(files, key=lambda f: (f.path, f.sha256, f.size)):
        if pf.role == layout.IGNORED:
            continue
        if pf.path in by_path:
            diags.append(_warn(DUPLICATE_FILE, "file given twice to assemble; the first is used",
                               "report this as a bug in the sync engine", pf.path, None))
            continue
        by_path[pf.path] = pf
    d = Dialogue(id=dialogue_id, files=list(by_path.values()))
    d.files, parts = _single_files(d.files)
    d.blocks = place_blocks(dialogue_id, parts, diags)
    _metadata(d, parts, diags)

    # Raised tensions: TENSION markers (and typed X-T ids) in experts' response files.
    tensions = {e.key: Tension(key=e.key, id=e.block.id, expert=e.expert, round=e.round,
                               label=e.block.label, status="open", file=e.file,
                               line=e.block.line)
                for e in d.blocks if e.expert and R.raises(e.block.kind)}
    linker = Linker(parts, d.blocks, tensions, lambda p: rel_to_dialogue(dialogue_id, p))
    ident = linker.run()  # restatements leave `tensions`; links name the rows' tensions
    apply_identity(ident, dialogue_id, tensions, diags)
    cands = [Candidate(e.expert, e.block.id, e.round, e.key, i)
             for i, e in enumerate(d.blocks) if e.expert and e.block.id]
    cands += [Candidate(t.expert, t.id, t.round, t.key, len(d.blocks))
              for t in tensions.values() if t.key.startswith("ledger#") and t.id
              and t.expert]

    def judge_id(local: str, round_: int | None, expert: str | None) -> str | None:
        row = ident.row_for(local, round_, expert)
        return row.key if row else None

    d.references, events = _link(d, R, Resolver(cands, judge_id), tensions, ident, linker,
                                 diags)
    _lifecycle(tensions, events, d.rounds[-1].number if d.rounds else None, R.lifecycle)
    d.tensions = [tensions[k] for k in sorted(tensions)]
    said = convergence.statements(dialogue_id, parts, d.verdict, d.tensions, d.blocks,
                                  ident.final, lambda p: rel_to_dialogue(dialogue_id, p))
    d.status, why = convergence.decide(said)
    d.status_reasons = [s.to_dict() for s in why]
    d.diagnostics = sorted(diags, key=lambda x: (x.file, x.line or 0, x.code, x.message))
    return d
