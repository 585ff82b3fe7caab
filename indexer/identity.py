"""Tension identity (FORMAT.md 6): one tension, many names.

Experts number their own tensions (round 0: every expert has a T01); the Judge consolidates
them into the ledger's numbering (T01..Tn) and later rounds write that numbering *as it
stood when they wrote*. A tension of the index is a ledger row together with the expert
tensions the Judge merged into it (its names), or an expert tension no row took in.

This module decides, from data the parser already read (no file is read or parsed again):

- ``known``: which Judge ids the writers of each round knew (that round's prompts' Key
  Tensions tables, the previous round's summary; a round with neither knows every ledger id
  from ``fallback_known_from_round`` on);
- ``rows``: the ledger rows, each with its canonical tension key;
- ``links``: expert tension -> row, each with the rule that linked it and the file:line of
  its evidence, by the rules of grammars/judge.yaml ``identity.links``, strongest first
  (the first rule that links a tension decides);
- ``restated``: ``[TENSION T03: ...]`` blocks that restate a known Judge id (events, not
  new tensions).

Pure and deterministic, like the assembler that calls it.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import layout
from .dialogue import Entry, Tension
from .judge.names import slugs_of_names
from .judge.rules import JudgeGrammar, norm_words
from .judge.rules import grammar as judge_grammar
from .model import ParsedFile

LEDGER_ID = "ledger-id"
LEDGER_COLUMN = "ledger-column"
OWN_WORDS = "own-words"
SUMMARY = "summary"
PROMPT_TABLE = "prompt-table"
LABEL = "label"
SECTION = "section"

_WORD = re.compile(r"[a-z0-9]+")
_QUALIFIED = re.compile(r"\b([A-Za-z]+)(?:-|\s+R(\d+)-)(T\d+)\b")
_ROUND_AFTER = re.compile(r"\bR(\d+)\b")
_ROUNDS_ONLY = re.compile(r"^[\W_]*(?:R\d+[\W_]*)*$")  # `R0`, `R1–R2`: no name in the cell


@dataclass(slots=True)
class Row:
    """A ledger row: the Judge's own numbering (``judge``) or a qualified expert id."""

    key: str  # the canonical tension's key
    id: str
    raw: str
    label: str
    status: str | None
    file: str  # relative to the dialogue folder
    line: int | None
    judge: bool
    expert: str | None = None
    round: int | None = None
    agent: str | None = None  # rows keyed by (ID, Agent): the raiser
    columns: dict[str, str] = field(default_factory=dict)
    titles: list[str] = field(default_factory=list)  # label, prompt titles, summary labels
    texts: list[str] = field(default_factory=list)  # titles + prompt descriptions


@dataclass(slots=True)
class Link:
    """An expert tension (``name``, its raising block's key) taken into ``tension``."""

    name: str
    tension: str
    rule: str
    file: str | None  # evidence, relative to the dialogue folder
    line: int | None


@dataclass(slots=True)
class Identity:
    rows: list[Row] = field(default_factory=list)
    known: dict[int, set[str]] = field(default_factory=dict)
    links: dict[str, Link] = field(default_factory=dict)  # name key -> link
    restated: list[tuple[Entry, str]] = field(default_factory=list)  # (block, row key)
    ambiguous: list[tuple[str, list[str]]] = field(default_factory=list)  # name, row ids
    final: bool = False  # the ledger says it is final
    rules: tuple[str, ...] = ()
    _judge_rows: dict[str, Row] = field(default_factory=dict)
    _agent_rows: dict[tuple[str, str], Row] = field(default_factory=dict)

    def row_for(self, local_id: str, round_: int | None, expert: str | None = None
                ) -> Row | None:
        """The Judge's row ``local_id`` if the writers of ``round_`` knew it; with rows keyed
        by (ID, Agent), ``expert``'s own row of that id first."""
        if round_ is None or local_id not in self.known.get(round_, ()):
            return None
        return self._agent_rows.get((local_id, expert or "")) or self._judge_rows.get(local_id)

    def canonical(self, key: str) -> str:
        link = self.links.get(key)
        return link.tension if link else key

    def enabled(self, rule: str) -> bool:
        return rule in self.rules


