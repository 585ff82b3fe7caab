"""No import circles in the package, and every module imports on its own.

The graph is built from the source files (ast), not from what happens to be imported at
run time: every ``import`` and ``from ... import`` of an ``indexer`` module counts, at module
level or inside a function (a lazy import still closes a circle the first time it runs);
only imports under ``if TYPE_CHECKING:`` (never executed) are left out.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "indexer"


def modules() -> dict[str, tuple[Path, bool]]:
    """``{dotted name: (source file, is a package)}`` of every module of ``indexer``."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_pkg else parts)] = (path, is_pkg)
    return out


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return skip


def imports_of(name: str, path: Path, is_pkg: bool, known: set[str]) -> set[str]:
    """The ``indexer`` modules ``name`` imports (``from pkg import mod`` -> ``pkg.mod``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    skip = _type_checking_nodes(tree)
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                pkg = name.split(".") if is_pkg else name.split(".")[:-1]
                pkg = pkg[: len(pkg) - node.level + 1]
                base = ".".join(pkg + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for a in node.names:
                sub = f"{base}.{a.name}"
                found.add(sub if sub in known else base)
    return {m for m in found if m in known and m != name}


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imports_of(name, path, is_pkg, set(mods))
            for name, (path, is_pkg) in mods.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One circle (``a -> b -> ... -> a``) per strongly connected group of modules."""
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                found.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return found


def test_the_graph_reader_sees_a_circle():
    """The checker itself: a circle planted in a graph is found and printed in order."""
    planted = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(planted) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_imports_are_read_from_the_sources(tmp_path):
    """Relative, absolute, lazy (in a function) imports count; TYPE_CHECKING ones do not."""
    src = tmp_path / "m.py"
    src.write_text("from typing import TYPE_CHECKING\nfrom .sib import x\nimport indexer.c\n"
                   "if TYPE_CHECKING:\n    from .tc import y\n"
                   "def f():\n    from ..up import z\n    from . import pkgmod\n")
    known = {"indexer.p.sib", "indexer.c", "indexer.p.tc", "indexer.up", "indexer.p.pkgmod"}
    assert imports_of("indexer.p.m", src, False, known) == {
        "indexer.p.sib", "indexer.c", "indexer.up", "indexer.p.pkgmod"}


def test_no_import_circles():
    edges = graph()
    assert len(edges) > 50 and "indexer.store.factory" in edges["indexer.api"]
    found = cycles(edges)
    assert not found, "import circles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_every_module_imports_alone():
    """Each module imported first, in a clean ``sys.modules`` (a fresh interpreter, the
    ``indexer`` entries dropped before each), so no module relies on another having been
    imported before it. ``__main__`` modules run the program when imported: left out."""
    names = sorted(m for m in modules() if not m.endswith(".__main__"))
    code = (
        "import importlib, json, sys, traceback\n"
        "bad = {}\n"
        "for name in json.loads(sys.argv[1]):\n"
        "    for m in [m for m in sys.modules if m == 'indexer' or m.startswith('indexer.')]:\n"
        "        del sys.modules[m]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except BaseException:\n"
        "        bad[name] = traceback.format_exc(limit=3)\n"
        "print(json.dumps(bad))\n")
    r = subprocess.run([sys.executable, "-c", code, json.dumps(names)], cwd=ROOT,
                       capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, r.stderr
    bad = json.loads(r.stdout.strip().splitlines()[-1])
    assert bad == {}, "\n".join(f"{n}:\n{tb}" for n, tb in bad.items())
