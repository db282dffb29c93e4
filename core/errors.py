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
        from core.reading.i18n import message

        return message(self.section, self.code, lang, **self.params)


class SchemaError(RegisterError):
    """A file in sheets_schema/ is broken; the message names the file and the entry."""


class PolicyError(RegisterError):
    """A policy preset is unknown or broken."""


class NotAColumn(Said):
    """A value was handed in under a key that is no column of the register."""

    section = "store"

    def __init__(self, key: str):
        super().__init__("not_a_column", key=key)


class LockedError(Said):
    """The workbook is being written by another process or is open in another program."""

    section = "store"


class ConflictError(RegisterError):
    """The row changed since the user read it; nothing was written."""

    def __init__(self, message: str, *, by: str = "", at: str = "", complaint_id: str = "",
                 fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.by = by
        self.at = at
        self.complaint_id, self.fields = complaint_id, fields or {}

    def message(self, lang: str) -> str:
        if not self.complaint_id:
            return str(self)
        from core.reading.i18n import label, message

        names = self.fields.get(lang) or []
        return message("store", "conflict", lang, id=self.complaint_id,
                       who=label("conflict_by", lang, by=self.by) if self.by else "",
                       when=label("conflict_at", lang, at=self.at) if self.at else "",
                       fields=label("conflict_fields", lang, f=label("list_sep", lang).join(names))
                       if names else "")


class NotFoundError(RegisterError):
    """No row carries the complaint number being updated."""

    def __init__(self, text: str, *, complaint_id: str = ""):
        super().__init__(text)
        self.complaint_id = complaint_id

    def message(self, lang: str) -> str:
        if not self.complaint_id:
            return str(self)
        from core.reading.i18n import message

        return message("store", "not_found", lang, id=self.complaint_id)
