"""A path under a dialogues root -> its role, dialogue id, round and expert (FORMAT.md 1, 8).

Paths are relative to the dialogues root they were found in. A folder directly under a root
is a folder dialogue; a file ``<id>.dialogue.md`` or ``<id>.dialogue.recorded.md`` directly
under a root is a single-file dialogue with that id (the older format, FORMAT.md 8). Which
root a dialogue comes from, and what happens when an id is found twice, is roots.py's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

RESPONSE = "response"
PROMPT = "prompt"
PANEL = "panel"
SUMMARY = "summary"
LEDGER = "ledger"
SCOREBOARD = "scoreboard"
VERDICT = "verdict"
POOL = "pool"
NOTE = "note"
IGNORED = "ignored"
DIALOGUE_FILE = "dialogue-file"  # a whole dialogue in one Markdown file
RECORDING = "recording"  # that file when a folder of the same id is the dialogue
ROLES = (RESPONSE, PROMPT, PANEL, SUMMARY, LEDGER, SCOREBOARD, VERDICT, POOL, NOTE, IGNORED,
         DIALOGUE_FILE, RECORDING)
SINGLE_FILE_ROLES = frozenset({DIALOGUE_FILE, RECORDING})

_ROUND_DIR = re.compile(r"^round-(\d+)$")
_ROUND_SUMMARY = re.compile(r"^round-(\d+)\.summary\.md$")
SINGLE_FILE_SUFFIXES = (".dialogue.md", ".dialogue.recorded.md")
_SINGLE_FILE = re.compile(r"^(?P<id>[^/]+?)\.dialogue(?:\.recorded)?\.md$")
_SUMMARY_NAME = re.compile(r"(?:^|[-_.])summary(?:$|[-_.])", re.IGNORECASE)
_EXPERT = re.compile(r"^[a-z][a-z0-9_-]*$")
_TEMP = re.compile(
    r"(^\.#)|(~$)|(^\..*\.sw[a-p]$)|(^\d+$)|(\.(tmp|temp|bak|orig|part|swp|swx)$)|(^\.~lock\.)"
    r"|(^#.*#$)|(^\.DS_Store$)"
)
_JUDGE_FILES = {
    "tensions.md": LEDGER,
    "scoreboard.md": SCOREBOARD,
    "verdict.md": VERDICT,
    "expert-pool.json": POOL,
}


@dataclass(frozen=True, slots=True)
class Place:
    role: str
    dialogue: str | None = None
    round: int | None = None
    expert: str | None = None


def is_temp(name: str) -> bool:
    """Editor and tool leftovers (``.#x.md``, ``x.md~``, ``.x.md.swp``, ``4913``, ``x.tmp``)."""
    return bool(_TEMP.search(name))


def single_file_id(name: str) -> str | None:
    """``<id>.dialogue.md`` / ``<id>.dialogue.recorded.md`` -> ``<id>``; else None."""
    if name.startswith(".") or is_temp(name):
        return None
    m = _SINGLE_FILE.match(name)
    return m.group("id") if m else None


def parse_path(dialogue: str, rel: str) -> str:
    """The path (relative to its dialogues root) of a dialogue's file given its path in the
    dialogue (``round-0/x.md`` -> ``{id}/round-0/x.md``; a single file is its own name)."""
    return rel if "/" not in rel and single_file_id(rel) == dialogue else f"{dialogue}/{rel}"


def classify(rel_path: str) -> Place:
    """Role of a file given its path relative to the dialogues root (POSIX separators).

    Every file gets a role; unknown ones are notes, never dropped. Hidden folders and
    editor temp files are ignored.
    """
    parts = PurePosixPath(rel_path).parts
    name = parts[-1] if parts else ""
    if not parts or is_temp(name) or any(p.startswith(".") for p in parts[:-1]):
        return Place(IGNORED)
    if name.startswith(".") or not (name.endswith(".md") or name.endswith(".json")):
        return Place(IGNORED)
    if len(parts) == 1:  # single-file dialogues and pool files directly under the root
        did = single_file_id(name)
        if did is not None:
            return Place(DIALOGUE_FILE, did)
        return Place(POOL if name.endswith(".json") else NOTE)
    dialogue = parts[0]
    if len(parts) == 2:
        if name in _JUDGE_FILES:
            return Place(_JUDGE_FILES[name], dialogue)
        m = _ROUND_SUMMARY.match(name)
        if m:
            return Place(SUMMARY, dialogue, int(m.group(1)))
        return Place(NOTE, dialogue)
    m = _ROUND_DIR.match(parts[1])
    if len(parts) == 3 and m:
        rnd = int(m.group(1))
        if name == "panel.json":
            return Place(PANEL, dialogue, rnd)
        if name.endswith(".md") and not name.endswith(".prompt.md") \
                and _SUMMARY_NAME.search(name[:-3]):
            # round-N/summary.md, or a round's summary under another name (FORMAT.md 7)
            return Place(SUMMARY, dialogue, rnd)
        if name == "scoreboard.md":
            return Place(SCOREBOARD, dialogue, rnd)
        if name.endswith(".prompt.md"):
            stem = name[: -len(".prompt.md")].lower()
            return Place(PROMPT, dialogue, rnd, stem if _EXPERT.match(stem) else None)
        if name.endswith(".md"):
            stem = name[:-3].lower()
            if _EXPERT.match(stem) and stem not in ("context-brief", "summary", "scoreboard"):
                return Place(RESPONSE, dialogue, rnd, stem)
        return Place(NOTE, dialogue, rnd)
    return Place(NOTE, dialogue)