# --- words ------------------------------------------------------------------------------
def _stem(word: str, suffixes: tuple[str, ...]) -> str:
    for suf in suffixes:
        if word.endswith(suf) and len(word) - len(suf) >= 3:
            word = word[: -len(suf)]
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiou":
        word = word[:-1]  # bootstrapp(ing) -> bootstrap
    return word


_STEMS: dict[tuple[str, ...], dict[str, str]] = {}  # suffixes -> word -> stem
_TID = re.compile(r"T\d")  # own words always name an id: a cheap first filter (no \b: slow)


def words(text: str, g: JudgeGrammar) -> frozenset[str]:
    stems = _STEMS.get(g.suffixes)
    if stems is None or len(stems) > 100_000:
        stems = _STEMS[g.suffixes] = {}
    out = set()
    stop = g.stopwords
    for w in _WORD.findall(text.lower()):
        stem = stems.get(w)
        if stem is None:
            stem = stems[w] = "" if len(w) < 2 or w in stop else _stem(w, g.suffixes)
        if stem:
            out.add(stem)
    return frozenset(out)


def similarity(a: frozenset[str], b: frozenset[str],
               weight: Callable[[str], float] | None = None,
               total: Callable[[frozenset[str]], float] | None = None) -> float:
    """Weighted overlap coefficient: the weight of the shared words over the weight of the
    smaller set (0 when either is empty). Weights (inverse document frequency within the
    dialogue) make a word every tension uses count for little."""
    if not a or not b:
        return 0.0
    shared = a & b
    if not shared:
        return 0.0
    if weight is None:
        return len(shared) / min(len(a), len(b))
    wa, wb = (total(a), total(b)) if total else (sum(map(weight, a)), sum(map(weight, b)))
    return sum(map(weight, shared)) / min(wa, wb) if wa and wb else 0.0


