"""Diagnostics as text for people and machines: ``file:line:column`` locations, the GNU
line format, GitHub Actions annotations (``lint --format``). No heavy imports: the CLI
imports this for every command's diagnostics."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from .model import Diagnostic

GITHUB_MAX_PER_KIND = 10  # GitHub shows at most 10 annotations of each kind per step
_GITHUB_KIND = {"error": "error", "warning": "warning", "info": "notice"}


def location(d: Diagnostic) -> str:
    """``file:line:column`` (absent parts left out; ``<input>`` for no file)."""
    where = d.file or "<input>"
    if d.line is not None:
        where += f":{d.line}"
        if d.column is not None:
            where += f":{d.column}"
    return where


def gnu_line(d: Diagnostic) -> str:
    """``file:line:column: severity: code message`` (GNU style), the shape editors and CI
    log scanners recognise."""
    return f"{location(d)}: {d.severity}: {d.code} {_one_line(d.message)}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _gh_data(text: str) -> str:
    """Escape a workflow command's message (as @actions/core does)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotation(d: Diagnostic) -> str:
    """One GitHub Actions workflow command (``::error file=...,line=...::message``)."""
    props = [f"file={_gh_prop(d.file or '.')}"]
    if d.line is not None:
        props.append(f"line={d.line}")
        if d.column is not None:
            props.append(f"col={d.column}")
    props.append(f"title={_gh_prop(d.code)}")
    text = d.message + (f"\nhint: {d.hint}" if d.hint else "")
    return f"::{_GITHUB_KIND.get(d.severity, 'notice')} {','.join(props)}::{_gh_data(text)}"


def _md_cell(text: str) -> str:
    return _one_line(text).replace("|", "\\|")


def github_report(diags: Sequence[Diagnostic], summary: Path | None) -> list[str]:
    """The lines to print for GitHub Actions: annotations, at most ``GITHUB_MAX_PER_KIND``
    per kind (GitHub drops the rest), in order. The diagnostics not annotated are appended
    to ``summary`` (``$GITHUB_STEP_SUMMARY``) as a Markdown table; without a summary file
    they are printed in the GNU format, so none is lost."""
    shown: dict[str, int] = defaultdict(int)
    lines: list[str] = []
    rest: list[Diagnostic] = []
    for d in diags:
        kind = _GITHUB_KIND.get(d.severity, "notice")
        if shown[kind] < GITHUB_MAX_PER_KIND:
            shown[kind] += 1
            lines.append(github_annotation(d))
        else:
            rest.append(d)
    if not rest:
        return lines
    if summary is None:
        return lines + [gnu_line(d) for d in rest]
    table = [f"### blue-index lint: {len(rest)} more diagnostic{'s' * (len(rest) != 1)}",
             "", f"GitHub shows {GITHUB_MAX_PER_KIND} annotations of each kind; "
             "these were not annotated.", "",
             "| File | Line | Severity | Code | Message |", "|---|---:|---|---|---|"]
    table += [f"| {_md_cell(d.file or '')} | {d.line or ''} | {d.severity} | "
              f"{_md_cell(d.code)} | {_md_cell(d.message)} |" for d in rest]
    with summary.open("a", encoding="utf-8") as f:
        f.write("\n".join(table) + "\n\n")
    return lines + [f"blue-index: {len(rest)} more diagnostics are in the step summary"]
