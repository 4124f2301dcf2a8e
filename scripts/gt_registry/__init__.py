"""gt-registry: run an NGO network's working groups from one shared spreadsheet."""

from typing import Any


def __getattr__(name: str) -> Any:
    """`__version__`, looked up when first asked for (`gt --version`): importlib.metadata
    costs every other run some 40 ms."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("gt-registry")
    except PackageNotFoundError:  # running from a source tree that is not installed
        found = "0+unknown"
    globals()["__version__"] = found
    return found
