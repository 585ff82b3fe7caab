"""``blue-index report`` without a browser: safe Markdown and SVG, what the files hold, both
backends (encrypted DynamoDB on moto vs plain SQLite give the same bytes), a store that is
never written, clear errors, lazy jinja2."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape

from indexer.report import markdown, svg
from tests.support.dynamo import *  # noqa: F403 - the moto server fixtures
from tests.support.dynamo import REGION
from tests.support.report import *  # noqa: F403 - the site fixtures
from tests.support.report import BuiltSite, build_site, folder_ids
from tests.support.sync import cli

MB = 1_000_000


@pytest.mark.parametrize("url,ok", [
    ("https://example.org/x", True), ("http://a", True), ("mailto:a@b.c", True),
    ("#round-1", True), ("../other.html", True), ("javascript:alert(1)", False),
    ("JavaScript:alert(1)", False), ("java\tscript:alert(1)", False),
    (" javascript:alert(1)", False), ("data:text/html,<script>", False),
    ("vbscript:x", False), ("file:///etc/passwd", False)])
def test_link_schemes(url: str, ok: bool) -> None:
    assert markdown.safe_link(url) is ok
    html = markdown.render(f"[x]({url.replace(' ', '%20') if ok else url})")
    assert ("<a href=" in html) is ok


def test_markdown_never_passes_html_through() -> None:
    html = markdown.render("<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
                           "text <b onclick=x>bold</b> ![pic](https://example.org/p.png)")
    assert "<script" not in html and "<img" not in html and "<b " not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    # an image becomes a link to it: no fetch when the page is viewed
    assert '<a href="https://example.org/p.png" rel="nofollow noreferrer">image: pic</a>' in html


PROSE = st.lists(st.sampled_from(
    list("abz AZ\n.,;:'\"()?-+=019é$%@/{}^\u00a0\t") + ["\n\n", "  ", "1. ", "- ", "==",
                                                       "http://x.y", "**", "`", "<b>", "&amp;",
                                                       "`x`", "` a `", "`  `", "``",
                                                       "`<b>`", "`a\"b`", "\r\n"]),
    max_size=40).map("".join)


@settings(max_examples=400, deadline=None)
@given(PROSE)
def test_plain_prose_shortcut_gives_the_parsers_bytes(text: str) -> None:
    """The shortcut for plain prose either declines or returns markdown-it-py's output."""
    fast = markdown._plain_paragraphs(text)
    if fast is not None:
        assert fast == markdown._md().render(text)


def test_plain_prose_shortcut_is_taken_for_prose() -> None:
    text = 'Plain prose, "quoted" (x).\nSame paragraph.\n\n\nSecond one: 40 minutes.\n'
    assert markdown._plain_paragraphs(text) == markdown._md().render(text)
    assert markdown._plain_paragraphs("A *b*") is None
    assert markdown._plain_paragraphs("1. item") is None
    code = 'Use `a <b> & "c"` and ` d ` here.'
    assert "<code>a &lt;b&gt; &amp; &quot;c&quot;</code>" in markdown._plain_paragraphs(code)
    assert markdown._plain_paragraphs(code) == markdown._md().render(code)


def test_svg_text_is_escaped() -> None:
    bad = "</svg><script>alert(1)</script>\" onload=\"x"
    lane = svg.Lane(href="#a", title=bad, full=bad, status=bad,
                    marks=(svg.Mark(column=0, kind="raised", href="#b", tip=bad),))
    out = svg.timeline([lane], [0], bad)
    assert out.count("<svg") == 1 and out.count("</svg>") == 1
    assert "<script" not in out and "onload=\"" not in out
    assert svg.convergence([("open", bad, [(0, 1.0)])]).count("<script") == 0


