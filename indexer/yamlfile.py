"""The one YAML reader of the package (config, grammars): safe loading only, with libyaml's
loader when installed (about 10x faster; every hook run loads the grammars). PyYAML is
imported on first use, so a command that reads no YAML never pays for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class YamlError(ValueError):
    """Not valid YAML: ``line`` (1-based, None when unknown) and the parser's ``problem``."""

    def __init__(self, problem: str, line: int | None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = line

    def at(self, path: Path | str) -> str:
        """``path:line`` (or ``path``) for a one-line message."""
        return f"{path}:{self.line}" if self.line else str(path)


def parse_yaml(text: str) -> Any:
    """The document in ``text`` (plain data: dicts, lists, scalars)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise YamlError(str(getattr(e, "problem", None) or e),
                        mark.line + 1 if mark is not None else None) from None
