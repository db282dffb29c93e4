"""Named errors; pages and the CLI turn them into one clear sentence for the user."""


class RegisterError(Exception):
    """The register could not be read or written; the message says why and what to do."""

    def message(self, lang: str) -> str:
        """The sentence in `lang`; an error written in one language only says it as written."""
        return str(self)


class Said(RegisterError):
    """An error whose sentence is `code` of a section of messages.yaml, in either language."""

    section = ""

    def __init__(self, code: str, **params: object):
        self.code, self.params = code, params
        super().__init__(self.message("en"))

    def message(self, lang: str) -> str:
        from core.i18n import message

        return message(self.section, self.code, lang, **self.params)


class SchemaError(RegisterError):
    """A file in sheets_schema/ is broken; the message names the file and the entry."""


class PolicyError(RegisterError):
    """A policy preset is unknown or broken."""


class LockedError(Said):
    """The workbook is being written by another process or is open in another program."""

    section = "store"


class ConflictError(RegisterError):
    """The row changed since the user read it; nothing was written."""

    def __init__(self, message: str, *, by: str = "", at: str = ""):
        super().__init__(message)
        self.by = by
        self.at = at


class NotFoundError(RegisterError):
    """No row carries the complaint number being updated."""
