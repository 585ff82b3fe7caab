"""One dialogue's items -> what the report's templates show (plain dicts, no HTML but the
rendered Markdown bodies and the SVG, both built from escaped text).

Reads items (``views.show`` for the counts; the rest under the export document's field
names, see ``_read``) and keeps every field of a tension item, so fields a newer assembler
adds to tensions (``names``, ``links``, a ``deferred`` status...) show up without this
module knowing them in advance.

Anchors: every block gets ``{dialogue}/round-{N}/{expert}/{id}`` (``judge`` for the Judge's
files, no round segment for files outside rounds, ``{kind}-{n}`` for blocks without an id),
unique within the page, so a link can point at any block.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from typing import Any
from urllib.parse import quote

from ..items import Item, Items
from ..views import show
from . import markdown, svg

# The chart's metrics and the scoreboard's ALIGNMENT column names each goes by in the wild
# (compared lower-cased; the first name present in the row is used).
METRICS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("open", "Open tensions", ("open tensions", "open t", "open")),
    ("velocity", "Velocity", ("velocity", "vel")),
    ("converge", "Converge %", ("converge %", "converge", "convergence", "converge%")),
    ("score", "ALIGNMENT score", ("score", "alignment", "alignment score")),
)
# Tension fields shown in a tension's card when the store has them (after the ones the page
# always shows); lists of strings or of dicts are both rendered.
EXTRA_TENSION_FIELDS = ("names", "links")
_ID_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2})(\d{2})Z")
_WORD = re.compile(r"\w+", re.UNICODE)


def href(anchor: str) -> str:
    """``#anchor`` with characters that have a meaning in URLs escaped."""
    return "#" + quote(anchor, safe="/-._~:@!$'()*+,;=")


def page_name(dialogue_id: str) -> str:
    """The dialogue page's file name under ``dialogue/``: the id itself when it is plain
    (ids are folder names), else the id with what a file name or URL would misread escaped,
    plus a short hash so two ids never share a page."""
    safe = quote(dialogue_id, safe="-._~")
    if safe == dialogue_id and not dialogue_id.startswith("."):
        return dialogue_id + ".html"
    digest = hashlib.sha256(dialogue_id.encode()).hexdigest()[:8]
    return f"{safe.replace('%', '_').lstrip('.')}-{digest}.html"


def started(dialogue_id: str) -> str | None:
    """``2026-03-02 10:15`` from an id that starts with FORMAT.md's timestamp."""
    m = _ID_DATE.match(dialogue_id)
    return f"{m.group(1)} {m.group(2)}:{m.group(3)}" if m else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        m = re.search(r"-?\d+(?:\.\d+)?", value)
        return float(m.group()) if m else None
    return None


def _metric_values(alignment: dict[str, Any] | None) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    cols = {str(k).strip().lower(): v for k, v in (alignment or {}).items()}
    for name, _, names in METRICS:
        out[name] = next((_number(cols[n]) for n in names if n in cols), None)
    return out


class _Anchors:
    def __init__(self, dialogue_id: str) -> None:
        self.did = dialogue_id
        self.taken: set[str] = set()

    def unique(self, anchor: str, kind: str) -> str:
        if anchor in self.taken:
            anchor = f"{anchor}-{kind}"
        base, n = anchor, 2
        while anchor in self.taken:
            anchor, n = f"{base}-{n}", n + 1
        self.taken.add(anchor)
        return anchor

    def block(self, b: dict[str, Any]) -> str:
        parts = [self.did]
        if b.get("round") is not None:
            parts.append(f"round-{b['round']}")
        parts.append(b.get("expert") or "judge")
        local = str(b.get("key") or "").rsplit("#", 1)[-1]
        kind = b.get("kind") or "block"
        if b.get("id"):
            parts.append(str(b["id"]))
        elif re.fullmatch(r"n\d+", local):
            parts.append(f"{kind}-{int(local[1:])}")
        else:
            parts.append(f"{kind}-{local}")
        return self.unique("/".join(parts), kind)

    def tension(self, t: dict[str, Any]) -> str:
        who = t.get("expert") or "ledger"
        ident = t.get("id") or t.get("ledger_id") or "tension"
        rnd = f"round-{t['round']}-" if t.get("round") is not None else ""
        return self.unique(f"{self.did}/tension/{rnd}{who}-{ident}", "tension")


