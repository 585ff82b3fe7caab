"""Generate a deterministic synthetic dialogue tree (FORMAT.md layout) for benchmarks and tests.

``generate(out, dialogues, rounds, experts, seed)`` writes ``out/<dialogue-id>/...`` with
pool, panels, responses in both dialects (perspectives, tensions, refinements, concessions,
RESOLVED with qualified and unqualified targets, moves, RE: references), prompts, round
summaries, the tension ledger, the scoreboard and the verdict. Every other dialogue is in
the Judge's own numbering (ledger rows T01..Tn, prompts with a Key Tensions table naming the
raisers, summaries listing the ids), so tension linking has work to do. All text comes from the word
lists below and a seeded RNG: the same arguments give the same bytes.

    python bench/gen_corpus.py OUT --dialogues 250 --rounds 4 --experts 8 [--seed 0]
    python bench/gen_corpus.py OUT --single-file ...   # one <id>.dialogue.md per dialogue

``generate_single_files`` writes the same kind of dialogues in the older single-file format
(FORMAT.md 8): the Alignment Dialogue template with its Expert Panel, scoreboard and
Tensions Tracker tables, rounds as H2, experts as H3 headings (emoji before or after the name,
with or without the role), the Judge's 💙 sections, dialect A markers.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

EXPERTS = (
    "muffin", "cupcake", "scone", "eclair", "donut", "brioche", "croissant", "macaron",
    "cannoli", "strudel", "tartlet", "galette", "beignet", "churro", "crumpet", "danish",
    "kouign", "madeleine", "pretzel", "waffle",
)
ROLES = (
    "Storage Engineer", "Security Reviewer", "Query Planner", "Operations Lead",
    "Cost Analyst", "Platform Engineer", "Developer Advocate", "Data Modeller",
    "Contrarian", "Migration Specialist", "Test Strategist", "Product Owner",
)
TIERS = ("core", "adjacent", "wildcard")
NOUNS = (
    "index", "partition", "ledger", "schema", "cache", "queue", "replica", "snapshot",
    "checkpoint", "migration", "envelope", "manifest", "catalogue", "journal", "table",
    "trigger", "boundary", "contract", "budget", "rollout", "fallback", "audit", "quota",
    "latency", "throughput", "backlog", "pipeline", "watcher", "daemon", "hook",
)
ADJS = (
    "durable", "partial", "stale", "eventual", "strict", "lazy", "eager", "bounded",
    "portable", "encrypted", "local", "global", "optional", "implicit", "explicit",
    "incremental", "atomic", "idempotent", "versioned", "shared",
)
VERBS = (
    "rebuild", "validate", "shard", "compact", "replay", "defer", "isolate", "merge",
    "reconcile", "throttle", "migrate", "verify", "expose", "retire", "pin", "batch",
)
LINKS = (
    "because", "so that", "unless", "while", "although", "which means", "and therefore",
    "provided that", "even when", "since",
)
TOPICS = (
    "storage strategy", "sync protocol", "encryption rollout", "query surface",
    "release process", "schema evolution", "cost model", "daemon lifecycle",
)


class _Text:
    """Sentence and paragraph generator over the word lists (one RNG, so deterministic)."""

    def __init__(self, rng: random.Random) -> None:
        self.r = rng

    def phrase(self, n: int = 3) -> str:
        words = [self.r.choice(ADJS), self.r.choice(NOUNS)]
        while len(words) < n:
            words.append(self.r.choice(NOUNS + ADJS))
        return " ".join(words)

    def label(self) -> str:
        return f"{self.r.choice(VERBS)} the {self.phrase(self.r.randint(2, 4))}".capitalize()

    def sentence(self) -> str:
        s = (
            f"The {self.phrase()} should {self.r.choice(VERBS)} the {self.phrase(2)} "
            f"{self.r.choice(LINKS)} the {self.phrase(2)} is {self.r.choice(ADJS)}"
        )
        if self.r.random() < 0.3:
            s += f", with `{self.r.choice(NOUNS)}#{{{self.r.choice(NOUNS)}}}` as the key"
        return s[0].upper() + s[1:] + "."

    def paragraph(self, sentences: int) -> str:
        return " ".join(self.sentence() for _ in range(sentences))


def _slugs(n: int) -> list[str]:
    base = list(EXPERTS)
    out = base[:n]
    i = 2
    while len(out) < n:  # more experts than names: suffix a number, still valid slugs
        out.extend(f"{s}{i}" for s in base[: n - len(out)])
        i += 1
    return out


def _response(t: _Text, rnd: int, me: str, panel: list[str], raised: dict[str, list[int]],
              dialect_b: bool) -> tuple[str, list[tuple[str, str]]]:
    """One expert's response; returns the text and the (local id, label) of the tensions
    raised."""
    r = t.r
    parts: list[str] = []
    new_tensions: list[tuple[str, str]] = []
    others = [e for e in panel if e != me] or [me]
    n_persp = r.randint(2, 3)
    for i in range(1, n_persp + 1):
        if dialect_b:
            pid = f"{me.upper()}-P{rnd:02d}{i:02d}"
            parts.append(f"[{pid}: {t.label()}]\n{t.paragraph(r.randint(3, 6))}")
            if rnd > 0 and r.random() < 0.5:
                other = r.choice(others)
                kind = r.choice(("SUPPORT", "OPPOSE", "REFINE"))
                parts.append(f"[RE:{kind} {other.upper()}-P{rnd - 1:02d}01]")
        else:
            style = r.random()
            pid = f"P{i:02d}" if style < 0.7 else f"P{i}"
            marker = f"[PERSPECTIVE {pid}: {t.label()}]"
            if style > 0.9:
                marker = f"**{marker}**"
            parts.append(f"{marker}\n{t.paragraph(r.randint(3, 6))}")
    if r.random() < 0.7 or rnd == 0:
        label = t.label()
        if dialect_b:
            tid = f"T{rnd:02d}01"
            parts.append(f"[{me.upper()}-{tid}: {label}]\n{t.paragraph(r.randint(2, 4))}")
        else:
            tid = "T01"
            parts.append(f"[TENSION {tid}: {label}]\n{t.paragraph(r.randint(2, 4))}")
        new_tensions.append((tid, label))
    if rnd > 0:
        earlier = [(e, rr) for e, rounds in raised.items() for rr in rounds if rr < rnd]
        if earlier:
            e, rr = r.choice(earlier)
            parts.append(f"[REFINEMENT: {e.upper()} R{rr}-T01 narrowed to the {t.phrase(2)}]\n"
                         f"{t.paragraph(r.randint(1, 3))}")
            e2, rr2 = r.choice(earlier)
            parts.append(f"[CONCESSION to {e2.capitalize()} on T01]: {t.paragraph(2)}")
            if me in raised and any(x < rnd for x in raised[me]):
                parts.append(f"[RESOLVED T01: {t.label()}]\n{t.paragraph(1)}")
            e3, rr3 = r.choice(earlier)
            if r.random() < 0.5:
                parts.append(f"[RESOLVED {e3.upper()} R{rr3}-T01]\n{t.paragraph(1)}")
            else:
                parts.append(f"- [RESOLVED: {e3.upper()} R{rr3}-T01 ({t.phrase(3)})]")
            if dialect_b:
                parts.append(f"[RE:ADDRESS {e3.upper()}-T{rr3:02d}01]")
    move = r.choice(("[MOVE:CONVERGE]", f"[MOVE:CHALLENGE P{rnd:02d}01]",
                     f"[MOVE:BRIDGE P0001 R{rnd:04d}]", "[MOVE:DEFEND P01]"))
    if r.random() < 0.5:
        parts.append(f"## {move}")
    else:
        parts.append(f"{t.paragraph(1)} I signal **{move}** for this round.")
    return "\n\n".join(parts) + "\n", new_tensions


def _prompt(t: _Text, rnd: int, me: str, dialogue: str, table: list[str] | None = None) -> str:
    key = ("### Key Tensions\n\n" + "\n".join(table) + "\n\n") if table else ""
    return (
        f"You are {me.capitalize()}, an expert in an alignment dialogue on {dialogue}.\n\n"
        + key +
        f"**Your Focus**: {t.label()}.\n\n"
        "Write EXACTLY this structure:\n\n"
        "```\n[PERSPECTIVE P01: brief label]\nTwo to four sentences.\n\n"
        "[TENSION T01: brief description]\nOne sentence.\n```\n\n"
        f"{t.paragraph(8)}\n\n{t.paragraph(6)}\n"
    )


def _dialogue(root: Path, idx: int, rounds: int, experts: int, rng: random.Random) -> list[Path]:
    t = _Text(rng)
    topic = rng.choice(TOPICS)
    stamp = f"2026-{1 + idx % 12:02d}-{1 + idx % 28:02d}T{idx % 24:02d}00Z"
    did = f"{stamp}-{topic.replace(' ', '-')}-{idx:04d}"
    d = root / did
    written: list[Path] = []

    def put(rel: str, text: str) -> None:
        p = d / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
        written.append(p)

    slugs = _slugs(experts)
    roles = {s: ROLES[i % len(ROLES)] for i, s in enumerate(slugs)}
    pool = {
        "domain": topic.title(),
        "question": f"Should we {t.label().lower()} before the {t.phrase(3)}?",
        "experts": [
            {"role": roles[s], "tier": TIERS[i % 3], "relevance": round(0.95 - i * 0.05, 2)}
            for i, s in enumerate(slugs)
        ],
    }
    put("expert-pool.json", json.dumps(pool, indent=2) + "\n")
    raised: dict[str, list[int]] = {}
    scores: dict[str, list[int]] = {s: [] for s in slugs}
    ledger: list[str] = []
    # every other dialogue is in the Judge's own numbering (FORMAT.md 6): T01..Tn rows, the
    # next round's prompts carry a Key Tensions table naming the raisers, summaries list ids
    judge = idx % 2 == 1
    rows: list[tuple[str, str, str]] = []  # (Judge id, label, raiser)
    for rnd in range(rounds):
        panel = slugs
        agents = [{"name": s.capitalize(), "emoji": "🧁", "role": roles[s],
                   "tier": TIERS[i % 3].capitalize(), "relevance": pool["experts"][i]["relevance"]}
                  for i, s in enumerate(panel)]
        put(f"round-{rnd}/panel.json", json.dumps({"agents": agents}, indent=2) + "\n")
        table = [f"| {rid} | **{lab}** — {t.phrase(4)} | Open | {who.capitalize()} |"
                 for rid, lab, who in rows] if judge else None  # the rows known at round start
        for i, s in enumerate(panel):
            text, new = _response(t, rnd, s, panel, raised, dialect_b=(i + rnd) % 3 == 0)
            put(f"round-{rnd}/{s}.md", text)
            put(f"round-{rnd}/{s}.prompt.md", _prompt(t, rnd, s, did, table))
            if new:
                raised.setdefault(s, []).append(rnd)
                status = "RESOLVED" if rnd < rounds - 1 and rng.random() < 0.7 else "OPEN"
                if judge:
                    rid = f"T{len(rows) + 1:02d}"
                    rows.append((rid, new[0][1], s))
                    ledger.append(f"| {rid} | R{rnd} | {new[0][1]} | {status} |")
                else:
                    ledger.append(f"| {s.upper()}-T01 | R{rnd} | {t.label()} | {status} |")
            scores[s].append(rng.randint(14, 25))
        summary = [f"# Round {rnd} Summary — Judge's Synthesis", ""]
        for q in range(1, 4):
            summary += [f"### Q{q}: {t.label()}?", f"**{rng.choice(('Partially', 'Yes', 'No'))}.** "
                        f"{t.paragraph(rng.randint(2, 4))}", ""]
        if judge and rows:
            summary += ["## Open Tensions", ""] + [f"- {rid}: {lab}" for rid, lab, _ in rows] \
                + [""]
        put(f"round-{rnd}.summary.md", "\n".join(summary) + "\n")
    put("tensions.md", "# Accumulated Tensions\n\n| ID | Raised | Tension | Status |\n"
        "|----|--------|---------|--------|\n" + "\n".join(ledger) + "\n")
    head = "| Expert | Role | " + " | ".join(f"R{r}" for r in range(rounds)) + " | Total |"
    sep = "|" + "---|" * (rounds + 3)
    rows = [f"| {s.capitalize()} | {roles[s]} | " + " | ".join(map(str, scores[s]))
            + f" | {sum(scores[s])} |" for s in slugs]
    align = ["| Round | W | C | T | R | Score |", "|---|---|---|---|---|---|"]
    for r in range(rounds):
        w, c, tt, rr = (rng.randint(10, 45) for _ in range(4))
        align.append(f"| {r} | {w} | {c} | {tt} | {rr} | {w + c + tt + rr} |")
    put("scoreboard.md", f"# Scoreboard: {pool['domain']}\n\n## Expert Scores\n\n{head}\n{sep}\n"
        + "\n".join(rows) + "\n\n## ALIGNMENT Tracking\n\n" + "\n".join(align) + "\n")
    put("verdict.md", f"# Final Verdict — {pool['domain']}\n\n## Answer to the Question\n\n"
        f"### {rng.choice(('YES', 'NO', 'YES, WITH CONDITIONS'))}.\n\n{t.paragraph(6)}\n\n"
        f"## Rationale\n\n{t.paragraph(8)}\n\n[VERDICT:FINAL]\n")
    return written


def generate(out: Path, dialogues: int = 250, rounds: int = 4, experts: int = 8,
             seed: int = 0) -> list[Path]:
    """Write the tree under ``out`` (the dialogues root); return the files written, sorted."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    for i in range(dialogues):
        files += _dialogue(out, i, rounds, experts, random.Random(f"{seed}:{i}"))
    return sorted(files)