def _digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _db_state(db: Path) -> list[tuple[str, str, int]]:
    return [(p.name, hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists()]


def test_report_files_and_store_untouched(tmp_path: Path, samples_dir: Path) -> None:
    site = build_site(tmp_path / "repo", samples_dir)
    db = site.root / ".blue" / "blue.db"
    before = _db_state(db)
    p = site.run("report", "--out", str(tmp_path / "again"), "--json")
    assert p.returncode == 0, p.stderr
    assert _db_state(db) == before  # reading never writes the store
    summary = json.loads(p.stdout)
    ids = folder_ids(samples_dir)
    assert summary["dialogues"] == len(ids)
    assert summary["largest_page"]["bytes"] < MB
    # the same store gives the same bytes (no clock in the pages)
    assert _digest(tmp_path / "again") == _digest(site.out)
    assert sorted(p.name for p in (site.out / "dialogue").iterdir()) == [
        f"{d}.html" for d in ids]
    # the search index holds every block of every dialogue, at its anchor
    doc = json.loads((site.out / "search.json").read_text(encoding="utf-8"))
    assert [d[0] for d in doc["dialogues"]] == ids
    for n, did in enumerate(ids):
        export = site.json("export", did)
        rows = [e for e in doc["entries"] if e[0] == n]
        assert len(rows) == len(export["blocks"])
        for persp in export["perspectives"]:
            # documented anchor form; blocks without an id: kind and ordinal (key n001 -> 1)
            local = persp["id"] or f"perspective-{int(persp['key'].rsplit('#n', 1)[1])}"
            anchor = f"#{did}/round-{persp['round']}/{persp['expert']}/{local}"
            row = next(e for e in rows if e[1] == anchor)
            assert row[5] == persp["label"]
        page = site.page(did).read_text(encoding="utf-8")
        assert len(page.encode()) < MB
        for b in export["blocks"]:  # every block's text is on its page (escaped)
            if b["label"]:
                assert str(escape(b["label"])) in page
    # search.js is the same document, as a script
    js = (site.out / "search.js").read_text(encoding="utf-8")
    assert json.loads(js[len("window.BLUE_SEARCH="):-2]) == doc


def test_report_some_dialogues_and_clean_errors(tmp_path: Path, samples_dir: Path) -> None:
    site = build_site(tmp_path / "repo", samples_dir)
    ids = folder_ids(samples_dir)
    p = site.run("report", ids[1], "--out", str(site.out))
    assert p.returncode == 0, p.stderr
    # the index lists only the one asked for; the other page from the earlier run is gone
    assert [p.name for p in (site.out / "dialogue").iterdir()] == [f"{ids[1]}.html"]
    index = (site.out / "index.html").read_text(encoding="utf-8")
    assert f'data-id="{ids[1]}"' in index and f'data-id="{ids[0]}"' not in index
    p = site.run("report", "no-such-dialogue", "--out", str(site.out))
    assert p.returncode == 2 and "unknown dialogue 'no-such-dialogue'" in p.stderr
    assert "Traceback" not in p.stderr
    other = tmp_path / "someone-elses"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    p = site.run("report", "--out", str(other))
    assert p.returncode == 2 and "not empty" in p.stderr and len(p.stderr.splitlines()) == 1
    assert [x.name for x in other.iterdir()] == ["notes.txt"]
    p = cli(tmp_path / "empty", "--dialogues", str(samples_dir), "report")
    assert p.returncode == 3 and "reindex" in p.stderr


def test_jinja2_is_imported_only_by_report() -> None:
    code = ("import sys; from indexer.cli import build_parser; build_parser(); "
            "import indexer.report.pages, indexer.report.svg; "
            "print('jinja2' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"


def test_tension_fields_shown_when_present(samples_dir: Path) -> None:
    """Fields a newer assembler adds to tensions (merged names, links with evidence) appear
    on the page without the report requiring them."""
    from indexer.items import of_kind
    from indexer.report.pages import dialogue_page
    from indexer.report.site import Site
    from indexer.views import items_from_files

    did = folder_ids(samples_dir)[0]
    items = items_from_files(samples_dir, did)
    plain = Site().dialogue(dialogue_page(items))
    t = of_kind(items, "tension")[0]
    other = of_kind(items, "tension")[1]
    t["names"] = ["MUFFIN-T09 alias name <b>", other["key"]]
    t["links"] = [{"target": "ledger#T99", "evidence": "same label <i>"}]
    page = dialogue_page(items)
    html = Site().dialogue(page)
    assert "MUFFIN-T09 alias name &lt;b&gt;" in html and "MUFFIN-T09" not in plain
    assert "target: ledger#T99, evidence: same label &lt;i&gt;" in html
    # a name that is another tension's key links to that tension's card
    card = next(x for x in page["tensions"] if x["key"] == other["key"])
    assert f'<a href="{card["href"]}">{other["key"]}</a>' in html


def test_report_from_encrypted_dynamodb_equals_sqlite(tmp_path: Path, samples_dir: Path,
                                                      dynamo_endpoint, dynamo_store_factory):
    from indexer.keys import create_key_file

    plain = build_site(tmp_path / "plain", samples_dir)
    table = dynamo_store_factory().table  # created now, deleted after the test
    root = tmp_path / "dyn"
    shutil.copytree(samples_dir, root / ".blue" / "dialogues")
    key = create_key_file(tmp_path / "keys" / "umk.key")
    (root / ".blue" / "config.yaml").write_text(
        f"storage:\n  backend: dynamodb\n  dynamodb:\n    table: {table}\n"
        f"    region: {REGION}\n" + (f"    endpoint_url: {dynamo_endpoint}\n"
                                     if dynamo_endpoint else "")
        + f"encryption:\n  key_source: file\n  key_file: {key}\n")
    for args in (("reindex",), ("report", "--out", str(tmp_path / "dyn-site"))):
        p = cli(root, *args)
        assert p.returncode == 0, p.stderr
    assert _digest(tmp_path / "dyn-site") == _digest(plain.out)


def test_corpus_pages_stay_small(corpus_site: BuiltSite, corpus_dir: Path) -> None:
    for did in folder_ids(corpus_dir):
        assert corpus_site.page(did).stat().st_size < MB