def _evidence(n: dict[str, Any]) -> str:
    ev = e if isinstance(e := n.get("evidence"), dict) else {}
    file, line = ev.get("file") or n.get("evidence_file"), ev.get("line") or n.get("evidence_line")
    return f"{file}:{line}" if file and line else (file or "")


def _extra(field: str, value: Any, link: Any, who: Any) -> list[tuple[str, str | None]]:
    """A field shown as lines ``(text, href)``. A merged name (``names``: an expert tension
    with the rule and evidence of its link) reads "Expert ID: label (rule, file:line)";
    other dicts are ``key: value`` pairs in key order (the same on every backend); a value
    naming a tension or block of the page (key or ledger id) links to it."""
    if value in (None, "", [], {}):
        return []
    if not isinstance(value, list):
        value = [value]
    out: list[tuple[str, str | None]] = []
    for v in value:
        if isinstance(v, dict) and field == "names" and v.get("key"):
            why = ", ".join(x for x in (v.get("rule"), _evidence(v)) if x)
            head = " ".join(str(x) for x in (who(v.get("expert")), v.get("id")) if x)
            text = f"{head}: {v.get('label') or ''}" + (f" ({why})" if why else "")
            out.append((text, link(str(v["key"]))))
        elif isinstance(v, dict):
            text = ", ".join(f"{k}: {v[k]}" for k in sorted(v) if v[k] not in (None, ""))
            own = v.get("key")  # an entry naming a tension or block links to it first
            href = (link(own) if isinstance(own, str) else None) or next(
                (h for k in sorted(v) if isinstance(v[k], str) and (h := link(v[k]))), None)
            out.append((text, href))
        else:
            out.append((str(v), link(str(v))))
    return out


def _read(items: Items) -> dict[str, Any]:
    """The items by kind (one sorted pass), under the export document's field names
    (``export.export``, without the copies of the fields the page does not show)."""
    kinds: dict[str, list[Item]] = {}
    for sk in sorted(items):
        kinds.setdefault(items[sk].get("kind") or "", []).append(items[sk])
    events: dict[str, list[Item]] = {}
    for ev in kinds.get("event", []):
        events.setdefault(ev.get("tension") or "", []).append({**ev, "kind": ev.get("event")})
    verdicts = kinds.get("verdict", [])
    return {
        "experts": kinds.get("expert", []),
        "rounds": [{**r, "round": r.get("number")} for r in kinds.get("round", [])],
        "blocks": [{**b, "kind": b.get("block_kind"), "content": b.get("body")}
                   for b in kinds.get("block", [])],
        "tensions": [{**t, "events": events.get(t.get("key") or "", [])}
                     for t in kinds.get("tension", [])],
        "references": kinds.get("ref", []),
        "verdict": verdicts[0] if verdicts else None,
        "diagnostics": kinds.get("diagnostic", []),
    }


