"""The report in a real headless Chromium: index, timeline, hover, anchors, search, no console
errors, screenshots (tests/out/), and hostile dialogue text that must stay text.

Expected values come from the files (folder names) and from ``tensions --json`` / ``export``
of the same store, never from the report code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.support.browser import *  # noqa: F403 - the browser fixtures
from tests.support.report import *  # noqa: F403 - the site fixtures
from tests.support.report import BuiltSite, Served, build_site, folder_ids, jira_id

pytestmark = pytest.mark.browser


def _index_ids(w) -> list[str]:
    return w.page.eval_on_selector_all("#dialogues tbody tr", "rs => rs.map(r => r.dataset.id)")


def test_index_lists_every_sample_dialogue(sample_site: BuiltSite, open_page, samples_dir):
    w = open_page()
    w.goto(sample_site.url())
    assert sorted(_index_ids(w)) == folder_ids(samples_dir)
    # each row links to a page that exists and shows the dialogue's question
    for did in folder_ids(samples_dir):
        row = w.page.locator(f'#dialogues tr[data-id="{did}"]')
        pool_file = samples_dir / did / "expert-pool.json"  # single files have no pool
        if pool_file.is_file():
            pool = json.loads(pool_file.read_text(encoding="utf-8"))
            assert pool["question"] in row.inner_text()
        href = row.locator("a.title").get_attribute("href")
        assert (sample_site.out / unquote(href)).is_file()
    # the filter box hides the rows that do not match
    first, second = folder_ids(samples_dir)[:2]
    w.page.fill("#filter", second[-12:])
    assert w.page.locator(f'tr[data-id="{first}"]').is_hidden()
    assert w.page.locator(f'tr[data-id="{second}"]').is_visible()
    w.page.fill("#filter", "")
    # sorting by the rounds column puts the rows in that order
    w.page.click("th:nth-child(5) button")  # open / total tensions
    opens = w.page.eval_on_selector_all(
        "#dialogues tbody tr", "rs => rs.map(r => parseInt(r.children[4].dataset.v))")
    assert opens == sorted(opens)
    w.shot("index")
    assert w.errors == []


def test_index_lists_both_corpus_dialogues(corpus_site: BuiltSite, open_page, corpus_dir):
    w = open_page()
    w.goto(corpus_site.url())
    assert sorted(_index_ids(w)) == folder_ids(corpus_dir)
    assert w.errors == []


def _check_timeline(site: BuiltSite, did: str, open_page, shot: str | None = None) -> None:
    tensions = site.json("tensions", did)
    w = open_page()
    w.goto(site.page(did).as_uri())
    lanes = w.page.locator("svg.timeline .lane")
    assert lanes.count() == len(tensions)
    assert w.page.locator("svg.timeline .mark").count() == sum(len(t["events"])
                                                               for t in tensions)
    # lane by lane: the marks of each lane are that tension's events
    per_lane = w.page.eval_on_selector_all(
        "svg.timeline .lane", "ls => ls.map(l => l.querySelectorAll('.mark').length)")
    assert per_lane == [len(t["events"]) for t in tensions]
    if shot:
        w.page.evaluate("() => { location.hash = 'timeline'; }")
        w.shot(shot)
    assert w.errors == []


def test_timeline_of_the_jira_dialogue(corpus_site: BuiltSite, corpus_dir: Path, open_page):
    _check_timeline(corpus_site, jira_id(corpus_dir), open_page, "timeline-jira")


@pytest.mark.parametrize("which", [0, 1])
def test_timeline_of_the_sample_dialogues(sample_site: BuiltSite, samples_dir: Path,
                                          open_page, which: int):
    _check_timeline(sample_site, folder_ids(samples_dir)[which], open_page)


def test_hover_shows_the_expert_and_click_lands_on_the_block(sample_site: BuiltSite,
                                                             samples_dir: Path, open_page):
    did = folder_ids(samples_dir)[0]
    tensions = sample_site.json("tensions", did)
    # a tension raised by an expert in round >= 1, with an id: its first mark is "raised"
    i, t = next((i, t) for i, t in enumerate(tensions)
                if t["expert"] and t["id"] and (t["round"] or 0) >= 1)
    w = open_page()
    w.goto(sample_site.page(did).as_uri())
    mark = w.page.locator("svg.timeline .lane").nth(i).locator(".mark").first
    mark.hover()
    tip = w.page.locator("#tip")
    tip.wait_for(state="visible", timeout=5_000)
    assert t["events"][0]["actor"].lower() in tip.inner_text().lower()
    assert "raised" in tip.inner_text()
    w.shot("timeline-hover")
    mark.click()
    want = f"{did}/round-{t['round']}/{t['expert']}/{t['id']}"
    w.page.wait_for_function("h => decodeURIComponent(location.hash) === h", arg="#" + want)
    target = w.page.locator(f'[id="{want}"]')
    assert target.count() == 1
    assert t["label"] in target.inner_text()
    assert f"{t['events'][0]['file']}:{t['events'][0]['line']}" in target.inner_text()
    assert w.page.evaluate("() => document.querySelector(':target').id") == want
    w.shot("dialogue")
    # every other mark also points at a block (or tension) that exists on the page
    hrefs = w.page.eval_on_selector_all("svg.timeline .mark",
                                        "ms => ms.map(m => m.getAttribute('href'))")
    for h in set(hrefs):
        assert w.page.locator(f'[id="{unquote(h[1:])}"]').count() == 1, h
    assert w.errors == []


def _unique_word(site: BuiltSite, ids: list[str]) -> tuple[str, dict, str]:
    """A perspective and a word of its body whose first letters (all but the last) begin
    no word of any other block of any dialogue."""
    docs = {d: site.json("export", d) for d in ids}
    blocks = [(did, b["key"], {w.lower() for w in re.findall(r"\w+", f"{b['label']} "
                                                              f"{b['content']}")})
              for did, doc in docs.items() for b in doc["blocks"]]
    for did, doc in docs.items():
        for p in doc["perspectives"]:
            for word in re.findall(r"[A-Za-z]{7,}", p["content"] or ""):
                prefix = word[:-1].lower()
                owners = [k for d, k, words in blocks
                          if any(w.startswith(prefix) for w in words)]
                if owners == [p["key"]]:
                    return word, p, did
    raise AssertionError("no perspective has a word of its own")


def test_search_finds_a_perspective_by_a_word_of_its_body(sample_site: BuiltSite,
                                                          samples_dir: Path, open_page):
    word, p, did = _unique_word(sample_site, folder_ids(samples_dir))
    w = open_page()
    w.goto(sample_site.url())
    w.page.fill("#search", word.upper()[:-1] + "*")  # case and a prefix with the star
    hits = w.page.locator("#search-results li.hit a")
    hits.first.wait_for(timeout=10_000)
    assert hits.count() == 1
    assert p["label"] in hits.first.inner_text()
    w.shot("search")
    hits.first.click()
    want = f"{did}/round-{p['round']}/{p['expert']}/{p['id']}"
    w.page.wait_for_function("h => decodeURIComponent(location.hash) === h", arg="#" + want)
    assert word in w.page.locator(f'[id="{want}"]').inner_text()
    assert w.errors == []


def test_phone_width_and_print(sample_site: BuiltSite, samples_dir: Path, open_page):
    did = folder_ids(samples_dir)[0]
    w = open_page(width=390, height=844)
    w.goto(sample_site.page(did).as_uri())
    # the page itself does not scroll sideways; wide parts scroll in their own box
    assert w.page.evaluate("() => document.documentElement.scrollWidth") <= 390
    w.shot("dialogue-phone")
    w.page.emulate_media(media="print")
    assert w.page.locator("header.site").is_hidden()
    w.shot("dialogue-print")
    w.page.emulate_media(media="screen")
    w.goto(sample_site.url())
    assert w.page.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert w.page.locator("#dialogues thead button").first.is_visible()  # still sortable
    w.shot("index-phone")
    assert w.errors == []


HOSTILE = {
    "script": "<script>window.__pwned='script'</script>",
    "img": "<img src=x onerror=\"window.__pwned='img'\">",
    "svg": "</svg><script>window.__pwned='svg'</script><svg>",
    "link": "[click me](javascript:window.__pwned='link')",
    "autolink": "<javascript:window.__pwned='auto'>",
}


def _hostile_dialogue(root: Path) -> Path:
    """A dialogue whose labels, bodies, question, summary and verdict carry every payload."""
    d = root / "dialogues" / "2026-01-01T0000Z-hostile-<img src=x onerror=window.__pwned=1>"
    (d / "round-0").mkdir(parents=True)
    (d / "round-1").mkdir()
    all_ = " ".join(HOSTILE.values())
    (d / "expert-pool.json").write_text(json.dumps({
        "domain": HOSTILE["svg"], "question": f"Question {HOSTILE['script']} {HOSTILE['img']}",
        "experts": [{"role": HOSTILE["img"], "tier": "core", "relevance": 0.9}]}))
    (d / "round-0" / "muffin.md").write_text(
        f"[PERSPECTIVE P01: Label {HOSTILE['script']} {HOSTILE['svg']}]\n"
        f"Body {all_}\n\n"
        f"[TENSION T01: Tension {HOSTILE['svg']} {HOSTILE['img']}]\n"
        f"Tension body {HOSTILE['link']} and {HOSTILE['autolink']}\n")
    (d / "round-1" / "scone.md").write_text(
        f"[RESOLVED MUFFIN R0-T01]: {HOSTILE['script']} {HOSTILE['link']}\n")
    (d / "round-0.summary.md").write_text(f"# Summary {HOSTILE['svg']}\n\n{all_}\n")
    (d / "scoreboard.md").write_text(f"# Scoreboard: Title {HOSTILE['script']}\n")
    (d / "verdict.md").write_text(f"# Verdict {HOSTILE['img']}\n\n**Decision:** {all_}\n")
    return d.parent


def test_hostile_text_renders_as_text(tmp_path: Path, open_page):
    dialogues = _hostile_dialogue(tmp_path)
    site = build_site(tmp_path / "repo", dialogues)
    did = folder_ids(dialogues)[0]
    for page in ("index", "dialogue"):
        w = open_page()
        w.page.add_init_script("window.__pwned = null;")
        w.goto(site.url())
        if page == "dialogue":  # reached through the index's link (the id is hostile too)
            w.page.click("a.title")
            w.page.wait_for_url(re.compile(r"/dialogue/"))
            assert did in w.page.locator("p.id").inner_text()
        w.page.fill("#search", "body")
        w.page.locator("#search-results li.hit").first.wait_for(timeout=10_000)
        text = w.page.locator("body").inner_text()
        assert w.page.evaluate("() => window.__pwned") is None
        assert w.dialogs == []
        # only the report's own scripts, no injected element or attribute, no javascript: URL
        srcs = w.page.eval_on_selector_all("script", "ss => ss.map(s => s.getAttribute('src'))")
        assert all(s and re.search(r"(assets/report|search)\.js$", s) for s in srcs), srcs
        assert w.page.locator("img, iframe, object, embed, [onerror], [onload]").count() == 0
        hrefs = w.page.eval_on_selector_all("[href]", "es => es.map(e => e.getAttribute('href'))")
        assert not [h for h in hrefs if "javascript" in h.lower()], hrefs
        assert "<script>window.__pwned='script'</script>" in text
        if page == "dialogue":
            assert "</svg><script>window.__pwned='svg'</script><svg>" in text
            assert "[click me](javascript:window.__pwned='link')" in text
            # the timeline's lane label is text inside the SVG, not markup
            lane = w.page.locator("svg.timeline .lane-label text").first.text_content()
            assert "</svg>" in lane
            w.page.locator("svg.timeline .mark").first.click()
            w.shot("hostile")
        assert w.page.evaluate("() => window.__pwned") is None
        assert w.errors == []


def test_served_page_in_the_browser(served: Served, serve_repo: Path, open_page) -> None:
    did = folder_ids(serve_repo / ".blue" / "dialogues")[0]
    w = open_page()
    w.goto(served.url)
    w.page.click(f'tr[data-id="{did}"] a.title')
    w.page.wait_for_url(re.compile(re.escape(f"/dialogue/{did}.html")))
    assert w.page.locator("svg.timeline .mark").count() > 0
    w.page.fill("#search", "trunk")
    w.page.locator("#search-results li.hit").first.wait_for(timeout=10_000)
    w.shot("served")
    assert w.errors == []
