"""Data sets read from local files (no downloads)."""
from . import fashion_mnist  # noqa: F401
