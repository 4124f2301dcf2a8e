"""gt-registry: run an NGO network's working groups from one shared spreadsheet."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("gt-registry")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
