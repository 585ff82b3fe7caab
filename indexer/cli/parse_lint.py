"""``blue-index parse FILE`` and ``blue-index lint [PATH ...]`` (CLI.md)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from ..diagformat import location
from ..errors import ProblemsFound, UsageError
from ..model import ERROR, WARNING, Diagnostic, ParsedFile, Ref
from .context import Context

FORMATS = ("text", "gnu", "json", "github")


def register(sub: Any) -> None:
    p = sub.add_parser("parse", help="blocks and diagnostics of one file")
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--json", action="store_true", help="print JSON (see CLI.md)")
    p.set_defaults(func=cmd_parse)

    p = sub.add_parser("lint", help="report diagnostics; exit 1 on errors")
    p.add_argument("paths", type=Path, nargs="*", metavar="PATH",
                   help="files or folders (default: the dialogues folder)")
    p.add_argument("--format", choices=FORMATS, default="text",
                   help="text (aligned, with hints; default), gnu (file:line:column: severity: "
                        "code message), json (a list), github (workflow annotations, at most "
                        "10 per kind; the rest in $GITHUB_STEP_SUMMARY)")
    p.add_argument("--json", dest="format", action="store_const", const="json",
                   help="the same as --format json")
    p.add_argument("--staged", action="store_true",
                   help="lint the staged (git index) content: the dialogue files of the "
                        "commit, or of PATHs")
    p.set_defaults(func=cmd_lint)


# -- JSON shapes (CLI.md) --------------------------------------------------------------------
def ref_json(r: Ref) -> dict[str, Any]:
    return {"raw": r.raw, "id": r.id, "expert": r.expert, "round": r.round}


def diag_json(d: Diagnostic, with_file: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"file": d.file} if with_file else {}
    out.update(code=d.code, severity=d.severity, line=d.line, column=d.column,
               message=d.message, hint=d.hint)
    return out


def parsed_json(pf: ParsedFile, file: str) -> dict[str, Any]:
    return {
        "file": file, "role": pf.role, "dialogue": pf.dialogue, "round": pf.round,
        "expert": pf.expert,
        "blocks": [{
            "kind": b.kind, "id": b.id, "label": b.label, "body": b.body, "line": b.line,
            "targets": [ref_json(t) for t in b.targets],
            "mentions": [ref_json(m) for m in b.mentions],
            "keyword": b.keyword, "raw_id": b.raw_id, "inline": b.inline, "parent": b.parent,
            "column": b.column, "end_line": b.end_line,
        } for b in pf.blocks],
        "diagnostics": [diag_json(d) for d in pf.diagnostics],
    }


# -- human output ----------------------------------------------------------------------------
def diagnostic_lines(diags: list[Diagnostic], color: bool = False) -> list[str]:
    """``path:line:column: severity code message`` aligned, each hint on the next line."""
    if not diags:
        return []

    def where(d: Diagnostic) -> str:
        return location(d) + ":"

    ww = max(len(where(d)) for d in diags)
    cw = max(len(d.code) for d in diags)
    out = []
    for d in diags:
        sev = f"{d.severity:<7}"
        if color:
            code = "31" if d.severity == ERROR else "33" if d.severity == WARNING else "36"
            sev = f"\x1b[{code}m{sev}\x1b[0m"
        out.append(f"{where(d):<{ww}} {sev} {d.code:<{cw}} {d.message}")
        if d.hint:
            out.append(f"    hint: {d.hint}")
    return out


def summary_line(diags: list[Diagnostic]) -> str:
    e = sum(d.severity == ERROR for d in diags)
    w = sum(d.severity == WARNING for d in diags)
    i = len(diags) - e - w
    files = len({d.file for d in diags})
    notes = f", {i} note{'s' * (i != 1)}" if i else ""
    return f"{e} error{'s' * (e != 1)}, {w} warning{'s' * (w != 1)}{notes} in {files} file" \
           f"{'s' * (files != 1)}"


# -- commands ------------------------------------------------------------------------------
def cmd_parse(args: argparse.Namespace, ctx: Context) -> int:
    from ..fsread import Unreadable, read_entry, unreadable_file
    from ..lint import find_dialogues_root
    from ..parse import parse_file

    path: Path = args.file
    if not path.is_file():
        what = "a folder, not a file" if path.is_dir() else "no such file"
        raise UsageError(f"{path}: {what}; give a dialogue file to parse")
    cfg = ctx.config
    root = find_dialogues_root(path, cfg.dialogue_roots)
    rel = path.resolve().relative_to(root).as_posix()
    try:
        data = read_entry(str(path), str(path.resolve().parent), cfg.max_file_size)
    except Unreadable as u:
        d = unreadable_file(rel, u.problem).diagnostics[0]
        raise ProblemsFound(f"{path}: {d.message}; {d.hint}") from u
    pf = parse_file(rel, data)
    for d in pf.diagnostics:
        d.file = str(path)
    if args.json:
        ctx.json(parsed_json(pf, str(path)))
    else:
        where = " ".join(f"{k}={v}" for k, v in (("dialogue", pf.dialogue), ("round", pf.round),
                                                 ("expert", pf.expert)) if v is not None)
        ctx.out(f"{path}: {pf.role} {where}".rstrip())
        if pf.blocks:
            lw = max(len(str(b.line)) for b in pf.blocks)
            kw = max(len(b.keyword) for b in pf.blocks)
            for b in pf.blocks:
                tg = ", ".join(t.raw for t in b.targets)
                text = " ".join(x for x in (b.id or "", f"-> {tg}" if tg else "", b.label) if x)
                mark = " (inline)" if b.inline else ""
                ctx.out(f"  {b.line:>{lw}}  {b.keyword:<{kw}}  {text}{mark}")
        for line in diagnostic_lines(pf.diagnostics, ctx.color_err):
            ctx.err(line)
    return 1 if pf.has_errors else 0


def lint_diagnostics(args: argparse.Namespace, ctx: Context) -> list[Diagnostic]:
    """What ``lint`` reports; the one place a new source of files (e.g. --staged) plugs in."""
    from ..lint import lint_paths

    cfg = ctx.config
    if args.staged:
        from ..githook import check_staged

        return check_staged(cfg, paths=[str(p) for p in args.paths] or None).diagnostics
    paths = list(args.paths)
    if not paths:
        paths = cfg.existing_roots
        if not paths:
            raise UsageError(f"{cfg.dialogue_roots[0]}: not found; give PATH or set "
                             "--dialogues")
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise UsageError(f"{missing[0]}: no such file or folder")
    return lint_paths(paths, cfg.dialogue_roots, cfg.root, cfg.max_file_size)


def cmd_lint(args: argparse.Namespace, ctx: Context) -> int:
    from .. import diagformat

    diags = lint_diagnostics(args, ctx)
    errors = any(d.severity == ERROR for d in diags)
    if args.format == "json":
        ctx.json([diag_json(d, with_file=True) for d in diags])
    elif args.format == "gnu":
        for d in diags:
            print(diagformat.gnu_line(d))
    elif args.format == "github":
        summary = os.environ.get("GITHUB_STEP_SUMMARY") or None
        for line in diagformat.github_report(diags, Path(summary) if summary else None):
            print(line)
    else:
        shown = [d for d in diags if d.severity == ERROR] if ctx.quiet else diags
        for line in diagnostic_lines(shown, ctx.color):
            print(line)
        if diags and not ctx.quiet:
            ctx.err(summary_line(diags))
    return 1 if errors else 0