def _single_file(root: Path, idx: int, rounds: int, experts: int, rng: random.Random) -> Path:
    t = _Text(rng)
    topic = rng.choice(TOPICS)
    stamp = f"2026-{1 + idx % 12:02d}-{1 + idx % 28:02d}T{idx % 24:02d}00Z"
    did = f"{stamp}-{topic.replace(' ', '-')}-{idx:04d}"
    slugs = _slugs(experts)
    roles = {s: ROLES[i % len(ROLES)] for i, s in enumerate(slugs)}
    heading = (lambda s: f"### 🧁 {s.capitalize()}", lambda s: f"### {s.capitalize()} 🧁",
               lambda s: f"### 🧁 {s.capitalize()} ({roles[s]})")
    raised: dict[str, list[int]] = {}
    tracker: list[str] = []
    body: list[str] = []
    for rnd in range(rounds):
        body.append(f"## Round {rnd}: {t.label()}" if rnd else "## Opening Arguments (Round 0)")
        for i, s in enumerate(slugs):
            text, new = _response(t, rnd, s, slugs, raised, dialect_b=False)
            body += [heading[(i + rnd) % 3](s), "", text]
            if new:
                raised.setdefault(s, []).append(rnd)
                status = "Resolved" if rnd < rounds - 1 and rng.random() < 0.7 else "Open"
                tracker.append(f"| T01 | 🧁 {s.capitalize()} | {t.label()} | {status} | {rnd} |")
        body += [f"## 💙 Judge: Round {rnd} Assessment", "", t.paragraph(rng.randint(3, 6)), ""]
    panel = ["| Agent | Role | Tier | Relevance | Emoji |", "|---|---|---|---|---|",
             "| 💙 Judge | Orchestrator | — | — | 💙 |"]
    panel += [f"| 🧁 {s.capitalize()} | {roles[s]} | {TIERS[i % 3].capitalize()} | "
              f"{0.95 - i * 0.05:.2f} | 🧁 |" for i, s in enumerate(slugs)]
    board = ["| Agent | Wisdom | Consistency | Truth | Relationships | **Total** |",
             "|---|---|---|---|---|---|"]
    for s in slugs:
        w = [rng.randint(2, 9) for _ in range(4)]
        board.append(f"| 🧁 {s.capitalize()} | " + " | ".join(map(str, w)) + f" | **{sum(w)}** |")
    head = [f"# Alignment Dialogue: {topic.title()} {idx}", "",
            f"**Date**: {stamp}", "**Status**: In Progress", "", "## Expert Panel", "", *panel,
            "", "## Alignment Scoreboard", "", *board, "", "## Tensions Tracker", "",
            "| ID | Agent | Tension | Status | Round |", "|---|---|---|---|---|", *tracker, ""]
    path = root / f"{did}.dialogue.md"
    path.write_text("\n".join(head + body) + "\n", encoding="utf-8")
    return path


def generate_single_files(out: Path, dialogues: int = 250, rounds: int = 4, experts: int = 8,
                          seed: int = 0) -> list[Path]:
    """The same dialogues as ``generate`` makes, each as one ``<id>.dialogue.md`` under
    ``out`` (a dialogues root)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return sorted(_single_file(out, i, rounds, experts, random.Random(f"{seed}:{i}"))
                  for i in range(dialogues))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path, help="dialogues root to write into")
    p.add_argument("--dialogues", type=int, default=250)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--experts", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--single-file", action="store_true",
                   help="one <id>.dialogue.md per dialogue (FORMAT.md 8)")
    a = p.parse_args(argv)
    make = generate_single_files if a.single_file else generate
    files = make(a.out, a.dialogues, a.rounds, a.experts, a.seed)
    print(f"{len(files)} files under {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
