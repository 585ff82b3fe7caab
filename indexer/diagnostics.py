"""The registry of stable diagnostic codes (FORMAT.md section 5).

One table: code -> severity, message template, hint. Each area adds its own rows (keep the
codes stable: users grep for them, hooks and CI match on them). Build diagnostics with
:func:`make` so that severity and hint always come from here.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .model import ERROR, INFO, WARNING, Diagnostic


class Code(NamedTuple):
    severity: str
    message: str  # str.format template over make()'s keyword fields
    hint: str = ""


CODES: dict[str, Code] = {
    # -- file content (parse) ------------------------------------------------------------
    "invalid-utf8": Code(ERROR, "file is not valid UTF-8 (byte 0x{byte:02x})",
                         "save the file as UTF-8"),
    "binary-content": Code(ERROR, "file contains NUL bytes; it looks binary, not Markdown",
                           "replace it with a text file or move it out of the dialogues folder"),
    "bom": Code(WARNING, "file starts with a UTF-8 byte order mark",
                "save the file as UTF-8 without BOM"),
    "crlf": Code(WARNING, "file uses CR or CRLF line endings",
                 "save the file with LF line endings"),
    "empty-file": Code(WARNING, "{role} file is empty", "write the response or delete the file"),
    # -- markers (parse) -------------------------------------------------------------------
    "marker-unclosed": Code(ERROR, "marker '[{keyword}' has no closing ']' on its line",
                            "close the marker on the same line: [{keyword} ...]"),
    "marker-bad-id": Code(ERROR, "marker id '{id}' does not parse as {expected}",
                          "write the id as {example}"),
    "duplicate-id": Code(ERROR, "duplicate id {id} in this file (first at line {first})",
                         "give each {kind} its own id"),
    "unknown-keyword": Code(WARNING, "unknown marker keyword '{keyword}'; kept as kind unknown",
                            "use a keyword from grammars/*.yaml, or add it there with a test"),
    "marker-irregular": Code(WARNING, "irregular marker form: {detail}", "{hint}"),
    "marker-expert-mismatch": Code(WARNING, "marker id {id} names expert {named}, but this is "
                                   "{expert}'s file", "use {expected}"),
    "reference-orphan": Code(WARNING, "[{keyword}] has no entity block before it to belong to",
                             "put the reference after the perspective/tension/... it is about"),
    "nesting-too-deep": Code(WARNING, "quotes or lists nest deeper than Markdown's limit of "
                             "{limit} levels; the lines below it are read as plain lines",
                             "flatten the nesting"),
    # -- references, resolution, ledger (assemble: message and hint made there) -----------
    **{code: Code(WARNING, "{detail}", "{hint}") for code in (
        "unresolved-target", "reference-rule", "reference-cycle", "ledger-unmatched",
        "ledger-ambiguous", "tension-unlinked", "round-missing", "empty-response", "duplicate-key",
        "duplicate-file")},
    # -- Judge files (indexer/judge) ---------------------------------------------------
    "json-invalid": Code(ERROR, "invalid JSON: {detail}", "{hint}"),
    "judge-unknown-shape": Code(WARNING, "{detail}", "{hint}"),
    "judge-unknown-status": Code(WARNING, "{detail}", "{hint}"),
    "judge-bad-value": Code(WARNING, "{detail}", "{hint}"),
    "judge-unreadable": Code(WARNING, "{detail}", "{hint}"),
    "layout-unknown": Code(WARNING, "'{name}' in a round folder is not named after an expert "
                           "(lower-case letters, digits, '-', '_'); indexed as a note, its "
                           "markers are not read", "rename it <expert>.md, e.g. muffin.md"),
    # -- entries that cannot be read (indexer/fsread.py) --------------------------------
    "file-not-regular": Code(ERROR, "{what}, not a regular file; not read",
                             "remove it or replace it with a regular file"),
    "symlink-outside": Code(ERROR, "symbolic link leads outside the repository ({target}); "
                            "not followed", "copy the file into the repository instead"),
    "symlink-loop": Code(ERROR, "symbolic link loop; not followed",
                         "point the link at a file or folder, not at itself or a parent"),
    "symlink-broken": Code(ERROR, "symbolic link target does not exist",
                           "fix or remove the link"),
    "file-unreadable": Code(ERROR, "cannot read this entry ({error})",
                            "check its permissions (and the folders above it)"),
    "file-too-large": Code(ERROR, "file is {size} bytes, over the limit of {limit}; not read",
                           "split the file, or raise limits.max_file_size in "
                           ".blue/config.yaml"),
    "name-not-utf8": Code(ERROR, "name is not valid UTF-8 (shown as {name}); not read",
                          "rename it with a UTF-8 name"),
    # -- store (sync) -----------------------------------------------------------------------
    "store-rejected": Code(ERROR, "the store cannot hold this file: {reason}",
                           "rename the file; the rest of the dialogue is stored without it"),
    # -- single-file dialogues and dialogue roots ------------------------------------------
    "single-file-no-markers": Code(INFO, "no markers found in this {family} dialogue; indexed "
                                   "with its title, rounds and experts",
                                   "tag contributions ([PERSPECTIVE P01: ...], [TENSION T01: "
                                   "...]) to index them as blocks"),
    "dialogue-duplicate": Code(ERROR, "dialogue {id} is found twice: {kept} and {dropped}; "
                               "only {kept} is indexed",
                               "rename or remove one of them (dialogue roots are read in order)"),
    # -- the language server (indexer/lsp) ---------------------------------------------
    "buffer-too-large": Code(ERROR, "file is {size} bytes, over the editor limit of {limit}; "
                             "not checked as you type", "split the file, or run "
                             "`blue-index lint` on it (BLUE_INDEX_LSP_MAX_BYTES raises the limit)"),
    # -- robustness ------------------------------------------------------------------------
    "internal-error": Code(ERROR, "could not read {what}: {error}",
                           "report this as a bug with the file attached; rerun with -v"),
}


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def make(code: str, file: str = "", line: int | None = None, column: int | None = None,
         **fields: Any) -> Diagnostic:
    """A Diagnostic for a registered ``code``; missing template fields print as ``?``."""
    c = CODES[code]
    f = _Blank(fields)
    return Diagnostic(code=code, severity=c.severity, message=c.message.format_map(f),
                      hint=c.hint.format_map(f), file=file, line=line, column=column)
