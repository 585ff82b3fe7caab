"""Wall time of the pre-commit hook for a commit of 5 dialogue files, in a repository of
10,000 dialogue files and in one of ~100, beside ``python -c pass`` and
``git diff --cached --name-only`` measured in the same run (goal: hook under 300 ms).

    python bench/bench_hook.py [--files 10000] [--small 120] [--runs 10] [--keep DIR]

The hook is timed as git runs it: the installed ``pre-commit`` script (sh, then this
interpreter with ``-m indexer.cli hook run``). Also timed: a commit with no dialogue file.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_corpus import generate  # noqa: E402

ROUNDS, EXPERTS = 3, 5  # 40 files per dialogue
FILES_PER_DIALOGUE = 1 + ROUNDS * (1 + 2 * EXPERTS + 1) + 3
COMMIT_FILES = 5


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as for users: bytecode is cached
    env.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
               GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.com",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.com")
    return env


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, check=False)


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _time(cmd: list[str], cwd: Path, env: dict[str, str], runs: int) -> Timing:
    """Median and min wall ms, median CPU ms (user+sys of the process tree), exit code, over
    ``runs`` runs after one warm-up (which also writes the bytecode cache)."""
    rc = _run(cmd, cwd, env).returncode
    wall, cpu = [], []
    for _ in range(runs):
        c, t = _cpu(), time.perf_counter()
        _run(cmd, cwd, env)
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((_cpu() - c) * 1000)
    return Timing(statistics.median(wall), min(wall), statistics.median(cpu), rc)


def build(root: Path, files: int, home: Path) -> tuple[dict[str, str], list[str]]:
    """A repository with ``files`` dialogue files committed, 5 of them modified and staged."""
    env = _env(home)
    root.mkdir(parents=True)
    _run(["git", "init", "-q", "-b", "main"], root, env)
    dialogues = max(1, round(files / FILES_PER_DIALOGUE))
    written = generate(root / ".blue" / "dialogues", dialogues, ROUNDS, EXPERTS, seed=7)
    (root / "README.md").write_text("bench\n")
    _run(["git", "add", "-A"], root, env)
    _run(["git", "commit", "-q", "--no-verify", "-m", "corpus"], root, env)
    install = _run([sys.executable, "-m", "indexer.cli", "hook", "install"], root, env)
    if install.returncode:
        raise SystemExit(install.stderr.decode())
    # Five responses of one dialogue: a new perspective each, staged.
    responses = [p for p in written if p.parent.name == "round-2" and
                 not p.name.endswith(".prompt.md") and p.suffix == ".md"][:COMMIT_FILES]
    for i, p in enumerate(responses):
        with p.open("a", encoding="utf-8") as f:
            f.write(f"\n[PERSPECTIVE P{90 + i}: added for the benchmark]\nA new point.\n")
    staged = [p.relative_to(root).as_posix() for p in responses]
    _run(["git", "add", *staged], root, env)
    return env, staged


class Timing(NamedTuple):
    median: float
    low: float
    cpu: float
    rc: int


def measure(root: Path, env: dict[str, str], runs: int) -> dict[str, Timing]:
    hook = _run(["git", "rev-parse", "--git-path", "hooks/pre-commit"], root, env)
    script = str(root / hook.stdout.decode().strip())
    out = {
        "python -c pass": _time([sys.executable, "-c", "pass"], root, env, runs),
        "git diff --cached --name-only": _time(
            ["git", "diff", "--cached", "--name-only"], root, env, runs),
        "hook, 5 dialogue files staged": _time([script], root, env, runs),
    }
    # The same repository with only a non-dialogue file staged.
    _run(["git", "stash", "-q"], root, env)
    (root / "README.md").write_text("bench, again\n")
    _run(["git", "add", "README.md"], root, env)
    out["hook, no dialogue file staged"] = _time([script], root, env, runs)
    _run(["git", "reset", "-q", "--hard"], root, env)
    _run(["git", "stash", "pop", "-q", "--index"], root, env)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--files", type=int, default=10_000)
    p.add_argument("--small", type=int, default=120)
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--keep", type=Path, help="build the repositories here and keep them")
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        base = a.keep or Path(tmp)
        for n in (a.small, a.files):
            root = base / f"repo-{n}"
            t = time.perf_counter()
            env, staged = build(root, n, base / "home")
            count = len(_run(["git", "ls-files", ".blue/dialogues"], root, env).stdout.splitlines())
            print(f"\n{count} dialogue files in the repository "
                  f"(built in {time.perf_counter() - t:.1f} s); staged: {len(staged)} files")
            for name, t in measure(root, env, a.runs).items():
                print(f"  {name:32s} wall median {t.median:6.1f} ms  min {t.low:6.1f} ms"
                      f"   cpu median {t.cpu:6.1f} ms   exit {t.rc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
