"""Test sessions: `nox` (the lock file, every supported Python) and `nox -s latest`.

`tests` is what CI runs (`.ci/run` does the same without nox). `latest` installs the newest
releases that pyproject.toml allows, ignoring the lock: run it before refreshing the lock, so
the next deprecation of a dependency shows up as a failing test, not as a red CI.
"""

import nox

PYTHONS = ["3.11", "3.12", "3.13"]
nox.options.sessions = ["tests"]


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    session.install("-c", "requirements/lock.txt", "-e", ".[test]")
    session.run("ruff", "check", ".")
    session.run("mypy")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session(python=PYTHONS[-1])
def latest(session: nox.Session) -> None:
    session.install("--upgrade", "--upgrade-strategy", "eager", "-e", ".[test]")
    session.run("python", "-m", "pytest", *session.posargs)