def dialogue_page(items: Items) -> dict[str, Any]:
    """Everything the dialogue page shows, from one partition's items."""
    v, doc = show(items), _read(items)
    did = v["id"] or (items.get("meta") or {}).get("id") or ""
    anchors = _Anchors(did)
    names: dict[str, str] = {e["slug"]: e["name"] or e["slug"] for e in doc["experts"]}
    names.setdefault("judge", "Judge")

    def who(slug: str | None) -> str:
        return names.get(slug or "judge", slug or "Judge")

    blocks: list[dict[str, Any]] = []
    by_key: dict[str, dict[str, Any]] = {}
    for b in doc["blocks"]:
        ctx = {**b, "anchor": anchors.block(b), "expert_name": who(b.get("expert")),
               "html": markdown.render(b.get("content")), "refs": []}
        ctx["href"] = href(ctx["anchor"])
        blocks.append(ctx)
        by_key[b["key"]] = ctx
    tensions: list[dict[str, Any]] = []
    by_tension: dict[str, dict[str, Any]] = {}
    for t in doc["tensions"]:
        anchor = anchors.tension(t)
        source = by_key.get(t["key"])
        ctx = {**t, "anchor": anchor, "href": href(anchor),
               "expert_name": who(t.get("expert")) if t.get("expert") else "Judge's ledger",
               "effective": t.get("ledger_status") or t.get("status") or "open",
               "open": bool(t.get("open")),
               "html": source["html"] if source else "",
               "source_href": source["href"] if source else None,
               "extras": [],
               "events": []}
        for ev in t["events"]:
            src = by_key.get(ev.get("block") or "")
            kind = svg.mark_kind(ev.get("kind"), src.get("kind") if src else None)
            place = f"{ev['file']}:{ev['line']}" if ev.get("file") else ""
            tip = " \u00b7 ".join(x for x in (
                who(ev.get("actor")), kind if kind == ev.get("kind")
                else f"{kind} ({ev.get('kind')})",
                f"round {ev['round']}" if ev.get("round") is not None else "", place) if x)
            ctx["events"].append({**ev, "mark": kind, "actor_name": who(ev.get("actor")),
                                  "href": src["href"] if src else ctx["href"], "tip": tip})
        tensions.append(ctx)
        by_tension[t["key"]] = ctx
    by_ledger_id = {t["ledger_id"]: t for t in tensions if t.get("ledger_id")}

    def link(value: str) -> str | None:
        hit = by_tension.get(value) or by_key.get(value) or by_ledger_id.get(value)
        return hit["href"] if hit else None

    for t in tensions:
        for f in EXTRA_TENSION_FIELDS:
            lines = _extra(f, t.get(f), link, who)
            if lines:
                t["extras"].append((f, lines))
    for r in doc["references"]:
        src = by_key.get(r.get("source") or "")
        if src is None:
            continue
        target = by_tension.get(r.get("target") or "") or by_key.get(r.get("target") or "")
        src["refs"].append({"type": r.get("type"), "raw": r.get("target_raw"),
                            "href": target["href"] if target else None})

    round_numbers = [r["round"] for r in doc["rounds"]]
    by_round: dict[Any, dict[str, list[dict[str, Any]]]] = {}
    for b in blocks:
        by_round.setdefault(b.get("round"), {}).setdefault(b.get("expert") or "judge",
                                                          []).append(b)
    rounds = []
    for r in doc["rounds"]:
        groups = by_round.get(r["round"], {})
        speakers = [{"slug": slug, "name": who(slug), "blocks": groups[slug]}
                    for slug in sorted(groups)]
        rounds.append({**r, "summary_html": markdown.render(r.get("summary")),
                       "metrics": _metric_values(r.get("alignment")), "experts": speakers})
    known = set(round_numbers)
    loose = [b for b in blocks if b.get("round") not in known]
    # what the page lists block by block: each round by expert, then blocks outside rounds
    sections = [{"anchor": f"{did}/round-{r['round']}",
                 "title": f"Round {r['round']}" + (f": {r['summary_title']}"
                                                  if r.get("summary_title") else ""),
                 "summary_html": r["summary_html"], "groups": r["experts"]} for r in rounds]
    if loose:
        sections.append({"anchor": f"{did}/other", "title": "Outside the rounds",
                         "summary_html": "", "groups": [{"slug": "", "name": "",
                                                         "blocks": loose}]})

    contributions: dict[str, Counter[str]] = {}
    for b in blocks:
        if not b.get("inline"):
            contributions.setdefault(b.get("expert") or "judge", Counter())[b["kind"]] += 1
    contribution_kinds = sorted({k for c in contributions.values() for k in c})
    experts = [{**e, "contributions": contributions.get(e["slug"], Counter())}
               for e in doc["experts"]]

    lanes = [svg.Lane(href=t["href"],
                      title=" ".join(x for x in (_lane_id(t), t["label"] or "") if x),
                      full=f"{t['expert_name']}: {t['label'] or ''} ({t['effective']})",
                      status=t["effective"],
                      marks=tuple(svg.Mark(column=ev.get("round"), kind=ev["mark"],
                                           href=ev["href"], tip=ev["tip"])
                                  for ev in t["events"]))
             for t in tensions]
    event_rounds = {ev.get("round") for t in tensions for ev in t["events"]} - {None}
    columns = sorted(known | event_rounds)
    series = []
    for name, title, _ in METRICS:
        points = [(r["round"], r["metrics"][name]) for r in rounds]
        if name == "open" and all(p[1] is None for p in points):
            points, title = _open_from_markers(tensions, columns), "Open tensions (markers)"
        series.append((name, title, points))
    verdict = doc["verdict"]
    return {
        "id": did,
        "title": v["title"] or did,
        "question": v["question"],
        "domain": v["domain"],
        "status": v["status"] or "open",
        "started": started(did),
        "counts": v["counts"],
        "verdict": ({**verdict, "html": markdown.render(verdict.get("text"))}
                    if verdict else None),
        "rounds": rounds,
        "sections": sections,
        "experts": experts,
        "round_numbers": round_numbers,
        "contribution_kinds": contribution_kinds,
        "tensions": tensions,
        "blocks": blocks,
        "marks": [(k, label, svg.legend_icon(k)) for k, (_, label) in svg.MARKS.items()],
        "timeline": svg.timeline(lanes, columns, f"Tension timeline of {did}: "
                                 f"{len(lanes)} tensions over {len(columns)} rounds"),
        "convergence": svg.convergence(series),
        "series": series,
        "series_rows": [(rnd, [dict(points).get(rnd) for _, _, points in series])
                        for rnd in sorted({r for _, _, pts in series for r, _ in pts})],
        "last_round": max(columns) if columns else None,
        "diagnostics": doc["diagnostics"],
    }


