"""Load and validate ``grammars/*.yaml`` into one compiled :class:`Grammar` (FORMAT.md 2-3).

Every marker rule lives in the YAML files; this module turns them into regexes and lookup
tables. Files with a top-level ``dialect`` key are marker grammars; other files in the folder
(e.g. ``judge.yaml``) belong to other readers and are skipped here.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import GrammarError as GrammarError  # the class lives in indexer.errors
from .model import Ref
from .yamlfile import YamlError, parse_yaml

ENV_VAR = "BLUE_INDEX_GRAMMARS"
# The repository's grammars/ (source checkout, editable install); a built wheel ships the
# same files as the package ``indexer.grammars`` (see pyproject.toml).
_REPO_DIR = Path(__file__).resolve().parent.parent / "grammars"
DEFAULT_DIR = _REPO_DIR if _REPO_DIR.is_dir() else Path(__file__).resolve().parent / "grammars"

_KEYWORD_SHAPE = re.compile(r"^[A-Z][A-Z0-9_-]*(?:[ :][A-Z][A-Z0-9_-]*)*$")
_SPACE = re.compile(r"\s+")
_COLON = re.compile(r"\s*:\s*")


@dataclass(frozen=True, slots=True)
class KeywordRule:
    """What one canonical keyword means (one entry under ``keywords:``)."""

    keyword: str  # canonical upper case: PERSPECTIVE, MOVE:BRIDGE, MINORITY VERDICT
    kind: str
    dialect: str
    id_letter: str | None = None  # takes a local id with this letter (PERSPECTIVE P01)
    entity: bool = False
    targets: bool = False
    prepositions: frozenset[str] = frozenset()
    event: str | None = None  # what it does to a tension it touches
    ref: str | None = None  # reference type (RE:SUPPORT -> support)
    attach: str | None = None  # "entity": belongs to the nearest preceding entity block
    label_only: bool = False
    move: str | None = None  # "converge": a convergence move (FORMAT.md 6)


@dataclass(frozen=True, slots=True)
class EntityType:
    """A typed-id letter of RFC 0051 (``MUFFIN-T0101`` -> T)."""

    letter: str
    kind: str
    event: str | None = None


@dataclass(frozen=True, slots=True)
class ReferenceRule:
    keyword: str
    target_types: frozenset[str] = frozenset()
    same_type: bool = False


class Grammar:
    """The compiled marker grammar: lookup tables plus the regexes the parser uses."""

    def __init__(
        self,
        keywords: dict[str, KeywordRule],
        aliases: dict[str, str],
        entity_types: dict[str, EntityType],
        reference_rules: dict[str, ReferenceRule],
        families: frozenset[str],
        tolerated_prepositions: frozenset[str],
        id_pad: int,
        placeholders: frozenset[str],
        typed_id_digits: int,
        sources: tuple[Path, ...] = (),
        addressee_prepositions: frozenset[str] = frozenset(),
        targets_after_bracket: bool = False,
    ) -> None:
        self.keywords = keywords
        self.aliases = aliases
        self.entity_types = entity_types
        self.reference_rules = reference_rules
        self.families = families
        self.tolerated_prepositions = tolerated_prepositions
        # `[CONCESSION to Strudel on T01]`: the word after these names whom the marker answers
        self.addressee_prepositions = addressee_prepositions
        # `[ACCEPT] T03 closed.`: targets right after the closing bracket
        self.targets_after_bracket = targets_after_bracket
        self.id_pad = id_pad
        self.placeholders = placeholders
        self.typed_id_digits = typed_id_digits
        self.sources = sources
        self.entity_kinds = frozenset(
            [r.kind for r in keywords.values() if r.entity]
            + [t.kind for t in entity_types.values()]
        )
        self.kind_letters = {t.kind: t.letter for t in entity_types.values()}
        for r in keywords.values():
            if r.id_letter:
                self.kind_letters.setdefault(r.kind, r.id_letter)
        # keywords (and their aliases) that are convergence moves, as blocks spell them
        self.converge_keywords = frozenset(
            [k for k, r in keywords.items() if r.move == "converge"]
            + [a for a, k in aliases.items() if k in keywords and keywords[k].move == "converge"])
        self.tension_kinds = frozenset(
            [r.kind for r in keywords.values() if r.event == "raised"]
            + [t.kind for t in entity_types.values() if t.event == "raised"]
        )
        self._compile()

    # -- compiled patterns -------------------------------------------------------------
    def _compile(self) -> None:
        spelled = sorted(set(self.keywords) | set(self.aliases), key=len, reverse=True)

        def pat(kw: str) -> str:
            parts = [r"\s+".join(map(re.escape, p.split(" "))) for p in kw.split(":")]
            return r"\s*:\s*".join(parts)

        alt = "|".join(pat(k) for k in spelled)
        # Known keyword at the start of a marker's inner text (case-insensitive on input).
        self.head_re = re.compile(rf"\s*(?P<kw>{alt})(?![A-Za-z0-9_])", re.I)
        # A keyword right after '[' inside a sentence: upper case only, prose is noisy. An
        # unknown upper-case keyword is a marker too (kept as kind unknown, with a warning).
        self.inline_re = re.compile(rf"\[\s*(?:(?:{alt})(?![A-Za-z0-9_])"
                                    r"|(?![A-Za-z0-9_]+-[A-Za-z]\d)"
                                    r"[A-Z][A-Z0-9_]+(?:[ :-][A-Z][A-Z0-9_]+)*\s*(?=[\]:]))")
        letters = "".join(sorted(self.entity_types)) or "PRTEC"
        placeholder = "|".join(map(re.escape, sorted(self.placeholders))) or "NEW"
        expert = r"(?![A-Za-z]\d)[A-Za-z][A-Za-z0-9_]+"
        # RFC 0051 typed id heading a marker: MUFFIN-P0101 (letter/digits validated later).
        self.typed_head_re = re.compile(rf"\s*(?P<expert>{expert})-(?P<letter>[A-Za-z])"
                                        rf"(?P<num>\d+)(?![A-Za-z0-9_-])")
        # Unknown upper-case keyword in marker position (>= 2 letters, so `[X]` is no marker).
        self.unknown_re = re.compile(r"\s*(?P<kw>[A-Z][A-Z0-9_]+(?:\s*:\s*[A-Z][A-Z0-9_]*)?)"
                                     r"(?=[\s:]|$)")
        self.subtype_re = re.compile(r"\s*:\s*(?P<sub>[A-Z][A-Z0-9_]*)(?=\s|$)")
        local = rf"[A-Za-z](?:\d+(?:-[A-Za-z0-9]+)*|-(?:{placeholder}))"
        self.local_id_re = re.compile(
            rf"(?P<letter>[A-Za-z])(?:(?P<num>\d+)(?P<suffix>(?:-[A-Za-z0-9]+)*)"
            rf"|-(?P<word>{placeholder}))", re.I)
        # A target: T01, MUFFIN-T01, MUFFIN R1-T01, R1-T01, T0101, MUFFIN-P0101, T-NEW.
        self.ref_re = re.compile(
            rf"(?:(?P<expert>{expert})(?:[ \t]+(?=R\d+-)|[ \t]+(?={local}(?![A-Za-z0-9]))|-)"
            rf"(?=(?:R\d+-)?{local}(?![A-Za-z0-9])))?"
            rf"(?:R(?P<round>\d+)-(?={local}))?"
            rf"(?P<id>{local})(?![A-Za-z0-9])", re.I)
        # A mention: an expert-qualified id in running text (upper-case expert, case-sensitive).
        up = r"(?![A-Z]\d)[A-Z][A-Z0-9_]+"
        self.mention_re = re.compile(
            rf"(?<![A-Za-z0-9_-])(?P<expert>{up})(?:-(?:R(?P<round>\d+)-)?|[ ]+R(?P<round2>\d+)-)"
            rf"(?P<id>[{letters}](?:\d+|-(?:{placeholder})))(?![A-Za-z0-9])")
        # A normalised RFC 0051 local id (P0101): its round is in the digits.
        self.typed_local_re = re.compile(rf"[A-Z]\d{{{self.typed_id_digits}}}")
        self.ref_sep_re = re.compile(r"\s*(?:,|;|&|\band\b)?\s*", re.I)

    # -- lookups -----------------------------------------------------------------------
    @staticmethod
    @lru_cache(maxsize=1024)  # asked several times per block; a corpus spells keywords few ways
    def canonical(spelled: str) -> str:
        """``move : converge`` -> ``MOVE:CONVERGE``; ``a  b`` -> ``A B``."""
        return _SPACE.sub(" ", _COLON.sub(":", spelled.strip())).upper()

    def rule(self, keyword: str) -> KeywordRule | None:
        """The rule of a keyword as written (any case, aliases resolved), or None."""
        kw = self.canonical(keyword)
        return self.keywords.get(self.aliases.get(kw, kw))

    def kind_of(self, keyword: str) -> str:
        r = self.rule(keyword)
        return r.kind if r else "unknown"

    def event_of(self, keyword: str, kind: str | None = None) -> str | None:
        """Tension lifecycle event a marker records (raised, addressed, resolved, ...).

        ``keyword`` is Block.keyword; typed-id blocks (keyword = kind upper-cased) fall
        back on the entity type's event.
        """
        r = self.rule(keyword)
        if r is not None:
            return r.event
        letter = self.kind_letters.get(kind or keyword.lower())
        t = self.entity_types.get(letter or "")
        return t.event if t else None

    def converges(self, keyword: str) -> bool:
        """The keyword is a convergence move (``move: converge`` in the grammar)."""
        r = self.rule(keyword)
        return bool(r and r.move == "converge")

    def raises_tension(self, kind: str) -> bool:
        return kind in self.tension_kinds

    def is_entity(self, kind: str) -> bool:
        return kind in self.entity_kinds

    def takes_targets(self, keyword: str) -> bool:
        r = self.rule(keyword)
        return bool(r and r.targets)

    def reference_violation(self, keyword: str, target: Ref, source_kind: str | None) -> str | None:
        """Why a reference breaks an RFC 0051 rule (None when it does not).

        ``source_kind`` is the kind of the entity the reference belongs to (its parent).
        """
        rule = self.reference_rules.get(self.canonical(keyword))
        if rule is None:
            return None
        letter = target.id[:1].upper()
        if rule.target_types and letter not in rule.target_types:
            want = "/".join(sorted(rule.target_types))
            return f"{rule.keyword} must target a {want} id, not {target.raw}"
        if rule.same_type and source_kind is not None:
            own = self.kind_letters.get(source_kind)
            if own and letter != own:
                return f"{rule.keyword} must target the same entity type ({own}), not {target.raw}"
        return None

    # -- ids ---------------------------------------------------------------------------
    def normalize_id(self, raw: str) -> str | None:
        """``p1`` -> ``P01``, ``T4-R1`` -> ``T04-R1``, ``t-new`` -> ``T-NEW``; None if no id."""
        m = self.local_id_re.fullmatch(raw.strip())
        if not m:
            return None
        return self._norm(m)

    def _norm(self, m: re.Match[str]) -> str:
        letter = m.group("letter").upper()
        if m.group("word"):
            return f"{letter}-{m.group('word').upper()}"
        return letter + m.group("num").zfill(self.id_pad) + (m.group("suffix") or "").upper()

    def make_ref(self, raw: str, expert: str | None, rnd: str | None, local: str) -> Ref:
        lid = self.normalize_id(local) or local.upper()
        r = int(rnd) if rnd else None
        if r is None and self.typed_local_re.fullmatch(lid):
            r = int(lid[1:3])  # RFC 0051 id: round (2 digits) + seq (2 digits)
        return Ref(raw=raw.strip(), id=lid, expert=expert.lower() if expert else None, round=r)

    def parse_ref(self, text: str) -> Ref | None:
        """One target as written (``MUFFIN R1-T01``), or None when it is not one."""
        m = self.ref_re.fullmatch(text.strip())
        return self._ref(m) if m else None

    def _ref(self, m: re.Match[str]) -> Ref:
        return self.make_ref(m.group(0), m.group("expert"), m.group("round"), m.group("id"))

    def parse_ref_list(self, text: str) -> tuple[list[Ref], str]:
        """Targets at the start of ``text`` (comma, space or 'and' separated) and the rest."""
        refs: list[Ref] = []
        pos, n = 0, len(text)
        while pos < n:
            m = self.ref_re.match(text, pos)
            if not m:
                break
            refs.append(self._ref(m))
            sep = self.ref_sep_re.match(text, m.end())  # all optional: always matches
            pos = sep.end() if sep else m.end()
        return refs, text[pos:].strip()

    def find_mentions(self, text: str) -> list[Ref]:
        """Expert-qualified ids in running text (``CROISSANT-T01``, ``STRUDEL R1-T01``)."""
        out = []
        for m in self.mention_re.finditer(text):
            rnd = m.group("round") or m.group("round2")
            out.append(self.make_ref(m.group(0), m.group("expert"), rnd, m.group("id")))
        return out


# -- loading ---------------------------------------------------------------------------
def _fail(path: Path, key: str, why: str) -> GrammarError:
    return GrammarError(f"{path}: key '{key}': {why}; fix the grammar file")


def _words(v: Any) -> frozenset[str]:
    """A list of words (checked by the schema), None for none."""
    return frozenset(x.strip() for x in v or ())


def _keyword_name(path: Path, key: str, name: Any) -> str:
    if not isinstance(name, str) or not _KEYWORD_SHAPE.match(Grammar.canonical(name)):
        raise _fail(path, key, f"{name!r} is not an upper-case keyword (e.g. TENSION, RE:SUPPORT)")
    return Grammar.canonical(name)


def _keyword_rule(dialect: str, name: str, spec: dict[str, Any]) -> KeywordRule:
    return KeywordRule(
        keyword=name,
        kind=spec["kind"].strip().lower(),
        dialect=dialect,
        id_letter=spec.get("id"),
        entity=spec.get("entity", False),
        targets=spec.get("targets", False),
        prepositions=frozenset(w.lower() for w in _words(spec.get("prepositions"))),
        event=spec.get("event"),
        ref=spec["ref"].strip() if "ref" in spec else None,
        attach=spec.get("attach"),
        label_only=spec.get("label_only", False),
        move=spec.get("move"),
    )


def compile_files(files: Iterable[Path]) -> Grammar:
    """Merge marker grammar files (those with a ``dialect`` key) into one Grammar.

    Each is checked against the schema first (grammars/schema.yaml: types, known fields);
    what a schema cannot say (keyword shapes, duplicates, aliases and reference rules naming
    what exists) is checked here, the error naming the file and the key.
    """
    keywords: dict[str, KeywordRule] = {}
    aliases: dict[str, str] = {}
    alias_src: dict[str, Path] = {}
    entity_types: dict[str, EntityType] = {}
    ref_rules: dict[str, tuple[Path, dict[str, Any]]] = {}
    families: set[str] = set()
    tolerated: set[str] = set()
    addressee: set[str] = set()
    pad, placeholders, digits = 2, {"NEW"}, 4
    after_bracket = False
    used: list[Path] = []
    for path in files:
        raw = _read_bytes(path)
        doc = _parse_yaml(path, raw)
        if not isinstance(doc, dict) or "dialect" not in doc:
            continue  # not a marker grammar (e.g. judge.yaml)
        validate(path, MARKER, doc, raw)
        used.append(path)
        dialect = doc["dialect"].strip()
        after_bracket = doc.get("targets_after_bracket", after_bracket)
        for name, spec in (doc.get("keywords") or {}).items():
            kw = _keyword_name(path, f"keywords.{name}", name)
            if kw in keywords:
                raise _fail(path, f"keywords.{name}", "keyword defined twice")
            keywords[kw] = _keyword_rule(dialect, kw, spec)
        for name, target in (doc.get("aliases") or {}).items():
            a = _keyword_name(path, f"aliases.{name}", name)
            aliases[a] = _keyword_name(path, f"aliases.{name}", target)
            alias_src[a] = path
        tolerated |= {w.lower() for w in _words(doc.get("tolerated_prepositions"))}
        addressee |= {w.lower() for w in _words(doc.get("addressee_prepositions"))}
        ids = doc.get("ids") or {}
        pad = ids.get("pad", pad)
        placeholders |= {w.upper() for w in _words(ids.get("placeholders"))}
        for letter, spec in (doc.get("entity_types") or {}).items():
            entity_types[letter] = EntityType(letter, spec["kind"].strip().lower(),
                                              spec.get("event"))
        digits = doc.get("typed_id_digits", digits)
        families |= {_keyword_name(path, "families", f) for f in _words(doc.get("families"))}
        for name, spec in (doc.get("reference_rules") or {}).items():
            ref_rules[_keyword_name(path, f"reference_rules.{name}", name)] = (path, spec)
    if not keywords:
        where = ", ".join(str(p) for p in used) or "no file with a 'dialect' key"
        raise GrammarError(f"no marker keywords defined ({where}); check the grammars folder")
    for a, target in aliases.items():
        if target not in keywords:
            raise _fail(alias_src[a], f"aliases.{a}", f"names unknown keyword {target}")
        if a in keywords:
            raise _fail(alias_src[a], f"aliases.{a}", "is also a keyword")
    rules: dict[str, ReferenceRule] = {}
    for name, (path, spec) in ref_rules.items():
        where = f"reference_rules.{name}"
        if name not in keywords:
            raise _fail(path, where, "names an unknown keyword")
        types = _words(spec.get("target_types"))
        bad = types - set(entity_types)
        if bad:
            raise _fail(path, f"{where}.target_types", f"unknown entity type {sorted(bad)[0]}")
        rules[name] = ReferenceRule(name, types, spec.get("same_type", False))
    return Grammar(keywords, aliases, entity_types, rules, frozenset(families),
                   frozenset(tolerated), pad, frozenset(placeholders), digits, tuple(used),
                   frozenset(addressee), after_bracket)


# -- one schema for every grammar file (grammars/schema.yaml) ------------------------------
SCHEMA_FILE = "schema.yaml"
MARKER = "marker"  # any file with a `dialect` key
# Grammar files read by name, and the schema definition ($defs) each must satisfy.
FILE_KINDS = {"judge.yaml": "judge", "single-file.yaml": "single_file",
              "resolution.yaml": "resolution", "lifecycle.yaml": "lifecycle"}
_VALID: set[str] = set()  # digests of (schema, kind, bytes) that passed in this process


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise GrammarError(f"{path}: cannot read ({e})") from None


def _parse_yaml(path: Path, raw: bytes) -> Any:
    try:
        return parse_yaml(raw.decode("utf-8"))
    except YamlError as e:
        raise GrammarError(f"{e.at(path)}: invalid YAML ({e.problem}); "
                           "fix the grammar file") from None
    except UnicodeDecodeError as e:
        raise GrammarError(f"{path}: cannot read ({e})") from None


def grammar_file(name: str) -> Path:
    """``name`` in $BLUE_INDEX_GRAMMARS when that folder has it, else the project's own."""
    path = grammar_dir() / name
    return path if path.is_file() else DEFAULT_DIR / name


