"""show / tensions / export: the views over items, and the CLI commands on sample_dialogues."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.cli import main
from indexer.export import dumps, export
from indexer.views import UnknownDialogue, items_from_files, show, tensions

from .test_identity import ledger_rows

TRUNK = "2026-03-02T1015Z-trunk-based-development"
CDN = "2026-03-09T1400Z-cdn-cache-invalidation"
CLOSED = {"resolved", "acknowledged", "deferred", "superseded"}


def run(capsys: pytest.CaptureFixture[str], samples: Path, tmp: Path, *argv: str
        ) -> tuple[int, str, str]:
    code = main(["--root", str(tmp), "--dialogues", str(samples), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _scoreboard_title(folder: Path) -> str:
    first = (folder / "scoreboard.md").read_text(encoding="utf-8").splitlines()[0]
    return re.sub(r"^#\s*Scoreboard\s*[:—-]\s*", "", first).strip()


def _ledger_rows(folder: Path) -> dict[str, str]:
    """``{id: status words}`` of the table-shaped ledger, read here with a regex."""
    out = {}
    for r in (folder / "tensions.md").read_text(encoding="utf-8").splitlines():
        m = re.match(r"\| (T[-0-9A-Z]+) \|[^|]*\| ([^|]+?) \|", r)
        if m:
            out[m.group(1)] = re.sub(r"\s+by\s+.*$", "", m.group(2)).lower().replace(" ", "-")
    return out


@pytest.mark.parametrize("name", [TRUNK, CDN])
def test_show_json(capsys, samples_dir: Path, tmp_path: Path, name: str) -> None:
    folder = samples_dir / name
    code, out, err = run(capsys, samples_dir, tmp_path, "show", name, "--json")
    assert code == 0, err
    v = json.loads(out)
    assert set(v) == {"id", "title", "question", "domain", "status", "status_reasons",
                      "rounds", "experts", "counts", "verdict", "clock"}  # clock: issue 17
    assert v["status_reasons"] and all(set(r) == {"source", "text", "file", "line"}
                                       for r in v["status_reasons"])
    pool = json.loads((folder / "expert-pool.json").read_text(encoding="utf-8"))
    assert (v["id"], v["question"], v["domain"]) == (name, pool["question"], pool["domain"])
    assert v["title"] == _scoreboard_title(folder)
    assert [r["number"] for r in v["rounds"]] == sorted(
        int(p.name[6:]) for p in folder.glob("round-*") if p.is_dir())
    for r in v["rounds"]:
        assert r["experts"] == sorted(p.stem for p in (folder / f"round-{r['number']}")
                                      .glob("*.md") if "." not in p.stem
                                      and p.stem not in ("summary", "context-brief"))
    assert [e["slug"] for e in v["experts"]] == sorted(
        {p.stem for p in folder.glob("round-*/*.md") if "." not in p.stem
         and p.stem not in ("summary", "context-brief")})
    assert all(set(e) == {"slug", "name", "role", "tier", "rounds", "total"} for e in v["experts"])
    assert v["verdict"] and v["verdict"]["title"]
    assert v["status"] == "converged"
    assert sum(v["counts"]["blocks"].values()) > 0


def test_show_counts_tensions_from_cdn_ledger(capsys, samples_dir: Path, tmp_path: Path) -> None:
    code, out, _ = run(capsys, samples_dir, tmp_path, "show", CDN, "--json")
    counts = json.loads(out)["counts"]["tensions"]
    rows = _ledger_rows(samples_dir / CDN)
    # Every tension of this dialogue is in the table ledger, so the counts are its statuses.
    expected: dict[str, int] = {}
    for status in rows.values():
        expected[status] = expected.get(status, 0) + 1
    assert counts == expected


def test_tensions_json_shape_and_open_filter(capsys, samples_dir: Path, tmp_path: Path) -> None:
    code, out, _ = run(capsys, samples_dir, tmp_path, "tensions", CDN, "--json")
    assert code == 0
    rows = json.loads(out)
    for t in rows:
        assert list(t) == ["key", "id", "expert", "round", "label", "status", "ledger_status",
                           "events", "ledger_id", "open", "agent", "names"]
        for n in t["names"]:
            assert set(n) == {"key", "id", "expert", "round", "label", "file", "line", "rule",
                              "evidence"}
        for ev in t["events"]:
            assert list(ev) == ["round", "actor", "kind", "file", "line"]
    ledger = _ledger_rows(samples_dir / CDN)
    assert sorted(t["ledger_status"] for t in rows) == sorted(ledger.values())
    code, out, _ = run(capsys, samples_dir, tmp_path, "tensions", CDN, "--open", "--json")
    open_rows = json.loads(out)
    assert {t["key"] for t in open_rows} == {
        t["key"] for t in rows if (t["ledger_status"] or t["status"]) not in CLOSED}
    assert len(open_rows) == sum(1 for s in ledger.values() if s not in CLOSED)
    # Events point at real marker lines.
    folder = samples_dir / CDN
    for t in rows:
        for ev in t["events"]:
            line = (folder / ev["file"]).read_text(encoding="utf-8").splitlines()[ev["line"] - 1]
            assert "[" in line


def test_export_is_canonical_and_complete(capsys, samples_dir: Path, tmp_path: Path) -> None:
    code, out, _ = run(capsys, samples_dir, tmp_path, "export", TRUNK)
    assert code == 0
    items = items_from_files(samples_dir, TRUNK)
    assert out == dumps(export(items))
    code, again, _ = run(capsys, samples_dir, tmp_path, "export", TRUNK)
    assert again == out
    doc = json.loads(out)
    assert set(doc) >= {"dialogue", "experts", "rounds", "perspectives", "tensions",
                        "references", "verdict", "diagnostics", "blocks", "files"}
    assert doc["dialogue"]["id"] == TRUNK
    n_markers = sum(1 for t in doc["tensions"] for _ in t["events"])
    assert n_markers == sum(1 for i in items.values() if i["kind"] == "event")
    assert {f["path"] for f in doc["files"]} == {
        p.relative_to(samples_dir / TRUNK).as_posix()
        for p in (samples_dir / TRUNK).rglob("*") if p.is_file()} | {
        p.name for p in samples_dir.glob(f"{TRUNK}.dialogue*.md")}  # its recording


def test_human_output(capsys, samples_dir: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    code, out, _ = run(capsys, samples_dir, tmp_path, "show", TRUNK)
    assert code == 0 and out.startswith(_scoreboard_title(samples_dir / TRUNK))
    assert "\033[" not in out
    header = next(line for line in out.splitlines() if line.startswith("EXPERT"))
    rows = out.split(header, 1)[1].strip().split("\n\n")[0].splitlines()
    col = header.index("TIER")
    assert all(len(r) > col and r[col - 1] == " " and r[col] != " " for r in rows)
    code, out, _ = run(capsys, samples_dir, tmp_path, "tensions", TRUNK, "--open")
    heads = [ln for ln in out.splitlines() if not ln.startswith(" ")]
    want = [raw for raw, s, _ in ledger_rows(samples_dir / TRUNK) if s not in CLOSED]
    assert code == 0 and want and all(any(h.startswith(f"{raw}  ") for h in heads)
                                      for raw in want)
    assert not [h for h in heads if h.split("  ")[1].split()[0] in CLOSED]
    assert all(ln.startswith(("  names ", "  events ")) for ln in out.splitlines()
               if ln.startswith(" "))
    code, why, _ = run(capsys, samples_dir, tmp_path, "tensions", TRUNK, "--why")
    assert "  why     " in why and " <- ledger-id tensions.md:" in why


def test_unknown_dialogue_is_one_line_exit_2(capsys, samples_dir: Path, tmp_path: Path) -> None:
    for argv in (["show", "no-such"], ["tensions", "no-such", "--json"], ["export", "no-such"],
                 ["show", "../etc"]):
        code, out, err = run(capsys, samples_dir, tmp_path, *argv)
        assert code == 2 and out == ""
        assert len(err.strip().splitlines()) == 1
        assert argv[1] in err and "blue-index list" in err


def test_console_script_subprocess(samples_dir: Path, tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "indexer.cli", "--root", str(tmp_path),
                        "--dialogues", str(samples_dir), "tensions", TRUNK, "--json"],
                       capture_output=True, text=True, check=False, timeout=60)
    assert r.returncode == 0, r.stderr
    assert {t["key"] for t in json.loads(r.stdout)} == {
        t["key"] for t in tensions(items_from_files(samples_dir, TRUNK))}


def test_views_on_items_directly(samples_dir: Path) -> None:
    items = items_from_files(samples_dir, CDN)
    v = show(items)
    assert v["counts"]["open_tensions"] == items["meta"]["open_tensions"]
    assert v["counts"]["diagnostics"]["warning"] == sum(
        1 for i in items.values() if i["kind"] == "diagnostic" and i["severity"] == "warning")
    with pytest.raises(UnknownDialogue):
        items_from_files(samples_dir, "missing")
