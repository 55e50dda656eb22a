"""The errors leadscore raises on purpose, one class per kind of fault.

Each carries the one line the CLI prints after ``leadscore: error:`` (exit status 2). The
message names what is wrong and where: the table, column and row count for data; the key
for a config; the URI for a model or a tracking store. Anything else that escapes is a bug.
"""

from __future__ import annotations


class LeadscoreError(Exception):
    """Base of every deliberate leadscore error; ``str(err)`` is one line for the user."""


class UsageError(LeadscoreError, ValueError):
    """A bad command-line value or combination of options."""


class ConfigError(LeadscoreError, ValueError):
    """A configuration file or key that is missing, unknown or ill-typed."""


class DataError(LeadscoreError, ValueError):
    """Input data that breaks the contract (or cannot be read at all)."""


class ModelError(LeadscoreError):
    """A model that cannot serve this input: wrong mode, settings or columns it lacks."""


class RegistryError(LeadscoreError):
    """The MLflow store or registry cannot give what was asked: no store, unknown model,
    version or run, artifacts that cannot be read."""


class EngineError(LeadscoreError):
    """A feature or scoring engine (DuckDB, Spark) that failed on valid input: out of
    memory, a lost executor, a path it cannot reach."""