def read_grammar_file(name: str, path: Path | str | None = None) -> Any:
    """The parsed, schema-checked grammar file ``name`` (``judge.yaml``, ...) of ``path``
    or the grammar folder; GrammarError naming the file and the key when it is broken."""
    p = Path(path) if path is not None else grammar_file(name)
    raw = _read_bytes(p)
    doc = _parse_yaml(p, raw)
    validate(p, FILE_KINDS[name], doc, raw)
    return doc


@lru_cache(maxsize=1)
def _schema_bytes() -> bytes:
    return _read_bytes(DEFAULT_DIR / SCHEMA_FILE)


def _ok_dir() -> Path:
    """Where digests of grammar files that passed are remembered across processes."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "blue-index" / "grammar-ok"


def validate(path: Path, kind: str, doc: Any, raw: bytes) -> None:
    """Check ``doc`` (the bytes ``raw`` of ``path``) against the schema's ``kind`` definition.

    jsonschema takes ~80 ms to import and grammars are loaded on the git hook's path, so a
    file that passed is remembered by the digest of (schema, kind, bytes): in this process,
    and as an empty file under ~/.cache/blue-index (a pure accelerator: a missing or
    unwritable cache only means checking again). Unchanged grammars never import jsonschema.
    """
    import hashlib

    digest = hashlib.sha256(_schema_bytes() + b"\0" + kind.encode() + b"\0" + raw).hexdigest()
    if digest in _VALID:
        return
    mark = _ok_dir() / digest[:32]
    try:
        known = mark.is_file()
    except OSError:  # e.g. a cache folder another user owns: check, as without a cache
        known = False
    if known:
        _VALID.add(digest)
        return
    problem = schema_problem(kind, doc)
    if problem is not None:
        raise GrammarError(f"{path}: {problem}; fix the grammar file")
    _VALID.add(digest)
    with contextlib.suppress(OSError):
        mark.parent.mkdir(parents=True, exist_ok=True)
        mark.touch()


@lru_cache(maxsize=8)
def _validator(kind: str) -> Any:
    import jsonschema

    schema = _parse_yaml(DEFAULT_DIR / SCHEMA_FILE, _schema_bytes())
    cls = jsonschema.Draft202012Validator
    return cls({**schema, "$ref": f"#/$defs/{kind}"}, format_checker=cls.FORMAT_CHECKER)


def schema_problem(kind: str, doc: Any) -> str | None:
    """``key 'a.b': what is wrong`` for the first schema error of ``doc``, or None."""
    import jsonschema

    error = jsonschema.exceptions.best_match(_validator(kind).iter_errors(doc))
    if error is None:
        return None
    where = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "additionalProperties":
        known = sorted(error.schema.get("properties", {}))
        extra = sorted(str(k) for k in error.instance if str(k) not in known)
        key = f"{where}.{extra[0]}" if where and extra else (extra[0] if extra else where)
        return f"key '{key}': unknown field (known: {', '.join(known)})"
    if error.validator == "required":
        missing = next((str(k) for k in error.validator_value if k not in error.instance), "?")
        return f"key '{where + '.' if where else ''}{missing}': missing"
    why = error.message
    if isinstance(error.instance, bool) and error.validator in ("type", "minLength", "$ref"):
        why += ' (quote words such as "on" or "no" that YAML reads as true/false)'
    return f"key '{where or '(top)'}': {why}"


def grammar_dir(dir: Path | str | None = None) -> Path:
    if dir is not None:
        return Path(dir)
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else DEFAULT_DIR


def load(dir: Path | str | None = None) -> Grammar:
    """The grammar of ``dir`` (default: $BLUE_INDEX_GRAMMARS, else the repo's grammars/).

    Loaded once per folder and cached; raises GrammarError naming the file and key.
    """
    if dir is None:  # the common call (once per parsed file): skip resolving the path
        return _load_default(os.environ.get(ENV_VAR), os.getcwd())
    return _load(grammar_dir(dir).resolve())


# Bump when the parsing code (not the grammar files) changes what files yield, so that
# stores built by an older parser count as built with another grammar and are re-parsed.
PARSER_VERSION = "1"


def fingerprint(dir: Path | str | None = None) -> str:
    """A short hash of the grammar files and the parser version: stored in every dialogue's
    ``meta`` item, so a grammar edit makes ``reindex`` re-parse and ``--check`` differ."""
    return _fingerprint(str(grammar_dir(dir).resolve()), os.environ.get(ENV_VAR), os.getcwd())


@lru_cache(maxsize=8)
def _fingerprint(path: str, env: str | None, cwd: str) -> str:
    import hashlib

    h = hashlib.sha256(f"blue-index parser {PARSER_VERSION}\0".encode())
    for f in sorted(Path(path).glob("*.yaml")):
        h.update(f"{f.name}\0".encode())
        h.update(f.read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:16]


@lru_cache(maxsize=8)
def _load_default(env: str | None, cwd: str) -> Grammar:
    """load() of the default folder, per $BLUE_INDEX_GRAMMARS and working folder (a relative
    setting names another folder after a chdir)."""
    return _load(grammar_dir().resolve())


@lru_cache(maxsize=8)
def _load(path: Path) -> Grammar:
    if not path.is_dir():
        raise GrammarError(f"{path}: grammar folder not found; set {ENV_VAR} or reinstall")
    return compile_files(sorted(path.glob("*.yaml")))
