"""Named errors; pages and the CLI turn them into one clear sentence for the user."""


class RegisterError(Exception):
    """The register could not be read or written; the message says why and what to do."""


class SchemaError(RegisterError):
    """A file in sheets_schema/ is broken; the message names the file and the entry."""


class PolicyError(RegisterError):
    """A policy preset is unknown or broken."""


class LockedError(RegisterError):
    """The workbook is being written by another process or is open in another program."""


class ConflictError(RegisterError):
    """The row changed since the user read it; nothing was written."""

    def __init__(self, message: str, *, by: str = "", at: str = ""):
        super().__init__(message)
        self.by = by
        self.at = at


class NotFoundError(RegisterError):
    """No row carries the complaint number being updated."""
