"""One exception hierarchy for blue-index; each error knows its exit code (CLI.md).

Exit codes: 0 success; 1 the command worked and found problems; 2 usage or configuration
error; 3 the store cannot be reached. The CLI maps an error to its code in one place
(``indexer.cli.main``) by reading ``exit_code``; library callers catch ``BlueIndexError``
(or a narrower class) and read the one-line message (what, where, what to do).

A leaf module: it imports nothing from ``indexer``, so every layer can raise these. The
older names stay importable where they were defined (``config.ConfigError``,
``grammar.GrammarError``, ``store.base.StoreUnavailable``, ...): each is a subclass here.
"""

from __future__ import annotations

from typing import ClassVar

OK = 0
PROBLEMS = 1
USAGE = 2
UNREACHABLE = 3


class BlueIndexError(Exception):
    """Every error blue-index raises on purpose. The message is one line for users."""

    exit_code: ClassVar[int] = PROBLEMS


class ProblemsFound(BlueIndexError):
    """The work was done and found problems (exit 1), e.g. an input that cannot be read."""

    exit_code: ClassVar[int] = PROBLEMS


class UsageError(BlueIndexError):
    """The command cannot run as given: a bad argument, path or id (exit 2)."""

    exit_code: ClassVar[int] = USAGE


class ConfigError(UsageError):
    """A configuration problem the user must fix (exit 2): config file, environment."""


class GrammarError(ConfigError):
    """A grammar file (``grammars/*.yaml``) is malformed; the message names file and key."""


class NotFound(UsageError, LookupError):
    """What was asked for does not exist (an unknown dialogue id): exit 2."""


class GitError(UsageError):
    """A git command failed, or the folder is not in a git work tree (exit 2)."""


class HookError(UsageError):
    """Installing or removing the git hook cannot proceed safely (exit 2)."""


class OutputError(UsageError):
    """Output cannot be written where asked (exit 2), e.g. the report folder."""


class StoreUnavailable(BlueIndexError):
    """The store cannot be reached, opened or used (exit 3); a wrong or missing encryption
    key is one case."""

    exit_code: ClassVar[int] = UNREACHABLE


class KeyUnusable(StoreUnavailable):
    """The master key cannot be used (missing, unreadable, exposed, wrong): exit 3."""


class KeyPlacementError(KeyUnusable):
    """A new key file cannot be created where asked (the user's choice: exit 2)."""

    exit_code: ClassVar[int] = USAGE


def code_of(exc: BaseException) -> int | None:
    """The exit code of an error blue-index raised on purpose; None for anything else."""
    return exc.exit_code if isinstance(exc, BlueIndexError) else None
