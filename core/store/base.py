"""The one small interface every register backend implements, and the logic they share.

Backends (workbook.py, gsheet.py) only move cells; locating a row by its complaint number,
the version check, the cells an update changes and the audit lines are decided here once.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from dataclasses import dataclass

from core.errors import ConflictError, NotFoundError, RegisterError
from core.reading.i18n import label
from core.reading.parse import parse_int, text_of
from core.reading.raw import RawBook, RawTab
from core.reading.schema import Schema, Tab, norm

BOOKKEEPING = ("version", "updated_at", "updated_by")


@dataclass(frozen=True)
class CellChange:
    row: int  # sheet row number (header = 1)
    col: int  # 0-based column position
    value: object


@dataclass(frozen=True)
class UpdatePlan:
    row: int
    cells: list[CellChange]
    audit: list[dict[str, object]]
    old: dict[str, str]


def audit_lines(now: dt.datetime, user: str, complaint_id: str,
                changes: dict[str, tuple[str, str]], names: dict[str, str] | None = None
                ) -> list[dict[str, object]]:
    """Audit records (time, user, id, field, old, new) for the given field changes; a field
    is named by `names` (the sheet's own header, as people read the tab), else its key."""
    names = names or {}
    return [{"time": now, "user": user, "id": complaint_id, "field": names.get(k) or k,
             "old": old, "new": new} for k, (old, new) in changes.items()]


def created_lines(now: dt.datetime, user: str, numbers: list[str], subjects: list[object],
                  lang: str) -> list[dict[str, object]]:
    """The audit line of each new complaint: its field says "created" in the sheet's
    language (core.rules.register reads it back to know who added the complaint)."""
    word = label("audit_created", lang)
    return [line for cid, subject in zip(numbers, subjects, strict=True)
            for line in audit_lines(now, user, cid, {word: ("", text_of(subject))})]


def record_row(tab: Tab, header: list[object], record: dict[str, object]) -> list[object]:
    """A record laid out along an existing header row; a key without a column is an error."""
    cols = tab.match_headers(header)
    missing = [k for k, v in record.items() if k not in cols and text_of(v)]
    if missing:
        names = ", ".join(f"{tab.column(k).en} ({tab.column(k).zh})" for k in missing)
        raise RegisterError(f"The {tab.en} tab has no column for {names}; "
                            f"run `python -m core init` to add the missing headers.")
    width = max(len(header), max(cols.values(), default=-1) + 1)
    row: list[object] = [None] * width
    for k, v in record.items():
        if k in cols:
            row[cols[k]] = v
    return row


def locate(tab: Tab, raw: RawTab, complaint_id: str) -> int:
    """The 0-based data-row index holding `complaint_id`; exactly one row must hold it."""
    cols = raw.column_map(tab)
    if "id" not in cols:
        raise RegisterError(f"The {tab.en} tab has no Complaint No. (投诉编号) column; run init.")
    c = cols["id"]
    want = norm(complaint_id)
    hits = [i for i, r in enumerate(raw.rows) if c < len(r) and norm(text_of(r[c])) == want]
    if not hits:
        raise NotFoundError(f"Complaint {complaint_id} is no longer in the register "
                            f"(someone may have deleted the row); nothing was written.",
                            complaint_id=complaint_id)
    if len(hits) > 1:
        rows = ", ".join(str(raw.sheet_row(i)) for i in hits)
        raise RegisterError(f"Complaint {complaint_id} is on more than one row ({rows}); "
                            f"fix the duplicate in the sheet first. Nothing was written.")
    return hits[0]


def plan_update(tab: Tab, raw: RawTab, complaint_id: str, changes: dict[str, object], *,
                seen: dict[str, object], user: str, now: dt.datetime,
                stamp: object) -> UpdatePlan:
    """Decide the cells an update writes, after checking nobody changed the row meanwhile.

    `seen` holds what the user saw: `version` and the old values of the fields being changed.
    A different version, or a field changed by hand since, is a conflict and nothing is written.
    `stamp` is `now` in the form the backend stores times.
    """
    i = locate(tab, raw, complaint_id)
    cols = raw.column_map(tab)
    missing = [k for k in (*changes, *BOOKKEEPING) if k not in cols]
    if missing:
        names = ", ".join(f"{tab.column(k).en} ({tab.column(k).zh})" for k in missing)
        raise RegisterError(f"The {tab.en} tab has no column for {names}; "
                            f"run `python -m core init` to add the missing headers.")
    row = raw.rows[i]

    def cell(k: str) -> object:
        c = cols[k]
        return row[c] if c < len(row) else None

    current_version = parse_int(cell("version"))
    current_version = current_version if isinstance(current_version, int) else 0
    seen_version = parse_int(seen.get("version"))
    seen_version = seen_version if isinstance(seen_version, int) else 0
    changed_by_hand = [k for k in changes if k in seen and
                       _same(seen[k]) != _same(cell(k))]
    if current_version != seen_version or changed_by_hand:
        by, at = text_of(cell("updated_by")), text_of(cell("updated_at"))
        who = f" by {by}" if by else ""
        when = f" at {at}" if at else ""
        fields = (f" ({', '.join(tab.column(k).en for k in changed_by_hand)})"
                  if changed_by_hand else "")
        raise ConflictError(f"Complaint {complaint_id} was changed{who}{when}{fields} after you "
                            f"opened it; nothing was written. Reload it and enter your change "
                            f"again.", by=by, at=at, complaint_id=complaint_id,
                            fields={lang: [tab.column(k).header(lang) for k in changed_by_hand]
                                    for lang in ("zh", "en")})
    diffs = {k: (text_of(cell(k)), text_of(v)) for k, v in changes.items()
             if _same(cell(k)) != _same(v)}
    sheet_row = raw.sheet_row(i)
    new_version = current_version + 1
    writes = {k: changes[k] for k in diffs}
    writes.update(version=new_version, updated_at=stamp, updated_by=user)
    cells = [CellChange(sheet_row, cols[k], v) for k, v in writes.items()]
    headers = {k: text_of(raw.header[cols[k]]) for k in diffs if cols[k] < len(raw.header)}
    return UpdatePlan(sheet_row, cells, audit_lines(now, user, complaint_id, diffs, headers),
                      {k: o for k, (o, _) in diffs.items()})


def _same(v: object) -> str:
    """Values compared the way a person would: as the text they show, dates to the second."""
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    from core.reading.parse import parse_datetime
    t = text_of(v)
    if t and t[:1].isdigit() and any(ch in t for ch in "-/年"):
        d = parse_datetime(t)
        if isinstance(d, dt.datetime):
            return d.strftime("%Y-%m-%d %H:%M:%S")
    return norm(t)


class Store(ABC):
    """A register backend: read every tab, append rows, update one row, create tabs."""

    #: what the sidebar and the CLI call this register
    label: str = ""

    def __init__(self, schema: Schema):
        self.schema = schema

    @abstractmethod
    def read(self, skip: tuple[str, ...] = ()) -> RawBook:
        """Every tab of the register (but the tab keys in `skip`) as raw cells, in one read."""

    @abstractmethod
    def append(self, tab_key: str, records: list[dict[str, object]], *,
               audit: list[dict[str, object]] = ()) -> None:
        """Append records (keyed by column key) to a tab, with their audit lines (rows that
        carry no complaint number: departments, holidays, a demo's prepared rows)."""

    @abstractmethod
    def add_complaints(self, records: list[dict[str, object]], *, prefix: str, user: str,
                       now: dt.datetime) -> list[str]:
        """Append new complaints with an audit line each, numbering them (R-NUMBER) from the
        register as it is at the moment of writing; returns their numbers, in order.

        Two writers at the same moment, on one machine or two, get different numbers, and a
        retry after a lost reply never takes someone else's row for its own.
        """

    @abstractmethod
    def update(self, complaint_id: str, changes: dict[str, object], *,
               seen: dict[str, object], user: str, now: dt.datetime) -> UpdatePlan:
        """Write `changes` to the complaint's row if nobody changed it since `seen`."""

    @abstractmethod
    def init(self, lang: str) -> list[str]:
        """Create missing tabs and headers, dropdowns and frozen header rows; never touch data.

        Returns one line per thing done (empty when the register was already complete).
        """