# --- the linker ---------------------------------------------------------------------------
class Linker:
    def __init__(self, files: list[ParsedFile], blocks: list[Entry],
                 tensions: dict[str, Tension], rel: Callable[[str], str]) -> None:
        self.g = judge_grammar()
        self.files = files
        self.blocks = blocks
        self.tensions = tensions
        self.rel = rel
        self.ident = Identity(rules=tuple(str(r.get("rule")) for r in self.g.link_rules))
        self.params = {str(r.get("rule")): r for r in self.g.link_rules}
        self.by_expert: dict[str, list[Tension]] = defaultdict(list)
        for t in sorted(tensions.values(), key=lambda t: (t.round or 0, t.key)):
            if t.expert:
                self.by_expert[t.expert].append(t)
        self._words: dict[str, frozenset[str]] = {}
        self.idf: dict[str, float] | None = None  # computed on first use (weigh)
        self._sims: dict[tuple[str, str, str], float] = {}
        self._totals: dict[frozenset[str], float] = {}
        # round -> Judge id -> (prompt file, line, raisers) of its Key Tensions tables
        self.prompt_rows: dict[int, dict[str, tuple[str, Any, Any]]] = {}
        self.sections: dict[str, list[list[Any]]] = {
            rel(pf.path): [s for s in pf.data["sections"] if isinstance(s, list) and len(s) == 3
                           and isinstance(s[0], int) and isinstance(s[1], int)
                           and isinstance(s[2], str)]
            for pf in files if pf.role == layout.RESPONSE and isinstance(pf.data, dict)
            and isinstance(pf.data.get("sections"), list)}

    # -- helpers ---------------------------------------------------------------------------
    def w(self, text: str) -> frozenset[str]:
        got = self._words.get(text)
        if got is None:
            got = self._words[text] = words(text, self.g)
        return got

    def weigh(self) -> dict[str, float]:
        """Inverse document frequency of each word over the dialogue's tension labels and
        rows (each row's texts together are one document); computed once."""
        if self.idf is not None:
            return self.idf
        docs = [self.w(t.label) for t in self.tensions.values()]
        docs += [frozenset().union(*(self.w(x) for x in r.texts)) for r in self.ident.rows]
        df: dict[str, int] = defaultdict(int)
        for doc in docs:
            for word in doc:
                df[word] += 1
        n = len(docs)
        self.idf = {word: math.log(1 + n / k) for word, k in df.items()}
        return self.idf

    def weight(self, word: str) -> float:
        return self.weigh().get(word, 1.0)

    def total(self, ws: frozenset[str]) -> float:
        got = self._totals.get(ws)
        if got is None:
            idf = self.weigh()
            got = self._totals[ws] = sum(idf.get(w, 1.0) for w in ws)
        return got

    def exact(self, t: Tension, texts: list[str]) -> bool:
        """The tension's label is one of ``texts`` (case and punctuation aside): the Judge
        copied it; no similarity needed."""
        mine = _plain(t.label)
        return bool(mine) and any(_plain(x) == mine for x in texts)

    def _sim(self, t: Tension, row: Row, texts: list[str], which: str) -> float:
        key = (t.key, row.key, which)
        got = self._sims.get(key)
        if got is None:
            tw = self.w(t.label)
            got = max((similarity(tw, self.w(x), self.weight, self.total) for x in texts),
                      default=0.0)
            self._sims[key] = got
        return got

    def sim_titles(self, t: Tension, row: Row) -> float:
        return self._sim(t, row, row.titles, "titles")

    def sim_texts(self, t: Tension, row: Row) -> float:
        return self._sim(t, row, row.texts, "texts")

    def unlinked(self) -> list[Tension]:
        return [t for t in sorted(self.tensions.values(), key=lambda t: t.key)
                if t.key not in self.ident.links and t.expert]

    def link(self, t: Tension, row: Row, rule: str, file: str | None,
             line: int | None) -> None:
        if t.key not in self.ident.links:
            self.ident.links[t.key] = Link(t.key, row.key, rule, file, line)

    def qualified(self, expert: str, local: str, round_: int | None,
                  before: int | None = None) -> Tension | None:
        cands = [t for t in self.by_expert.get(expert, []) if t.id == local]
        if round_ is not None:
            return next((t for t in cands if t.round == round_), None)
        if before is not None:
            earlier = [t for t in cands if (t.round or 0) < before]
            return earlier[-1] if earlier else None
        return cands[0] if cands else None

    def section_of(self, e: Entry) -> str | None:
        best = None
        for first, last, sid in self.sections.get(e.file, ()):
            if first <= e.block.line <= last:
                best = sid  # innermost: later sections start inside earlier ones
        return best

    # -- setup -----------------------------------------------------------------------------
    def rows(self) -> None:
        """Ledger rows, each with its canonical key; a qualified row is its expert tension."""
        ident, g = self.ident, self.g
        seen: dict[str, Row] = {}
        for pf in (f for f in self.files if f.role == layout.LEDGER):
            data = pf.data if isinstance(pf.data, dict) else {}
            ident.final = ident.final or bool(data.get("final"))
            for entry in data.get("entries") or []:
                ref = entry.get("ref") if isinstance(entry, dict) else None
                if not isinstance(ref, dict) or not ref.get("id"):
                    continue
                expert = (ref.get("expert") or "").lower() or None
                agent = entry.get("agent")
                raw = str(ref.get("raw") or ref["id"])
                key_id = _key_id(ref) + (f"#{agent}" if agent and not expert else "")
                row = seen.get(key_id)
                if row is not None:  # a later row of the same id (a newer ledger) wins
                    row.status = entry.get("status") or row.status
                    row.line = entry.get("line")
                    continue
                row = Row(key=f"ledger#{key_id}", id=str(ref["id"]), raw=raw,
                          label=str(entry.get("label") or ""), status=entry.get("status"),
                          file=self.rel(pf.path), line=entry.get("line"), judge=expert is None,
                          expert=expert, round=ref.get("round"), agent=agent,
                          columns={str(k): str(v) for k, v in
                                   (entry.get("columns") or {}).items()})
                row.titles.append(row.label)
                row.texts.append(row.label)
                seen[key_id] = row
                ident.rows.append(row)
                if row.judge and row.id not in ident._judge_rows:
                    ident._judge_rows[row.id] = row
                if row.judge and agent:
                    ident._agent_rows.setdefault((row.id, agent), row)
                if expert and self.ident.enabled(LEDGER_ID):
                    t = self.qualified(expert, row.id, row.round)
                    if t is not None:
                        row.key = t.key
                        self.link(t, row, LEDGER_ID, row.file, row.line)
        del g

    def numbering(self) -> None:
        """Which Judge ids each round's writers knew, and the row texts the Judge wrote."""
        ident = self.ident
        known: dict[int, set[str]] = defaultdict(set)
        judge_ids = set(ident._judge_rows)
        rounds = {pf.round for pf in self.files if pf.round is not None}
        tables: set[tuple[int, str]] = set()  # a round's prompts repeat one table
        entries: set[tuple[str, str, str]] = set()  # and rounds repeat the earlier rows
        for pf in self.files:
            data = pf.data if isinstance(pf.data, dict) else {}
            if pf.role == layout.PROMPT and pf.round is not None and data:
                sig = (pf.round, str(data.get("table")))
                if data.get("table") and sig in tables:
                    continue
                tables.add(sig)
                rows = _rows_of(data)
                at = self.prompt_rows.setdefault(pf.round, {})
                for r in rows:
                    at.setdefault(r["id"], (self.rel(pf.path), r.get("line"), r.get("raisers")))
                    known[pf.round].add(r["id"])
                    title, label = str(r.get("title") or ""), str(r.get("label") or "")
                    if (r["id"], title, label) in entries:
                        continue
                    entries.add((r["id"], title, label))
                    row = ident._judge_rows.get(r["id"])
                    if row is not None:
                        _add(row.titles, title)
                        _add(row.texts, title)
                        _add(row.texts, label)
            elif pf.role == layout.SUMMARY and pf.round is not None:
                for s in _rows_of(data):
                    known[pf.round + 1].add(s["id"])
                    label = str(s.get("label") or "")
                    if (s["id"], label, "") in entries:
                        continue
                    entries.add((s["id"], label, ""))
                    row = ident._judge_rows.get(s["id"])
                    if row is not None:
                        _add(row.titles, s.get("label") or "")
                        _add(row.texts, s.get("label") or "")
        start = int(self.g.identity.get("fallback_known_from_round", 1))
        for rnd in rounds:
            if rnd >= start and not known.get(rnd):
                known[rnd] = set(judge_ids)
        ident.known = {r: ids for r, ids in known.items() if ids}

    # -- the rules --------------------------------------------------------------------------
    def rule_ledger_column(self, p: dict[str, Any]) -> None:
        cols = {norm_words(str(c)) for c in p.get("columns") or []}
        named: dict[str, bool] = {}  # header -> names raisers (checked once per header)
        for row in self.ident.rows:
            if not row.judge:
                continue
            for header, cell in row.columns.items():
                ok = named.get(header)
                if ok is None:
                    ok = named[header] = norm_words(header) in cols
                if not ok or not cell.strip() or _ROUNDS_ONLY.match(cell):
                    continue
                for m in _QUALIFIED.finditer(cell):  # MACARON-T01, Muffin R1-T01
                    rnd = int(m.group(2)) if m.group(2) else None
                    t = self.qualified(m.group(1).lower(), self.g.norm_id(m.group(3)), rnd)
                    if t is not None:
                        self.link(t, row, LEDGER_COLUMN, row.file, row.line)
                rm = _ROUND_AFTER.search(cell)
                rnd = int(rm.group(1)) if rm else None
                for slug in slugs_of_names(_QUALIFIED.sub(" ", cell)):
                    cands = [t for t in self.by_expert.get(slug, [])
                             if t.key not in self.ident.links
                             and (rnd is None or t.round == rnd)]
                    if not cands:
                        continue
                    best = max(cands, key=lambda t: (self.sim_texts(t, row), -(t.round or 0)))
                    if len(cands) == 1 or self.sim_texts(best, row) > 0:
                        self.link(best, row, LEDGER_COLUMN, row.file, row.line)

    def targeted_row(self, e: Entry) -> Row | None:
        """The Judge row a block is about: a bare known id it targets, else its section."""
        for t in e.block.targets:
            if not t.expert:
                row = self.ident.row_for(t.id, e.round)
                if row is not None:
                    return row
        sid = self.section_of(e)
        return self.ident.row_for(sid, e.round) if sid else None

    def rule_own_words(self, p: dict[str, Any]) -> None:
        for e in self.blocks:
            if not e.expert or not e.round or not (e.block.targets or e.file in self.sections):
                continue
            row = self.targeted_row(e)
            if row is None or not (_TID.search(e.block.body) or _TID.search(e.block.label)):
                continue
            text = f"{e.block.label}\n{e.block.body}"
            for pat in self.g.own_words:
                for m in pat.finditer(text):
                    gd = m.groupdict()
                    expert = (gd.get("expert") or e.expert).lower()
                    rnd = int(gd["round"]) if gd.get("round") else None
                    t = self.qualified(expert, self.g.norm_id(gd["id"]), rnd, before=e.round)
                    if t is not None and t.key not in self.ident.links:
                        self.link(t, row, OWN_WORDS, e.file, e.block.line)

    def rule_summary(self, p: dict[str, Any]) -> None:
        for pf in (f for f in self.files if f.role == layout.SUMMARY):
            data = pf.data if isinstance(pf.data, dict) else {}
            for s in _rows_of(data):
                row = self.ident._judge_rows.get(s["id"])
                if row is None:
                    continue
                for raw in s.get("mentions") or []:
                    m = _QUALIFIED.search(raw) if isinstance(raw, str) else None
                    if not m:
                        continue
                    rnd = int(m.group(2)) if m.group(2) else None
                    t = self.qualified(m.group(1).lower(), self.g.norm_id(m.group(3)), rnd)
                    if t is not None:
                        self.link(t, row, SUMMARY, self.rel(pf.path), s.get("line"))

    def rule_prompt_table(self, p: dict[str, Any]) -> None:
        floor = float(p.get("min_similarity", 0.01))
        label = self.params.get(LABEL, {})
        confident = float(label.get("threshold", 1.01))
        margin = float(label.get("margin", 0.0))
        raisers: dict[str, dict[str, tuple[str, int]]] = defaultdict(dict)  # name -> row id
        for rnd in sorted(self.prompt_rows):
            for rid, (file, line, names) in self.prompt_rows[rnd].items():
                if rid not in self.ident._judge_rows:
                    continue
                for slug in names if isinstance(names, list) else []:
                    for t in self.by_expert.get(slug, []):
                        if (t.round or 0) < rnd:
                            raisers[t.key].setdefault(rid, (file, line))
        shown = {rid for rows in self.prompt_rows.values() for rid in rows}
        unshown = {i: r for i, r in enumerate(r for r in self.ident.rows if r.judge)
                   if r.id not in shown}
        by_word: dict[str, set[int]] = defaultdict(set)  # title word -> unshown rows with it
        for i, r in unshown.items():
            for x in r.titles:
                for word in self.w(x):
                    by_word[word].add(i)
        for t in self.unlinked():
            named = raisers.get(t.key)
            if not named:
                continue
            rows = [self.ident._judge_rows[i] for i in named]
            same = [r for r in rows if self.exact(t, r.texts)]
            if len(same) == 1:  # the row copies the tension's label
                file, line = named[same[0].id]
                self.link(t, same[0], PROMPT_TABLE, file, line)
                continue
            score, _, best = max((self.sim_texts(t, r), -i, r) for i, r in enumerate(rows))
            if score < floor:
                continue
            # a row no Key Tensions table showed (its raisers unknown) that is plainly more
            # alike (the label rule would link it there): abstain
            if unshown:
                near = set().union(*(by_word.get(word, ()) for word in self.w(t.label)))
                bar = max(confident, score + margin)
                if any(self.sim_titles(t, unshown[i]) >= bar for i in near):
                    continue
            file, line = named[best.id]
            self.link(t, best, PROMPT_TABLE, file, line)

    def rule_label(self, p: dict[str, Any]) -> None:
        threshold, margin = float(p.get("threshold", 0.5)), float(p.get("margin", 0.15))
        judge_rows = [r for r in self.ident.rows if r.judge]
        if not judge_rows:
            return
        by_title: dict[str, list[Row]] = defaultdict(list)
        for r in judge_rows:
            for x in {_plain(x) for x in r.titles}:
                by_title[x].append(r)
        for t in self.unlinked():
            same = by_title.get(_plain(t.label), [])
            if len(same) == 1:  # a row's title copies the label
                self.link(t, same[0], LABEL, same[0].file, same[0].line)
                continue
            scored = sorted(((self.sim_titles(t, r), i) for i, r in enumerate(judge_rows)),
                            reverse=True)
            best, i = scored[0]
            second = scored[1][0] if len(scored) > 1 else 0.0
            if best < threshold:
                continue
            if best - second < margin:
                tied = [judge_rows[j].raw for s, j in scored if best - s < margin]
                self.ident.ambiguous.append((t.key, tied))
                continue
            row = judge_rows[i]
            self.link(t, row, LABEL, row.file, row.line)

    def rule_section(self, p: dict[str, Any]) -> None:
        starts = {(e.file, e.block.line): e for e in self.blocks}
        for t in self.unlinked():
            e = starts.get((t.file or "", t.line or 0))
            sid = self.section_of(e) if e else None
            row = self.ident.row_for(sid, t.round) if sid else None
            if row is not None and e is not None:
                self.link(t, row, SECTION, e.file, e.block.line)

    def restatements(self) -> None:
        """``[TENSION T03: ...]`` written when T03 was known: an event on T03, not a new
        tension (unless the block stands in another id's section)."""
        if not self.ident.known:
            return
        for e in self.blocks:
            t = self.tensions.get(e.key)
            if t is None or not e.expert or not t.id:
                continue
            row = self.ident.row_for(t.id, e.round)
            sid = self.section_of(e)
            if row is not None and (sid is None or sid == t.id):
                self.ident.restated.append((e, row.key))

    def run(self) -> Identity:
        self.rows()
        self.numbering()
        self.restatements()
        restated = {e.key for e, _ in self.ident.restated}
        for key in restated:
            self.tensions.pop(key, None)
        if restated:
            for e in list(self.by_expert):
                self.by_expert[e] = [t for t in self.by_expert[e] if t.key not in restated]
        if not self.ident._judge_rows:
            return self.ident  # every rule below links to rows of the Judge's numbering
        rules: dict[str, Callable[[dict[str, Any]], None]] = {
            LEDGER_COLUMN: self.rule_ledger_column, OWN_WORDS: self.rule_own_words,
            SUMMARY: self.rule_summary, PROMPT_TABLE: self.rule_prompt_table,
            LABEL: self.rule_label, SECTION: self.rule_section,
        }
        for name in self.ident.rules:
            fn = rules.get(name)
            if fn is not None:
                fn(self.params[name])
        return self.ident


_PLAIN: dict[str, str] = {}
_NON_WORD = re.compile(r"[^a-z0-9]+")


def _plain(text: str) -> str:
    got = _PLAIN.get(text)
    if got is None:
        if len(_PLAIN) > 100_000:
            _PLAIN.clear()
        got = _PLAIN[text] = _NON_WORD.sub(" ", text.lower()).strip()
    return got


def _rows_of(data: Any, key: str = "tensions") -> list[dict[str, Any]]:
    """``data[key]`` entries that are dicts with a string id (stored data may be odd)."""
    rows = data.get(key) if isinstance(data, dict) else None
    return [r for r in rows if isinstance(r, dict) and isinstance(r.get("id"), str)] \
        if isinstance(rows, list) else []


def _add(texts: list[str], text: str) -> None:
    text = text.strip()
    if text and text not in texts:
        texts.append(text)


def _key_id(ref: dict[str, Any]) -> str:
    parts = []
    if ref.get("expert"):
        parts.append(str(ref["expert"]).upper())
        if ref.get("round") is not None:
            parts.append(f"R{ref['round']}")
    parts.append(str(ref.get("id") or ref.get("raw") or "?"))
    return "-".join(parts)
