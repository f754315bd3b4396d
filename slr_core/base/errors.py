"""The project's error classes: one base for every error that comes from the user's input.

``SLRError`` marks a problem the user can fix (a damaged file, a wrong setting, a dataset that does
not fit); its message names the file or setting and the problem. The command line prints such an
error as one line, while any other exception (a programming error) keeps its traceback. Each
subclass is also a ``ValueError`` (or ``RuntimeError``) so callers that catch those keep working.
"""

from __future__ import annotations


class SLRError(Exception):
    """An error in the user's input or settings; the message says what is wrong and where."""


class ConfigError(SLRError, ValueError):
    """A setting, option or configuration value that cannot be used."""
