"""Property tests: marker text built from parts parses back into those parts; any bytes parse."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.parse import parse_file, parse_markers

RESP = "d/round-2/muffin.md"
EXPERTS = ["muffin", "cupcake", "eclair", "strudel", "croissant", "macaron"]
ID_KEYWORDS = {"PERSPECTIVE": "P", "TENSION": "T"}
TARGET_KEYWORDS = ["RESOLVED", "RESOLUTION", "ACKNOWLEDGED", "REFINEMENT", "CONCESSION"]

ws = st.text(alphabet=" \t", max_size=3)
label_text = st.text(alphabet="abcXYZ019 .,;:'\"()/?!-", min_size=1, max_size=40).map(
    str.strip).filter(lambda s: s and not s.startswith(":"))
body_text = st.lists(st.text(alphabet="abcdefXYZ0123 .,;!?", min_size=1, max_size=30)
                     .map(str.strip).filter(bool), max_size=4).map("\n".join)


def spelled(keyword: str, draw_case: int) -> str:
    return [keyword, keyword.lower(), keyword.title()][draw_case]


@st.composite
def id_markers(draw):  # noqa: ANN201
    kw = draw(st.sampled_from(sorted(ID_KEYWORDS)))
    n = draw(st.integers(min_value=0, max_value=99))
    raw_id = f"{ID_KEYWORDS[kw]}{n:02d}" if draw(st.booleans()) else f"{ID_KEYWORDS[kw]}{n}"
    label = draw(label_text)
    text = (f"[{draw(ws)}{spelled(kw, draw(st.integers(0, 2)))} {draw(ws)}{raw_id}{draw(ws)}:"
            f"{draw(ws)}{label}{draw(ws)}]")
    want_id = f"{ID_KEYWORDS[kw]}{str(n).zfill(2)}"
    return text, kw, want_id, label


@given(id_markers(), body_text)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_id_marker_round_trip(m, body: str) -> None:  # noqa: ANN001
    text, kw, want_id, label = m
    blocks, diags = parse_markers(f"{text}\n{body}\n")
    assert diags == []
    assert [(b.keyword, b.id, b.label, b.body) for b in blocks] == [(kw, want_id, label, body)]


@st.composite
def refs(draw):  # noqa: ANN201
    expert = draw(st.none() | st.sampled_from(EXPERTS))
    rnd = draw(st.none() | st.integers(0, 9))
    n = draw(st.integers(1, 99))
    raw = f"T{n}" if draw(st.booleans()) else f"T{n:02d}"
    if rnd is not None:
        raw = f"R{rnd}-{raw}"
    if expert is not None:
        sep = " " if rnd is not None and draw(st.booleans()) else "-"
        raw = f"{expert.upper() if draw(st.booleans()) else expert.title()}{sep}{raw}"
    return raw, (expert, rnd, f"T{n:02d}")


@given(st.sampled_from(TARGET_KEYWORDS), st.lists(refs(), min_size=1, max_size=4),
       st.sampled_from([",", " ,", ", ", " , "]), st.none() | label_text, body_text)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_target_marker_round_trip(kw: str, targets: list, sep: str, label: str | None,
                                  body: str) -> None:
    listed = sep.join(raw for raw, _ in targets)
    text = f"[{kw} {listed}" + (f": {label}]" if label else "]")
    blocks, diags = parse_markers(f"{text}\n{body}\n")
    assert diags == []
    (b,) = blocks
    assert (b.keyword, b.label, b.body) == (kw, label or "", body)
    assert [(t.expert, t.round, t.id) for t in b.targets] == [want for _, want in targets]
    assert [t.raw for t in b.targets] == [raw for raw, _ in targets]


FRAGMENTS = ["[", "]", ":", "PERSPECTIVE", "TENSION P1", "RESOLVED", "MOVE:", "RE:", "T01",
             "MUFFIN-T0101", " ", "\t", "\n", "\n\n", "**", "`", "```\n", "# ", "- ", "| a |",
             "---\n", "<div>", "\\", "—", " -- ", "\r\n", "\ufeff", "é", "\x00", "T-NEW", ","]


@given(st.binary(max_size=3000))
@settings(max_examples=200, deadline=None)
def test_random_bytes_never_raise(data: bytes) -> None:
    pf = parse_file(RESP, data)
    n = data.count(b"\n") + 1
    assert all(1 <= b.line <= n for b in pf.blocks)
    assert all(d.severity in ("error", "warning") and d.code for d in pf.diagnostics)


@given(st.lists(st.sampled_from(FRAGMENTS), max_size=200).map("".join))
@settings(max_examples=300, deadline=None)
def test_marker_soup_never_raises(text: str) -> None:
    data = text.encode("utf-8")
    pf = parse_file(RESP, data)
    lines = text.replace("\ufeff", "", 1).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for b in pf.blocks:
        assert 1 <= b.line <= b.end_line <= len(lines) or b.inline
        if not b.inline:  # a block's marker stands on its own line
            assert "[" in lines[b.line - 1]
