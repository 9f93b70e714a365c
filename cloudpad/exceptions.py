"""Errors that users of Cloud Architecture Notepad see.

Every message names the thing that is wrong (a notebook, a parameter, a data
file, a configuration key), the value that was found and what is allowed, so a
reader can fix the input without reading the code.  Every model function in
:mod:`cloudpad.models` raises :class:`InputError` for a bad argument; it is a
``ValueError`` subclass, so callers who do not know this module can still catch
it as one.
"""

from __future__ import annotations


class CloudpadError(Exception):
    """Base class of every error raised on purpose by ``cloudpad``."""


class InputError(CloudpadError, ValueError):
    """A model function got an argument outside its domain (names it, the value and the rule)."""


class ParameterError(CloudpadError, ValueError):
    """A notebook parameter is unknown, of the wrong type or out of range."""


class DataError(CloudpadError, ValueError):
    """A data file is missing, malformed or breaks its schema in ``data/``."""


class ConfigError(CloudpadError, ValueError):
    """``_config.yml`` or ``_toc.yml`` is malformed or names a missing file."""


class NotebookError(CloudpadError):
    """A notebook is invalid (bad JSON, no ``parameters`` cell, not in the toc)."""


class ExecutionFailed(CloudpadError):
    """One or more notebooks failed to execute; the message lists each failure."""


class OutputError(CloudpadError):
    """A file under ``_build`` could not be written (disk full, read-only); names the path."""


class StateFileError(CloudpadError):
    """A file the pipeline keeps between runs (cache record, manifest, baseline) is damaged or of
    an unknown format; names the file and what is wrong (line and column, field, version)."""
