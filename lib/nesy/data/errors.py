"""The exceptions of `nesy.data`. Every one is a `RuntimeError` (via `DataError`)."""

from __future__ import annotations


class DataError(RuntimeError):
    """Base class of every error raised by `nesy.data` (bad user *parameters* raise ValueError)."""


class DataUnavailableError(DataError):
    """No source (project cache, offline mirror, canonical download) could supply a file.

    The message names the three places tried, why each failed, and how to fix it.
    `attempts` holds the same as a list of ``(source, reason)`` pairs.
    """

    def __init__(self, message: str, attempts: list[tuple[str, str]]):
        super().__init__(message)
        self.attempts = attempts


class ChecksumError(DataError):
    """A file's bytes do not match any digest pinned for it in data/registry.yaml."""


class UnsafeArchiveError(DataError):
    """An archive holds a member that would land outside the unpack folder, or a link/device."""


class FormatError(DataError):
    """A data file does not have the expected format (e.g. an IDX file with a wrong magic number)."""


class RegistryError(DataError):
    """data/registry.yaml is missing or malformed."""
