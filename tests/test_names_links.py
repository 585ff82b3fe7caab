"""File names and symbolic links: roles from names case-insensitively, odd response-folder
names warned about (the hook shows it), and the hook treating staged symlinks the way
reindex does (followed inside the repository, reported otherwise). Real git repositories."""

from __future__ import annotations

import shutil
from pathlib import Path

from indexer.layout import NOTE, RESPONSE, classify

from .support.githook import DIALOGUES, Repo
from .support.hostile import diagnostic_codes, run, store_state
from .support.sync import REPO

UNCLOSED = "# X\n\n[PERSPECTIVE P01: the bracket never closes\nBody.\n"
GOOD = "# X\n\n[PERSPECTIVE P01: fine]\nBody.\n"


def test_roles_from_names_case_insensitively():
    cases = {
        "d/round-1/MUFFIN.MD": (RESPONSE, 1, "muffin", False),
        "d/Round-2/Strudel.md": (RESPONSE, 2, "strudel", False),
        "d/ROUND-0/PANEL.JSON": ("panel", 0, None, False),
        "d/Tensions.MD": ("ledger", None, None, False),
        "d/VERDICT.md": ("verdict", None, None, False),
        "d/Round-1.Summary.md": ("summary", 1, None, False),
        "d/round-1/sc one.md": (NOTE, 1, None, True),
        "d/round-1/muffin.v2.md": (NOTE, 1, None, True),
        "d/round-1/context-brief.md": (NOTE, 1, None, False),
        "d/round-1/Muffin.Prompt.md": ("prompt", 1, "muffin", False),
    }
    for path, (role, rnd, expert, odd) in cases.items():
        p = classify(path)
        assert (p.role, p.round, p.expert, p.odd) == (role, rnd, expert, odd), path


def _repo(tmp_path: Path) -> Repo:
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    shutil.copytree(REPO / "sample_dialogues", repo.root / DIALOGUES)
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "samples")
    return repo


def _hook_codes(repo: Repo) -> set[tuple[str, str]]:
    p = repo.cli("hook", "run")
    out = set()
    for line in (p.stdout + p.stderr).splitlines():
        head, sep, rest = line.partition(": ")
        if sep and rest.split(" ")[0] in ("error", "warning"):
            out.add((head.split(":")[0], rest.split(" ")[1]))
    return out


def test_odd_names_in_the_hook(tmp_path):
    repo = _repo(tmp_path)
    did = sorted(p.name for p in (repo.root / DIALOGUES).iterdir())[0]
    odd = repo.dlg(f"{did}/round-0/sc one.md", UNCLOSED)
    upper = repo.dlg(f"{did}/round-0/WALNUT.MD", UNCLOSED)
    repo.git("add", "-A")
    codes = _hook_codes(repo)
    assert (odd, "layout-unknown") in codes  # said, not silently a note
    assert (upper, "marker-unclosed") in codes  # read as walnut's response: its error blocks
    assert repo.cli("hook", "run").returncode == 1  # the error blocks the commit


def test_the_hook_follows_symlinks_like_reindex(tmp_path):
    repo = _repo(tmp_path)
    dialogues = repo.root / DIALOGUES
    did = sorted(p.name for p in dialogues.iterdir())[0]
    outside = tmp_path / "outside.md"
    outside.write_text(GOOD, encoding="utf-8")
    r0 = dialogues / did / "round-0"
    (r0 / "leak.md").symlink_to(outside)
    (r0 / "loop.md").symlink_to("loop.md")
    (r0 / "gone.md").symlink_to("nope.md")
    (r0 / "walnut.md").write_text(UNCLOSED, encoding="utf-8")
    (r0 / "hazel.md").symlink_to("walnut.md")  # inside: followed, its error is hazel's too
    (dialogues / did / "up").symlink_to(".")
    repo.git("add", "-A")
    hook = _hook_codes(repo)
    assert repo.cli("hook", "run").returncode == 1
    assert run(repo.root, "reindex").returncode == 0
    stored = diagnostic_codes(store_state(repo.root / ".blue" / "blue.db")[did])
    for name, code in (("round-0/leak.md", "symlink-outside"), ("round-0/loop.md",
                       "symlink-loop"), ("round-0/gone.md", "symlink-broken"),
                       ("round-0/hazel.md", "marker-unclosed"), ("up", "symlink-loop")):
        assert (f"{DIALOGUES}/{did}/{name}", code) in hook, (name, hook)
        assert code in stored.get(f"{did}/{name}", set()), (name, stored.get(f"{did}/{name}"))