def _lane_id(t: dict[str, Any]) -> str:
    """``MUFFIN-T01`` as the ledger writes it, else the raiser's name and the local id."""
    if t.get("ledger_id"):
        return str(t["ledger_id"])
    return " ".join(str(x) for x in (t["expert_name"] if t.get("expert") else "",
                                     t.get("id") or "") if x)


def _open_from_markers(tensions: list[dict[str, Any]], columns: list[int]
                       ) -> list[tuple[int, float | None]]:
    """Open tensions after each round from the experts' markers (``status_by_round``),
    for dialogues whose scoreboard has no ALIGNMENT table."""
    from ..judge.rules import grammar

    closed = grammar().closed_statuses
    out: list[tuple[int, float | None]] = []
    for r in columns:
        states = [t.get("status_by_round", {}).get(str(r)) for t in tensions]
        if all(s is None for s in states):
            out.append((r, None))
        else:
            out.append((r, float(sum(1 for s in states if s and s not in closed))))
    return out


def index_row(page: dict[str, Any]) -> dict[str, Any]:
    """One line of the index table."""
    c = page["counts"]
    return {"id": page["id"], "title": page["title"], "question": page["question"],
            "status": page["status"], "rounds": len(page["round_numbers"]),
            "experts": len(page["experts"]), "open": c["open_tensions"],
            "tensions": sum(c["tensions"].values()), "started": page["started"],
            "last_round": page["last_round"], "verdict": bool(page["verdict"]),
            "page": "dialogue/" + page_name(page["id"])}


def search_entries(page: dict[str, Any], dialogue_index: int) -> list[list[Any]]:
    """Compact search rows: ``[dialogue index, "#anchor", kind, expert, round, label, words,
    snippet]``; ``words`` is the block's distinct lower-case words (label and body); the
    snippet (start of the body) only for blocks without a label, to keep the file small."""
    out = []
    for b in page["blocks"]:
        text = markdown.plain(b.get("content"))
        seen = dict.fromkeys(_WORD.findall(f"{b.get('label') or ''} {text}".lower()))
        snippet = "" if b.get("label") else " ".join(text.split())[:120]
        out.append([dialogue_index, b["href"], b["kind"], b["expert_name"], b.get("round"),
                    b.get("label") or "", " ".join(seen), snippet])
    return out
