"""The parser against the real corpus and the project's samples, checked by an independent scanner.

The expected blocks are computed here from the file text with a tiny line scanner that knows
nothing of markdown-it or the grammar module: every line that starts with ``[`` + an upper-case
keyword and closes its bracket on that line, outside fenced code, is a marker; its body runs to
the next such line, a ``---`` line, a heading or EOF.
"""

from __future__ import annotations

import re
from pathlib import Path

from indexer import layout
from indexer.parse import parse_file

KINDS = {  # dialect A keywords and RFC 0051 families as FORMAT.md section 2 lists them
    "PERSPECTIVE": "perspective", "TENSION": "tension", "REFINEMENT": "refinement",
    "CONCESSION": "concession", "RESOLVED": "resolved", "RESOLUTION": "resolution",
    "ACKNOWLEDGED": "acknowledged", "MOVE": "move", "RE": "reference", "VERDICT": "verdict",
    "DISSENT": "verdict", "MINORITY": "verdict",
    # FORMAT.md 7: markers seen beyond section 2's families
    "ACCEPT": "accept", "DEFER": "defer", "CONCEDE-WITH-SCOPE": "concession",
    "CONFIRM": "confirm", "CHALLENGE": "challenge", "FINAL POSITION": "position",
    "CONVERGENCE CONFIRMED": "move", "CONVERGENCE PROPOSAL": "move",
    "DESIGN CONVERGENCE CONFIRMED": "move",
}
MULTI_WORD = sorted((k for k in KINDS if " " in k), key=len, reverse=True)
TYPED = {"P": "perspective", "R": "recommendation", "T": "tension", "E": "evidence", "C": "claim"}
# a line's marker: optional heading, list bullet and emphasis, then `[` + upper-case word
_START = re.compile(r"^(#{1,6} +)?(?:[-*+] +|\d+[.)] +)?([*_]{0,3})\[([A-Z][A-Z-]+)")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# prepositions (`on`, `to Strudel on`) and target ids (T01, T-NEW, MUFFIN R1-T01, X-T01)
# after a keyword: what is left of the bracket after them is the label
_ID = r"(?:[A-Za-z]+(?:-| R\d+-))?(?:R\d+-)?T(?:\d+|-[A-Z]+)(?:-[A-Z0-9]+)*"
_AFTER_TARGETS = re.compile(rf"^\s*(?:(?:on|to|for|about|re)\s+(?:[A-Z][a-z]+\s+on\s+)?)?"
                            rf"(?:{_ID}(?:\s*(?:,|and|&)\s*{_ID})*)?\s*")


def expected_blocks(text: str) -> list[dict]:
    """Markers and bodies of a response file, scanned line by line (see module docstring)."""
    lines = text.split("\n")
    found: list[dict] = []
    fence: str | None = None
    html: bool | str = False
    ends: list[int] = []
    for i, ln in enumerate(lines):
        if html:  # an HTML block runs to a blank line (comments to their end)
            html = ("-->" not in ln) if html == "comment" else bool(ln.strip())
            continue
        f = _FENCE.match(ln)
        if fence is not None:
            if f and f.group(1)[0] == fence[0] and len(f.group(1)) >= len(fence) \
                    and not ln.strip().strip(fence[0]):
                fence = None
            continue
        if f:
            fence = f.group(1)
            continue
        if ln.startswith("<!--"):
            html = "comment" if "-->" not in ln else False
            continue
        if re.match(r"^ {0,3}</?[A-Za-z][A-Za-z0-9-]*[\s>/]", ln + " "):
            html = True
            continue
        m = _START.match(ln)
        if ln.startswith("#") or re.fullmatch(r" {0,3}(-\s*){3,}", ln):
            ends.append(i)
            if not (m and m.group(1)):
                continue
        open_ = m.end() - len(m.group(3)) - 1 if m else -1
        close = ln.find("]", open_)
        if not m or close < 0:
            continue
        inner = ln[open_ + 1:close]
        word = next((k for k in MULTI_WORD if inner.startswith(k)), m.group(3))
        typed = re.match(r"([A-Z]+)-([PRTEC])\d{4}\b", inner)
        kind = TYPED[typed.group(2)] if typed else KINDS.get(word, "unknown")
        family = re.match(r"(MOVE|VERDICT|RE):([A-Z]+)(.*)", inner)
        if family:
            rest = family.group(3)
            label = rest.split(":", 1)[1] if ":" in rest else (
                rest if family.group(2) == "REQUEST" else "")
        elif ":" in inner:
            label = inner.split(":", 1)[1]
        elif re.search(r" (?:--|—) ", inner):  # `[REFINEMENT on T03 — label]`, `-- note`
            label = re.split(r" (?:--|—) ", inner, maxsplit=1)[1]
        else:  # `[REFINEMENT on T05 / former X T01]`: what follows the targets is kept
            label = _AFTER_TARGETS.sub("", inner[len(word):])
        after = ln[close + 1:].lstrip("*_" if m.group(2) else "").lstrip(":").strip()
        if m.group(1):  # a heading marker: the body starts on the next line
            after = ""
        found.append({"line": i + 1, "kind": kind, "label": label.strip(), "after": after})
        ends.append(i)
    for b in found:
        start = b["line"] - 1
        stop = min([e for e in ends if e > start], default=len(lines))
        body = "\n".join([b.pop("after")] + lines[start + 1:stop]).strip()
        b["body"] = body
    return found


def _response_files(root: Path) -> list[tuple[str, Path]]:
    out = []
    for p in sorted(root.rglob("*.md")):
        rel = p.relative_to(root).as_posix()
        if layout.classify(rel).role == layout.RESPONSE:
            out.append((rel, p))
    return out


def _check(root: Path) -> int:
    files = _response_files(root)
    assert files, f"no response files under {root}"
    n = 0
    for rel, p in files:
        data = p.read_bytes()
        pf = parse_file(rel, data)
        want = expected_blocks(data.decode("utf-8-sig").replace("\r\n", "\n"))
        got = [{"line": b.line, "kind": b.kind, "label": b.label, "body": b.body}
               for b in pf.blocks if not b.inline]
        assert got == want, rel
        n += len(want)
    return n


def test_corpus_response_blocks_match_independent_scan(corpus_dir: Path) -> None:
    assert _check(corpus_dir) > 100


def test_corpus_prompt_files_never_yield_blocks(corpus_dir: Path) -> None:
    prompts = [p for p in corpus_dir.rglob("*.prompt.md")]
    assert prompts
    for p in prompts:
        rel = p.relative_to(corpus_dir).as_posix()
        text = p.read_text(encoding="utf-8")
        assert "[PERSPECTIVE" in text  # they do contain marker templates
        pf = parse_file(rel, p.read_bytes())
        assert pf.role == layout.PROMPT and pf.blocks == [] and not pf.has_errors


def test_corpus_verdict_inline_markers(corpus_dir: Path) -> None:
    for p in corpus_dir.rglob("verdict.md"):
        rel = p.relative_to(corpus_dir).as_posix()
        text = p.read_text(encoding="utf-8")
        want = [i + 1 for i, ln in enumerate(text.split("\n"))
                if re.search(r"(?<!`)\[MOVE:CONVERGE\](?!`)", ln) and not ln.startswith("[")]
        pf = parse_file(rel, p.read_bytes())
        got = [b.line for b in pf.blocks if b.inline and b.keyword == "MOVE:CONVERGE"]
        assert got == want and want


def test_samples_response_blocks_match_independent_scan(samples_dir: Path) -> None:
    assert _check(samples_dir) > 0
