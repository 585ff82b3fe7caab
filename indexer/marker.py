"""What a marker says: the text between its brackets -> :class:`Marker` (FORMAT.md 2-3).

Kind, keyword, local id, label and targets, read with the compiled grammar; problems are
``(diagnostic code, fields)`` that the file parser places at the marker's line and column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .grammar import Grammar, KeywordRule
from .model import Ref


@dataclass(slots=True)
class Marker:
    """What the text between the brackets says, before placement in the file."""

    kind: str
    keyword: str
    rule: KeywordRule | None = None
    id: str | None = None
    raw_id: str | None = None
    label: str = ""
    targets: list[Ref] = field(default_factory=list)
    problems: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (code, fields)
    spelled: str = ""  # the keyword as written (inline markers must be upper case)


def split_label(rest: str) -> tuple[str, str | None]:
    """Head (id or targets) and label: split at the first ':' or ' -- ' / ' — ' note."""
    cut, label = len(rest), None
    c = rest.find(":")
    if c >= 0:
        cut, label = c, rest[c + 1:]
    for sep in (" -- ", " — ", " – "):
        d = rest.find(sep, 0, cut)
        if d >= 0 and d < cut:
            cut, label = d, rest[d + len(sep):]
    if label is None:  # a trailing dash note with nothing after it
        for sep in (" --", " —"):
            if rest.rstrip().endswith(sep):
                cut = rest.rstrip().rfind(sep)
                label = ""
    return rest[:cut].strip(), (label.strip() if label is not None else None)


class MarkerReader:
    def __init__(self, g: Grammar, expert: str | None) -> None:
        self.g = g
        self.expert = expert

    def read(self, inner: str) -> Marker | None:
        """Read a marker's inner text; None when it is no marker at all."""
        g = self.g
        m = g.head_re.match(inner)
        if m:
            spelled = m.group("kw")
            kw = spelled.upper()
            if kw not in g.keywords and kw not in g.aliases:
                kw = g.canonical(kw)
            rest = inner[m.end():]
            canon = g.aliases.get(kw, kw)
            if canon in g.families:
                sub = g.subtype_re.match(rest)
                if sub and f"{canon}:{sub.group('sub')}" not in g.keywords:
                    return self._unknown(f"{canon}:{sub.group('sub')}", rest[sub.end():])
            mk = self._known(g.keywords[canon], rest)
            mk.spelled = spelled
            return mk
        m = g.typed_head_re.match(inner)
        if m:
            return self._typed(m, inner[m.end():])
        m = g.unknown_re.match(inner)
        if m:
            return self._unknown(g.canonical(m.group("kw")), inner[m.end():])
        return None

    def _unknown(self, keyword: str, rest: str) -> Marker:
        label = rest.strip()
        label = label[1:].strip() if label.startswith(":") else label
        return Marker("unknown", keyword, label=label, spelled=keyword,
                      problems=[("unknown-keyword", {"keyword": keyword})])

    def _typed(self, m: re.Match[str], rest: str) -> Marker:
        g = self.g
        letter, num = m.group("letter").upper(), m.group("num")
        raw = m.group(0).strip()
        label = rest.strip()
        label = label[1:].strip() if label.startswith(":") else label
        et = g.entity_types.get(letter)
        if et is None or len(num) != g.typed_id_digits:
            mk = Marker("unknown", "TYPED-ID", raw_id=raw, label=label, spelled=raw)
            mk.problems.append(("marker-bad-id", {
                "id": raw, "expected": f"EXPERT-<{'|'.join(sorted(g.entity_types))}>"
                f"<{g.typed_id_digits} digits: round, seq>", "example": "MUFFIN-P0101"}))
            return mk
        expert = m.group("expert").lower()
        mk = Marker(et.kind, et.kind.upper(), id=f"{letter}{num}", raw_id=raw, label=label,
                    spelled=raw)
        if self.expert and expert != self.expert:
            mk.problems.append(("marker-expert-mismatch", {
                "id": raw, "named": expert, "expert": self.expert,
                "expected": f"{self.expert.upper()}-{letter}{num}"}))
        return mk

    def _known(self, rule: KeywordRule, rest: str) -> Marker:
        g = self.g
        mk = Marker(rule.kind, rule.keyword, rule)
        if rule.label_only or not (rule.id_letter or rule.targets):
            text = rest.strip()
            mk.label = text[1:].strip() if text.startswith(":") else text
            return mk
        head, label = split_label(rest)
        if rule.id_letter:
            mk.label = label if label is not None else ""
            if head:
                m = g.local_id_re.fullmatch(head)
                if m and m.group("letter").upper() == rule.id_letter:
                    mk.id, mk.raw_id = g._norm(m), head
                elif label is None and not m:
                    # `[PERSPECTIVE some text]`: a label without ':' (tolerated)
                    mk.label = head
                    mk.problems.append(("marker-irregular", {
                        "detail": f"no ':' before the label of [{rule.keyword}]",
                        "hint": f"write [{rule.keyword} {rule.id_letter}01: label]"}))
                else:
                    mk.raw_id = head
                    mk.problems.append(("marker-bad-id", {
                        "id": head, "expected": f"a {rule.kind} id",
                        "example": f"{rule.id_letter}01 (or {rule.id_letter}1, "
                                   f"{rule.id_letter}-NEW)"}))
            return mk
        # target-taking keyword
        addressee = None
        while head:
            w, _, after = head.partition(" ")
            word = w.lower()
            if word not in rule.prepositions and word not in g.tolerated_prepositions:
                break
            if word not in rule.prepositions:
                mk.problems.append(("marker-irregular", {
                    "detail": f"'{w}' before the targets of [{rule.keyword}]",
                    "hint": f"write [{rule.keyword} T01] or [{rule.keyword} MUFFIN R1-T01]"}))
            head = after.strip()
            if word in g.addressee_prepositions and head and g.ref_re.match(head) is None:
                name, _, head = head.partition(" ")
                addressee, head = name.strip(".,").lower(), head.strip()
        targets, leftover = g.parse_ref_list(head) if head else ([], "")
        if leftover:
            mk.problems.append(("marker-irregular", {
                "detail": f"'{leftover}' is not a target of [{rule.keyword}]",
                "hint": "put a ':' before the label, or list ids such as T01, MUFFIN R1-T01"}))
            label = leftover + (": " + label if label else "")
        mk.label = label or ""
        if not targets and mk.label:
            # `[RESOLVED: STRUDEL R1-T01 (label)]`: leading ids of the label are targets
            refs, lo = g.parse_ref_list(mk.label)
            if refs and (not lo or lo[0] in "(:-—–"):
                targets = refs
        if addressee:
            targets = [Ref(t.raw, t.id, t.expert or addressee, t.round) for t in targets]
        mk.targets = targets
        return mk

    def targets_after(self, mk: Marker, after: str) -> None:
        """``[ACCEPT] T03 closed.``: a target-taking marker with none inside its brackets
        takes the ids right after them (bare, ``MUFFIN-T01`` or ``MUFFIN R1-T01``; a word
        before an id, as in ``The T01``, is prose)."""
        rule = mk.rule
        g = self.g
        if not (g.targets_after_bracket and rule and rule.targets and not rule.label_only
                and not mk.targets and after[:1].isalnum()):
            return
        word, _, rest = after.partition(" ")
        if word.lower() in rule.prepositions or word.lower() in g.tolerated_prepositions:
            after = rest.lstrip()  # `[CONCEDE-WITH-SCOPE] on T02`
        refs, _ = g.parse_ref_list(after)
        good = []
        for r in refs:
            if r.expert and " " in r.raw and r.round is None:
                break
            good.append(r)
        mk.targets = good
