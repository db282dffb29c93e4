"""The shared Google Sheet, through gspread: never rewrites a sheet, never writes a row it
has not proved is the right one.

Reads: one values:batchGet of every tab, as formatted strings (no numericising).

Rows carry developer metadata (key `complaint-register.id`, value = the complaint number),
which the Sheets API keeps on the row through sorts, inserts and deletes; values written
through `values:batchUpdateByDataFilter` with that metadata land on that row wherever it
has moved — locating and writing are one step.

Intake (R-NUMBER), per complaint:
1. one read of the header rows, the ID column and the number marker (spreadsheets.get);
2. one atomic spreadsheets:batchUpdate: insert a row under the last numbered one, fill it
   (text as stringValue: never a formula; dates as numbers with a date format), tag it
   with its number and a random metadataId (the intake's own token), move the marker and
   append the audit line. A retry after a lost reply first looks for its token;
3. one read-back of that row (by its token), the header and the ID column: if another
   writer's row holds the same number, this intake renumbers itself (with an audit line)
   and reads back again — the clerk is told a number only once no other row holds it. (If
   both writers see the clash, both move on; one that has already told its clerk never
   sees a clash, because the other's row was written after that check.) A column moved
   or inserted by hand since step 1 is noticed here and the row is rewritten in place.

Update: read the row by its metadata with the header (version and edited-by-hand check),
write only the changed and bookkeeping cells by the same metadata (nulls leave other cells
alone), read back to confirm — a header changed in between is repaired — then append the
audit line, which a retry after a lost reply never writes twice. A row typed by hand has
no metadata yet: it is found in the ID column (the one cell the caller's read placed it on,
else a few sampled cells narrowing down where it is in number order, else the whole column)
and tagged, and the tag is checked against the row's number before anything is written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import gspread
import requests
from google.auth.exceptions import GoogleAuthError, RefreshError
from gspread.exceptions import APIError, SpreadsheetNotFound
from gspread.utils import extract_id_from_url, rowcol_to_a1

from core.errors import ConflictError, NotFoundError, RegisterError
from core.reading.parse import parse_datetime, parse_int, text_of
from core.reading.raw import RawBook, RawTab
from core.reading.schema import HEADER_SEARCH_ROWS, Schema, Tab, norm
from core.reading.text import clean
from core.store.base import (
    BOOKKEEPING,
    Store,
    UpdatePlan,
    audit_lines,
    created_lines,
    plan_update,
    record_row,
)
from core.store.numbering import allocate, serials_in

RETRYABLE = {408, 429, 500, 502, 503, 504}
PROTECTION_MARK = "complaint-register: bookkeeping columns (version, updated_at, updated_by)"
ROW_KEY = "complaint-register.id"
LAST_KEY = "complaint-register.last-numbers"
LAST_KEEP = 62  # days whose last serial the marker remembers
DATE_PATTERN = "yyyy-mm-dd hh:mm"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
SERVICE_ACCOUNT_KEYS = ("type", "private_key", "client_email")
EPOCH = dt.datetime(1899, 12, 30)
API = "https://sheets.googleapis.com/v4/spreadsheets/"
MAX_ROUNDS = 12
#: the random step of a renumbering is below 2, 4, 8, … up to 2 ** SKIP_DOUBLINGS
SKIP_DOUBLINGS = 5
#: Looking for a row without a mark and without a row to start from: cells of the ID column
#: sampled per call (the first call probes rows 1, 2, 4, 8, … below the header, up to 2^20),
#: and the most rows read whole once the samples have narrowed them down.
SAMPLES, PROBES, WINDOW = 32, 21, 128


def quote(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def column_letter(i: int) -> str:
    return rowcol_to_a1(1, i + 1)[:-1]


def serial(t: dt.datetime) -> float:
    return round((t.replace(tzinfo=None) - EPOCH) / dt.timedelta(days=1), 8)


def raw_value(value: object) -> object:
    """A value for a RAW write: dates as serial numbers (the sheet shows them as dates in a
    date-formatted cell), text as text, blanks as None (left alone)."""
    if isinstance(value, dt.datetime):
        return serial(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return None
    if isinstance(value, str):
        return clean(value)[0]
    return value


def date_format(column_type: str) -> dict:
    """The number format `init` gives a date-time or date column."""
    if column_type == "datetime":
        return {"type": "DATE_TIME", "pattern": DATE_PATTERN}
    return {"type": "DATE", "pattern": "yyyy-mm-dd"}


def cell_data(value: object) -> dict:
    """A cell for updateCells/appendCells: text as stringValue, never parsed as a formula."""
    if isinstance(value, dt.datetime):
        return {"userEnteredValue": {"numberValue": serial(value)},
                "userEnteredFormat": {"numberFormat": {"type": "DATE_TIME",
                                                       "pattern": DATE_PATTERN}}}
    v = raw_value(value)
    if v is None or v == "":
        return {}
    if isinstance(v, (int, float)):
        return {"userEnteredValue": {"numberValue": v}}
    return {"userEnteredValue": {"stringValue": str(v)}}


def service_account_info(credentials: dict | None) -> dict:
    """The service-account key from secrets.toml's section, or GOOGLE_APPLICATION_CREDENTIALS."""
    if credentials and all(k in credentials for k in SERVICE_ACCOUNT_KEYS):
        return {k: v for k, v in credentials.items() if k not in ("spreadsheet", "worksheet", "ttl")}
    path = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if path:
        try:
            return json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RegisterError(f"GOOGLE_APPLICATION_CREDENTIALS points to {path}, which is not a "
                                f"readable service-account key file ({exc}).") from exc
    raise RegisterError("No Google credentials: put the service-account key in "
                        ".streamlit/secrets.toml under [connections.gsheets], or set "
                        "GOOGLE_APPLICATION_CREDENTIALS to the key file (see the README).")


@dataclass
class Layout:
    """A tab's header as read at one moment."""

    header_row: int          # sheet row number of the header
    header: list[object]
    cols: dict[str, int]     # column key → 0-based position

    @classmethod
    def of(cls, tab: Tab, top: list[list[object]]) -> Layout:
        raw = RawTab.from_cells("", top, tab)
        return cls(raw.header_row, raw.header, tab.match_headers(raw.header))

    def same_as(self, other: Layout) -> bool:
        return self.header_row == other.header_row and self.cols == other.cols

    def id_letter(self) -> str:
        return column_letter(self.cols.get("id", 0))


@dataclass
class Snapshot:
    """The header, the ID column and the number marker, read in one call before an intake."""

    sheet_id: int
    row_count: int
    layout: Layout
    ids: list[str]           # the ID column from row 1, as shown
    marker: dict[str, int]   # stem → last serial given
    marker_exists: bool
    audit_header: list[object]


@dataclass
class Match:
    row: int                 # sheet row number
    values: list[object]


def _number_order(cid: object) -> tuple:
    """A complaint number as it sorts in a register kept in number order: its runs of digits
    as numbers (TS20261124999 before TS202611241000)."""
    return tuple((0, int(d), "") if d else (1, 0, s)
                 for d, s in re.findall(r"(\d+)|(\D+)", norm(cid)))


def _row_of_range(a1: str) -> int:
    cells = a1.rsplit("!", 1)[-1].split(":")[0]
    return int("".join(ch for ch in cells if ch.isdigit()))


def _marker(meta: list[dict]) -> tuple[dict[str, int], bool]:
    out: dict[str, int] = {}
    found = False
    for m in meta:
        if m.get("metadataKey") != LAST_KEY:
            continue
        found = True
        try:
            for k, v in json.loads(m.get("metadataValue") or "{}").items():
                out[k] = max(out.get(k, 0), int(v))
        except (ValueError, TypeError, AttributeError):
            continue
    return out, found


class GSheetStore(Store):
    """A register kept in a Google Sheet."""

    def __init__(self, key_or_url: str, schema: Schema, *, credentials: dict | None = None,
                 tries: int = 5, sleep: Callable[[float], None] = time.sleep,
                 timeout: float = 30.0, seed: int | None = None):
        super().__init__(schema)
        self.key = extract_id_from_url(key_or_url) if "/" in key_or_url else key_or_url.strip()
        self.label = f"Google Sheet {self.key}"
        self.credentials = credentials
        self.tries, self.sleep, self.timeout = tries, sleep, timeout
        self.rng = random.Random(seed)
        self._sheet: gspread.Spreadsheet | None = None
        self._meta: dict | None = None
        self._email = ""

    # --- connection and errors -----------------------------------------------------------

    def _explain(self, exc: Exception, doing: str) -> RegisterError:
        if isinstance(exc, APIError):
            code = exc.response.status_code
            if code == 429:
                return RegisterError(f"Google Sheets' request quota is used up for now (429) while "
                                     f"{doing}; wait a minute and try again.")
            if code == 403:
                return RegisterError(f"The sheet {self.key} is not shared with the service account; "
                                     f"share it with {self._email} as Editor.")
            if code == 404:
                return RegisterError(f"There is no Google Sheet with the key {self.key}; check the "
                                     f"URL or key.")
            return RegisterError(f"Google Sheets answered {code} while {doing}: "
                                 f"{exc.error.get('message', '')}")
        if isinstance(exc, RefreshError):
            return RegisterError(f"Google refused the service-account key of {self._email} ({exc}); "
                                 f"download a new key and put it in secrets.toml.")
        return RegisterError(f"Google Sheets could not be reached while {doing} "
                             f"({type(exc).__name__}); check the network and try again.")

    def _call(self, fn: Callable, doing: str, *, done: Callable[[], bool] | None = None):
        """Run one API call with bounded, jittered backoff on 429, 5xx and timeouts.

        `done` tells, before a retry, whether a write whose reply was lost was applied after
        all, so nothing is written twice.
        """
        for attempt in range(self.tries):
            try:
                return fn()
            except (APIError, requests.RequestException, RefreshError) as exc:
                code = exc.response.status_code if isinstance(exc, APIError) else None
                retry = code in RETRYABLE or isinstance(exc, requests.RequestException)
                if not retry or attempt == self.tries - 1:
                    raise self._explain(exc, doing) from exc
                self.sleep(min(32.0, 2.0 ** attempt) * (0.5 + self.rng.random() / 2))
                if done is not None:
                    try:
                        if done():
                            return None
                    except RegisterError:
                        pass
        raise AssertionError("unreachable")

    def _post(self, path: str, body: dict) -> dict:
        """A POST to an endpoint gspread has no method for (data filters, metadata search),
        through gspread's own HTTP client (its auth, timeouts and error type)."""
        return self.sheet.client.request("post", API + self.key + path, json=body).json()

    @property
    def sheet(self) -> gspread.Spreadsheet:
        if self._sheet is None:
            info = service_account_info(self.credentials)
            self._email = str(info.get("client_email", ""))
            try:
                client = gspread.service_account_from_dict(info)
            except (ValueError, GoogleAuthError) as exc:
                raise RegisterError(f"The service-account key is not valid ({exc}); download the "
                                    f"JSON key again from the Google Cloud console.") from exc
            client.http_client.set_timeout(self.timeout)

            def open_it():
                try:
                    return client.open_by_key(self.key)
                except (SpreadsheetNotFound, PermissionError) as exc:
                    raise exc.__cause__ from None  # gspread wraps the APIError; keep its status
            self._sheet = self._call(open_it, "opening the sheet")
        return self._sheet

    def _metadata(self, fresh: bool = False) -> dict:
        if self._meta is None or fresh:
            self._meta = self._call(self.sheet.fetch_sheet_metadata, "reading the sheet's tabs")
        return self._meta

    def _tabs(self, fresh: bool = False) -> dict[str, dict]:
        """Sheet properties by title."""
        return {s["properties"]["title"]: s for s in self._metadata(fresh)["sheets"]}

    def _title(self, tab_key: str, *, required: bool = True) -> str | None:
        title = self.schema.find_tab(list(self._tabs()), tab_key)
        if title is None and required:
            title = self.schema.find_tab(list(self._tabs(fresh=True)), tab_key)
        if title is None and required:
            tab = self.schema.tab(tab_key)
            raise RegisterError(f"The Google Sheet has no {tab.en} ({tab.zh}) tab; run "
                                f"`python -m core init --gsheet {self.key}`.")
        return title

    def _sheet_id(self, title: str) -> int:
        return self._tabs()[title]["properties"]["sheetId"]

    # --- reading -------------------------------------------------------------------------

    def read(self, skip: tuple[str, ...] = ()) -> RawBook:
        tabs = self._tabs()
        wanted = {t.key: self.schema.find_tab(list(tabs), t.key) for t in self.schema.tabs
                  if t.key not in skip}
        wanted = {k: v for k, v in wanted.items() if v}
        out: dict[str, RawTab] = {}
        if wanted:
            reply = self._call(lambda: self.sheet.values_batch_get(
                [quote(t) for t in wanted.values()],
                params={"valueRenderOption": "FORMATTED_VALUE"}), "reading the register")
            for (key, title), vr in zip(wanted.items(), reply.get("valueRanges", []), strict=True):
                out[key] = RawTab.from_cells(title, vr.get("values", []), self.schema.tab(key))
        return RawBook(out, list(tabs))

    def _top(self, title: str) -> str:
        return f"{quote(title)}!1:{HEADER_SEARCH_ROWS}"

    def _snapshot(self, title: str, letter: str, audit_title: str | None) -> Snapshot:
        """Header rows, the ID column, the marker and the Audit header, in one call."""
        tab = self.schema.tab("complaints")
        ranges = [self._top(title), f"{quote(title)}!{letter}:{letter}"]
        if audit_title:
            ranges.append(self._top(audit_title))
        reply = self._call(lambda: self.sheet.fetch_sheet_metadata(params={
            "ranges": ranges,
            "includeGridData": "true",
            "fields": "developerMetadata,sheets(properties(sheetId,title,gridProperties),"
                      "data(startRow,startColumn,rowData(values(formattedValue))))"}),
            "reading the register's numbers")
        def grids(name: str) -> list[list[list[object]]]:
            sheet = next((s for s in reply["sheets"] if s["properties"]["title"] == name), {})
            return [[[c.get("formattedValue", "") for c in r.get("values", [])]
                     for r in g.get("rowData", [])] for g in sheet.get("data", [])]
        top, column = [*grids(title), [], []][:2]
        audit_top = (grids(audit_title) or [[]])[-1] if audit_title else []
        marker, exists = _marker(reply.get("developerMetadata", []))
        props = next(s for s in reply["sheets"] if s["properties"]["title"] == title)["properties"]
        audit_header = (RawTab.from_cells(audit_title, audit_top, self.schema.tab("audit")).header
                        if audit_title else [])
        return Snapshot(props["sheetId"], props["gridProperties"]["rowCount"],
                        Layout.of(tab, top), [r[0] if r else "" for r in column], marker, exists,
                        audit_header)

    def _by_filter(self, filters: list[dict], doing: str) -> list[list[tuple[str, list]]]:
        """values:batchGetByDataFilter: for each filter, the (A1 range, values) it matched."""
        reply = self._call(lambda: self._post("/values:batchGetByDataFilter", {
            "dataFilters": filters, "valueRenderOption": "FORMATTED_VALUE"}), doing)
        out: list[list[tuple[str, list]]] = [[] for _ in filters]
        for mv in reply.get("valueRanges", []):
            for df in mv.get("dataFilters", []):
                if df in filters:
                    vr = mv["valueRange"]
                    out[filters.index(df)].append((vr.get("range", ""), vr.get("values", [])))
        return out

    # --- intake --------------------------------------------------------------------------

    def add_complaints(self, records, *, prefix, user, now) -> list[str]:
        return [self._add_one(r, prefix=prefix, user=user, now=now) for r in records]

    def _add_one(self, record: dict, *, prefix: str, user: str, now: dt.datetime) -> str:
        tab = self.schema.tab("complaints")
        title = self._title("complaints")
        audit_title = self._title("audit", required=False)
        token = self.rng.randint(1, 2**31 - 1)  # this intake's own mark on its row
        snap = self._snapshot(title, "A", audit_title)
        if snap.layout.id_letter() != "A":
            snap = self._snapshot(title, snap.layout.id_letter(), audit_title)
        if "id" not in snap.layout.cols:
            raise RegisterError(f"The {tab.en} tab has no Complaint No. (投诉编号) column; run "
                                f"`python -m core init --gsheet {self.key}`.")
        received = record["received_at"]
        number = allocate(prefix, [received], lambda s: serials_in(s, snap.ids)
                          | {snap.marker.get(s, 0)})[0]

        def mine() -> bool:
            return bool(self._by_filter([{"developerMetadataLookup": {"metadataId": token}}],
                                        "checking the new row")[0])

        for attempt in range(3):
            layout = snap.layout
            below = max(len(snap.ids), layout.header_row)  # under the last numbered row
            at = min(below, snap.row_count)
            cells = record_row(tab, layout.header, {**record, "id": number})
            requests_ = [
                {"insertDimension": {"range": {"sheetId": snap.sheet_id, "dimension": "ROWS",
                                               "startIndex": at, "endIndex": at + 1},
                                     "inheritFromBefore": at > layout.header_row}},
                {"updateCells": {"start": {"sheetId": snap.sheet_id, "rowIndex": at,
                                           "columnIndex": 0},
                                 "rows": [{"values": [cell_data(v) for v in cells]}],
                                 "fields": "userEnteredValue,userEnteredFormat.numberFormat"}},
                {"createDeveloperMetadata": {"developerMetadata": {
                    "metadataId": token, "metadataKey": ROW_KEY, "metadataValue": number,
                    "location": {"dimensionRange": {"sheetId": snap.sheet_id, "dimension": "ROWS",
                                                    "startIndex": at, "endIndex": at + 1}},
                    "visibility": "DOCUMENT"}}},
                self._marker_request(snap, prefix, number),
            ]
            if audit_title:
                requests_.append(self._audit_request(
                    audit_title, snap.audit_header,
                    created_lines(now, user, [number], [record.get("subject")],
                                  tab.header_lang(snap.layout.header))))
            try:
                self._call(lambda body={"requests": requests_}: self.sheet.batch_update(body),
                           "adding the complaint", done=mine)
                break
            except RegisterError as exc:
                cause = exc.__cause__
                if not (isinstance(cause, APIError) and cause.response.status_code == 400) \
                        or attempt == 2:
                    raise
                # the sheet changed under us (rows deleted below the insert point): look again
                snap = self._snapshot(title, snap.layout.id_letter(), audit_title)
        return self._settle(tab, title, audit_title, token, prefix, number, record, snap, user,
                            now)

    @staticmethod
    def _split(prefix: str, number: str) -> tuple[str, int]:
        """(stem, serial) of a number this store gave: PREFIX + yyyymmdd + serial."""
        at = len(prefix) + 8
        return number[:at], int(number[at:])

    def _marker_request(self, snap: Snapshot, prefix: str, number: str) -> dict:
        """Remember the last serial of each recent day, so a deleted row's number is never
        given again."""
        marker = dict(snap.marker)
        s, n = self._split(prefix, number)
        marker[s] = max(marker.get(s, 0), n)
        keep = dict(sorted(marker.items(), key=lambda kv: kv[0][-8:])[-LAST_KEEP:])
        value = json.dumps(keep, separators=(",", ":"))
        if snap.marker_exists:
            return {"updateDeveloperMetadata": {
                "dataFilters": [{"developerMetadataLookup": {"metadataKey": LAST_KEY}}],
                "developerMetadata": {"metadataKey": LAST_KEY, "metadataValue": value},
                "fields": "metadataValue"}}
        return {"createDeveloperMetadata": {"developerMetadata": {
            "metadataKey": LAST_KEY, "metadataValue": value, "location": {"spreadsheet": True},
            "visibility": "DOCUMENT"}}}

    def _settle(self, tab: Tab, title: str, audit_title: str | None, token: int, prefix: str,
                number: str, record: dict, snap: Snapshot, user: str, now: dt.datetime) -> str:
        """Read the new row back until it is in the right columns and no other row holds its
        number; only then is the number told to the clerk."""
        layout = snap.layout
        lookup = {"developerMetadataLookup": {"metadataId": token}}
        for round_ in range(MAX_ROUNDS):
            top = {"a1Range": self._top(title)}
            ids = {"a1Range": f"{quote(title)}!{layout.id_letter()}:{layout.id_letter()}"}
            mine, heads, column = self._by_filter([lookup, top, ids], "checking the new row")
            if not mine:
                raise RegisterError(f"The new complaint {number} was written, then its row was "
                                    f"deleted in the sheet; register it again if it is needed.")
            now_layout = Layout.of(tab, heads[0][1] if heads else [])
            if not now_layout.same_as(layout):  # a column moved or was added meanwhile
                layout = now_layout
                row = record_row(tab, layout.header, {**record, "id": number})
                self._write_row(lookup, [raw_value(v) if v is not None else "" for v in row],
                                "rewriting the new row")
                continue
            column_values = [r[0] if r else "" for r in (column[0][1] if column else [])]
            below = column_values[layout.header_row:]
            holders = sum(1 for v in below if norm(v) == norm(number))
            if holders <= 1:
                return number
            # Someone else's row holds this number too: this intake moves on. Intakes that
            # clash read the same column, so a random step keeps them from clashing again in
            # lockstep; the step's range doubles each round (as Ethernet's backoff), so a
            # chase between several clerks ends within a few rounds (a skipped serial is
            # harmless; a shared one is not).
            skip = self.rng.randrange(2 ** min(round_ + 1, SKIP_DOUBLINGS))
            new = allocate(prefix, [record["received_at"]],
                           lambda s, seen=[*below, number], skip=skip: {
                               max(serials_in(s, seen) | {snap.marker.get(s, 0)}) + skip})[0]
            self._renumber(lookup, layout, prefix, number, new, snap, audit_title, user, now)
            number = new
            self.sleep(self.rng.random() * 0.2 * (round_ + 1))
        raise RegisterError(f"Could not settle a complaint number after {MAX_ROUNDS} tries "
                            f"(many people are registering at once); the complaint is in the "
                            f"sheet as {number} — check it for a duplicate number.")

    def _write_row(self, lookup: dict, values: list, doing: str) -> dict:
        return self._call(lambda: self._post("/values:batchUpdateByDataFilter", {
            "valueInputOption": "RAW",
            "data": [{"dataFilter": lookup, "majorDimension": "ROWS", "values": [values]}]}),
            doing)

    def _renumber(self, lookup: dict, layout: Layout, prefix: str, old: str, new: str,
                  snap: Snapshot, audit_title: str | None, user: str, now: dt.datetime) -> None:
        row = [None] * (layout.cols["id"] + 1)
        row[layout.cols["id"]] = new
        self._write_row(lookup, row, "renumbering the new row")
        requests_ = [{"updateDeveloperMetadata": {
            "dataFilters": [lookup], "developerMetadata": {"metadataValue": new},
            "fields": "metadataValue"}}, self._marker_request(snap, prefix, new)]
        snap.marker_exists = True
        s, n = self._split(prefix, new)
        snap.marker[s] = max(snap.marker.get(s, 0), n)
        if audit_title:
            name = self.schema.tab("complaints").column("id").header(
                self.schema.tab("complaints").header_lang(layout.header))
            requests_.append(self._audit_request(audit_title, snap.audit_header,
                                                 audit_lines(now, user, new, {name: (old, new)})))
        self._call(lambda: self.sheet.batch_update({"requests": requests_}),
                   "renumbering the new row")

    # --- other appends -------------------------------------------------------------------

    def _header(self, title: str, tab: Tab) -> list[object]:
        values = self._call(lambda: self.sheet.values_get(self._top(title)),
                            "reading the header row").get("values", [])
        return RawTab.from_cells(title, values, tab).header

    def _append_request(self, tab_key: str, records) -> dict:
        title = self._title(tab_key)
        return self._rows_request(title, self.schema.tab(tab_key),
                                  self._header(title, self.schema.tab(tab_key)), records)

    def _audit_request(self, title: str, header: list[object], lines: list[dict]) -> dict:
        return self._rows_request(title, self.schema.tab("audit"), header, lines)

    def _rows_request(self, title: str, tab: Tab, header: list[object], records) -> dict:
        rows = [record_row(tab, header, r) for r in records]
        return {"appendCells": {"sheetId": self._sheet_id(title),
                                "fields": "userEnteredValue,userEnteredFormat.numberFormat",
                                "rows": [{"values": [cell_data(v) for v in row]} for row in rows]}}

    def append(self, tab_key, records, *, audit=()) -> None:
        body = {"requests": [self._append_request(tab_key, records)]}
        if audit and self._title("audit", required=False):
            body["requests"].append(self._append_request("audit", audit))
        self._call(lambda: self.sheet.batch_update(body), "appending to the register")

    # --- updates -------------------------------------------------------------------------

    def _locate(self, tab: Tab, title: str, cid: str, hint: int | None = None
                ) -> tuple[dict, Layout, Match]:
        """The complaint's row through its metadata, with the header read in the same call;
        a row without metadata (typed by hand) is tagged first, and checked. `hint`: the
        sheet row the caller's read found it on, if only there (saves reading the column)."""
        lookup = {"developerMetadataLookup": {"metadataKey": ROW_KEY, "metadataValue": cid}}
        for _ in range(4):
            rows, heads = self._by_filter([lookup, {"a1Range": self._top(title)}],
                                          "locating the row")
            layout = Layout.of(tab, heads[0][1] if heads else [])
            if "id" not in layout.cols:
                raise RegisterError(f"The {tab.en} tab has no Complaint No. (投诉编号) column; "
                                    f"run init.")
            matches = [Match(_row_of_range(a1), (v[0] if v else [])) for a1, v in rows]
            c = layout.cols["id"]
            real = [m for m in matches if c < len(m.values) and norm(m.values[c]) == norm(cid)]
            if len(real) == 1 and len(matches) == 1:
                return lookup, layout, real[0]
            if len(real) > 1:
                raise RegisterError(f"Complaint {cid} is on more than one row ("
                                    f"{', '.join(str(m.row) for m in real)}); fix the duplicate "
                                    f"in the sheet first. Nothing was written.")
            if len(matches) > len(real):  # a tag left on a row whose number was changed by hand
                self._drop_stale_tags(cid, {m.row for m in matches if m not in real})
            if not real:
                self._tag(tab, title, layout, cid, hint)
                hint = None  # a hint is tried once; if the row moved, the column decides
        raise RegisterError(f"Complaint {cid} could not be located reliably (the sheet keeps "
                            f"changing); try again. Nothing was written.")

    def _drop_stale_tags(self, cid: str, rows: set[int]) -> None:
        found = self._call(lambda: self._post("/developerMetadata:search", {"dataFilters": [
            {"developerMetadataLookup": {"metadataKey": ROW_KEY, "metadataValue": cid}}]}),
            "checking row marks")
        stale = [m["developerMetadata"]["metadataId"] for m in found.get(
            "matchedDeveloperMetadata", []) if m["developerMetadata"].get("location", {}).get(
            "dimensionRange", {}).get("startIndex", -1) + 1 in rows]
        if stale:
            self._call(lambda: self.sheet.batch_update({"requests": [
                {"deleteDeveloperMetadata": {"dataFilter": {"developerMetadataLookup": {
                    "metadataId": i}}}} for i in stale]}), "removing old row marks")

    def _tag(self, tab: Tab, title: str, layout: Layout, cid: str,
             hint: int | None = None) -> None:
        """Mark the row holding `cid` (found in the ID column); `_locate` checks the mark.

        With a `hint` (the sheet row the caller's read of the whole register found `cid` on,
        and on no other row), that one cell is read first: at 10k rows the ID column is
        about 240 kB, the cell a few hundred bytes. If it no longer holds `cid`, the
        column is read as without a hint."""
        letter = layout.id_letter()
        hits: list[int] = []
        if isinstance(hint, int) and hint > layout.header_row:
            cell = self._call(lambda: self.sheet.values_get(f"{quote(title)}!{letter}{hint}"),
                              "locating the row").get("values", [])
            if cell and cell[0] and norm(cell[0][0]) == norm(cid):
                hits = [hint - 1]
        elif hint is None:
            hits = self._in_number_order(title, letter, layout.header_row + 1, cid)
        if not hits:
            column = self._column(f"{quote(title)}!{letter}:{letter}")
            hits = [i for i, v in enumerate(column) if i >= layout.header_row and v
                    and norm(v) == norm(cid)]
        if not hits:
            raise NotFoundError(f"Complaint {cid} is no longer in the register (someone may have "
                                f"deleted the row); nothing was written.")
        if len(hits) > 1:
            raise RegisterError(f"Complaint {cid} is on more than one row ("
                                f"{', '.join(str(i + 1) for i in hits)}); fix the duplicate in "
                                f"the sheet first. Nothing was written.")
        sheet_id = self._sheet_id(title)
        self._call(lambda: self.sheet.batch_update({"requests": [{"createDeveloperMetadata": {
            "developerMetadata": {"metadataKey": ROW_KEY, "metadataValue": cid,
                                  "location": {"dimensionRange": {
                                      "sheetId": sheet_id, "dimension": "ROWS",
                                      "startIndex": hits[0], "endIndex": hits[0] + 1}},
                                  "visibility": "DOCUMENT"}}}]}), "marking the row")

    def _column(self, a1: str) -> list[object]:
        """One column's cells as one flat list (majorDimension COLUMNS: no list per row)."""
        values = self._call(lambda: self.sheet.values_get(a1, params={
            "majorDimension": "COLUMNS", "valueRenderOption": "FORMATTED_VALUE"}),
            "locating the row").get("values", [])
        return values[0] if values else []

    def _in_number_order(self, title: str, letter: str, first: int, cid: str) -> list[int]:
        """The rows (0-based) holding `cid` near where it would be if the ID column were in
        number order from sheet row `first` on, as a register that rows are added to at the
        bottom mostly is: a few cells sampled per call narrow the rows down, and those are
        read whole. Empty when it is not there (rows sorted by hand, a number given late, a
        blank row): the whole column decides then. A row found this way is tagged and the
        tag checked like any other; a duplicate is seen only when it is next to it."""
        want = _number_order(cid)
        lo, hi = first, None  # sheet rows: in number order, cid lies in [lo, hi)
        while hi is None or hi - lo > WINDOW:
            rows = ([lo + 2 ** j - 1 for j in range(PROBES)] if hi is None else
                    sorted({lo + (hi - lo) * k // (SAMPLES + 1) for k in range(1, SAMPLES + 1)}))
            reply = self._call(lambda rows=rows: self.sheet.values_batch_get(
                [f"{quote(title)}!{letter}{r}" for r in rows],
                params={"valueRenderOption": "FORMATTED_VALUE"}), "locating the row")
            cells = [(vr.get("values") or [[""]])[0] for vr in reply.get("valueRanges", [])]
            before, after = lo, hi
            for r, cell in zip(rows, cells, strict=True):
                shown = norm(cell[0]) if cell else ""
                if not shown or _number_order(shown) > want:  # a blank: past the last row
                    hi = r
                    break
                if _number_order(shown) < want:
                    lo = r + 1
            if hi is None or (lo, hi) == (before, after):
                return []  # more than a million rows, or the samples narrow nothing
        column = self._column(f"{quote(title)}!{letter}{lo}:{letter}{hi - 1}") if hi > lo else []
        return [lo - 1 + i for i, v in enumerate(column) if v and norm(v) == norm(cid)]

    def update(self, complaint_id, changes, *, seen, user, now) -> UpdatePlan:
        tab = self.schema.tab("complaints")
        title = self._title("complaints")
        version = parse_int(seen.get("version"))
        version = (version if isinstance(version, int) else 0) + 1
        audit_title = self._title("audit", required=False)
        plan: UpdatePlan | None = None
        dates: set[str] = set()  # the keys of the date cells the last attempt wrote
        hint = parse_int(seen.get("row"))  # where the caller's read had it (core.commands.intake)
        for _ in range(3):
            lookup, layout, match = self._locate(tab, title, complaint_id,
                                                 hint if isinstance(hint, int) else None)
            raw = RawTab(title, layout.header, [match.values], header_row=match.row - 1)
            mine = plan  # the previous attempt's, whose write may have landed
            try:
                plan = plan_update(tab, raw, complaint_id, changes, seen=seen, user=user,
                                   now=now, stamp=now)
            except ConflictError:
                # A retry that finds its own change there (applied, but not confirmed in time)
                if mine is not None and self._carries([match.values], layout, version, user):
                    if mine.audit and audit_title:
                        self._audit(audit_title, self._header(audit_title,
                                                              self.schema.tab("audit")),
                                    mine.audit)
                    self._format_dates(tab, title, layout, match.row, dates)
                    return mine
                raise
            wanted = {c.col: raw_value(c.value) for c in plan.cells}
            before = list(match.values)

            def applied(layout=layout, lookup=lookup) -> bool:
                rows = self._by_filter([lookup], "checking the change")[0]
                return bool(rows) and self._carries(rows[0][1], layout, version, user)
            reply = self._write_cells(lookup, wanted, applied)
            if reply is not None and not reply.get("totalUpdatedCells"):
                raise NotFoundError(f"Complaint {complaint_id} is no longer in the register "
                                    f"(someone deleted its row); nothing was written.")
            key_at = {c: k for k, c in layout.cols.items()}
            dates = {key_at[c.col] for c in plan.cells
                     if isinstance(c.value, dt.datetime) and c.col in key_at}
            ok, audit_header, layout, row = self._confirm(tab, title, lookup, layout, wanted,
                                                          before, version, user, audit_title)
            if ok:
                if audit_title and plan.audit:
                    self._audit(audit_title, audit_header, plan.audit)
                self._format_dates(tab, title, layout, row, dates)
                return plan
        raise RegisterError(f"The change to {complaint_id} could not be confirmed in the sheet; "
                            f"reload it and check whether it is there.")

    def _write_cells(self, lookup: dict, cells: dict[int, object],
                     done: Callable[[], bool]) -> dict | None:
        row = [None] * (max(cells) + 1)
        for c, v in cells.items():
            row[c] = "" if v is None else v
        return self._call(lambda: self._post("/values:batchUpdateByDataFilter", {
            "valueInputOption": "RAW",
            "data": [{"dataFilter": lookup, "majorDimension": "ROWS", "values": [row]}]}),
            "writing the change", done=done)

    def _format_dates(self, tab: Tab, title: str, layout: Layout, row: int,
                      dates: set[str]) -> None:
        """On a tab `init` never formatted, give the date cells just written (by column key,
        on sheet row `row` where the change was read back) the format `init` gives their
        columns: a RAW write leaves a date a serial number, shown as one. One call, tried
        once and only then: the change is saved and audited already, a failure leaves only
        its look (the register reads the number as the same moment)."""
        props = self._tabs().get(title, {})
        if any(p.get("description") == PROTECTION_MARK for p in props.get("protectedRanges", [])):
            return  # init formatted the whole date columns
        sheet_id = props.get("properties", {}).get("sheetId")
        requests_ = [{"repeatCell": {
            "range": {"sheetId": sheet_id, "startRowIndex": row - 1, "endRowIndex": row,
                      "startColumnIndex": layout.cols[k], "endColumnIndex": layout.cols[k] + 1},
            "cell": {"userEnteredFormat": {"numberFormat": date_format(tab.column(k).type)}},
            "fields": "userEnteredFormat.numberFormat"}}
            for k in dates if k in layout.cols and tab.column(k).type in ("datetime", "date")]
        if requests_ and sheet_id is not None and row > 0:
            with contextlib.suppress(APIError, requests.RequestException, RefreshError):
                self.sheet.batch_update({"requests": requests_})

    @staticmethod
    def _carries(values: list, layout: Layout, version: int, user: str) -> bool:
        """Whether the row as read back (under `layout`) holds this write's version stamp."""
        row = values[0] if values else []
        cell = lambda k: row[layout.cols[k]] if layout.cols.get(k, 99999) < len(row) else ""  # noqa: E731
        return parse_int(cell("version")) == version and text_of(cell("updated_by")) == user

    def _confirm(self, tab: Tab, title: str, lookup: dict, layout: Layout,
                 wanted: dict[int, object], before: list, version: int, user: str,
                 audit_title: str | None) -> tuple[bool, list[object], Layout, int]:
        """Read the row back (with the Audit header, for the audit line): True once it
        carries the change in the right columns, the header it was checked under and the
        sheet row it was found on. A header changed since the row was read (a column moved or
        inserted by hand) is repaired: the cells written at the old positions get their own
        values back, and the change is written at the new ones."""
        filters = [lookup, {"a1Range": self._top(title)}]
        if audit_title:
            filters.append({"a1Range": self._top(audit_title)})
        for _ in range(4):
            rows, heads, *audit = self._by_filter(filters, "checking the change")
            audit_header = (RawTab.from_cells(audit_title, audit[0][0][1] if audit and audit[0]
                                              else [], self.schema.tab("audit")).header
                            if audit_title else [])
            if not rows:
                raise NotFoundError("The row was deleted in the sheet right after the change "
                                    "was written; nothing else was changed.")
            now_layout = Layout.of(tab, heads[0][1] if heads else [])
            if now_layout.same_as(layout):
                return (self._carries(rows[0][1], layout, version, user), audit_header, layout,
                        _row_of_range(rows[0][0]))
            # The keys we meant, at their new places; what we overwrote, back where it was.
            by_key = {k: wanted[c] for k, c in layout.cols.items() if c in wanted}
            old_pos = {str(h): i for i, h in enumerate(layout.header) if h not in (None, "")}
            key_at = {c: k for k, c in now_layout.cols.items()}
            repair: dict[int, object] = {}
            for c in wanted:
                h = now_layout.header[c] if c < len(now_layout.header) else None
                q = old_pos.get(str(h)) if h not in (None, "") else None
                old = before[q] if q is not None and q < len(before) else ""
                repair[c] = _typed_back(tab, key_at.get(c), old)
            for k, v in by_key.items():
                if k in now_layout.cols:
                    repair[now_layout.cols[k]] = v
            self._write_cells(lookup, repair, lambda: False)
            layout = now_layout
        return False, [], layout, 0

    def _audit(self, title: str, header: list[object], lines: list[dict]) -> None:
        """Append audit lines once, whatever replies are lost."""
        tab = self.schema.tab("audit")
        body = {"requests": [self._audit_request(title, header, lines)]}

        def present() -> bool:
            values = self._call(lambda: self.sheet.values_get(quote(title)),
                                "checking the audit log").get("values", [])
            raw = RawTab.from_cells(title, values, tab)
            cols = raw.column_map(tab)
            want = {tuple(text_of(line[k]) for k in ("user", "id", "field", "old", "new"))
                    for line in lines}
            stamp = lines[0]["time"]
            got = set()
            for r in raw.rows[-200:]:
                cell = lambda k, r=r: r[cols[k]] if cols.get(k, 999) < len(r) else ""  # noqa: E731
                t = parse_datetime(cell("time"))
                if isinstance(t, dt.datetime) and abs((t - stamp).total_seconds()) < 60:
                    got.add(tuple(text_of(cell(k)) for k in ("user", "id", "field", "old",
                                                             "new")))
            return want <= got
        self._call(lambda: self.sheet.batch_update(body), "writing the audit line", done=present)

    # --- init ----------------------------------------------------------------------------

    def init(self, lang: str) -> list[str]:
        done: list[str] = []
        tabs = self._tabs(fresh=True)
        add = [t for t in self.schema.tabs if self.schema.find_tab(list(tabs), t.key) is None]
        if add:
            self._call(lambda: self.sheet.batch_update({"requests": [
                {"addSheet": {"properties": {"title": t.title(lang)}}} for t in add]}),
                "adding tabs")
            done += [f"added tab {t.title(lang)}" for t in add]
            tabs = self._tabs(fresh=True)
        titles = {t.key: self.schema.find_tab(list(tabs), t.key) for t in self.schema.tabs}
        reply = self._call(lambda: self.sheet.values_batch_get(
            [self._top(v) for v in titles.values()]), "reading the header rows")
        data, requests_, new_cols, grow = [], [], {}, []
        marked = any(p.get("description") == PROTECTION_MARK
                     for p in tabs[titles["complaints"]].get("protectedRanges", []))
        for (key, title), vr in zip(titles.items(), reply.get("valueRanges", []), strict=True):
            tab = self.schema.tab(key)
            top = [list(r) for r in vr.get("values") or []]
            layout = Layout.of(tab, top)
            header_row, header, have = layout.header_row, list(layout.header), dict(layout.cols)
            if not have:
                header_row, header = _empty_header_row(tab, top), []
            for col in tab.columns:
                if col.key not in have:
                    have[col.key] = len(header)
                    header.append(col.header(lang))
                    new_cols.setdefault(key, set()).add(col.key)
                    data.append({"range": f"{quote(title)}!"
                                          f"{rowcol_to_a1(header_row, have[col.key] + 1)}",
                                 "values": [[col.header(lang)]]})
                    if key not in [t.key for t in add]:
                        done.append(f"added column {col.header(lang)} to {title}")
            props = tabs[title]["properties"]
            sheet_id = props["sheetId"]
            columns = props.get("gridProperties", {}).get("columnCount", 26)
            if len(header) > columns:  # a new sheet has 26 columns; the register needs more
                grow.append({"appendDimension": {"sheetId": sheet_id, "dimension": "COLUMNS",
                                                 "length": len(header) - columns}})
            if props.get("gridProperties", {}).get("frozenRowCount", 0) != header_row:
                requests_.append({"updateSheetProperties": {
                    "properties": {"sheetId": sheet_id,
                                   "gridProperties": {"frozenRowCount": header_row}},
                    "fields": "gridProperties.frozenRowCount"}})
                done.append(f"froze the header row of {title}")
            # The protection marks a register `init` has seen; after that only new columns
            # get dropdowns and formats, so running it again changes nothing.
            for col in tab.columns:
                fresh = not marked or col.key in new_cols.get(key, ())
                if not fresh:
                    continue
                c = have[col.key]
                rng = {"sheetId": sheet_id, "startRowIndex": header_row,
                       "startColumnIndex": c, "endColumnIndex": c + 1}
                if col.values and col.values in self.schema.value_sets:
                    requests_.append({"setDataValidation": {"range": rng, "rule": {
                        "condition": {"type": "ONE_OF_LIST", "values": [
                            {"userEnteredValue": ch.label(lang)}
                            for ch in self.schema.value_sets[col.values].choices]},
                        "strict": False, "showCustomUi": True}}})
                    done.append(f"added a dropdown to {title} {col.header(lang)}")
                if col.type in ("datetime", "date"):
                    requests_.append({"repeatCell": {"range": rng, "cell": {"userEnteredFormat": {
                        "numberFormat": date_format(col.type)}},
                        "fields": "userEnteredFormat.numberFormat"}})
            if key == "complaints" and not marked:
                for k in BOOKKEEPING:
                    c = have[k]
                    requests_.append({"addProtectedRange": {"protectedRange": {
                        "range": {"sheetId": sheet_id, "startColumnIndex": c,
                                  "endColumnIndex": c + 1},
                        "description": PROTECTION_MARK, "warningOnly": True}}})
                done.append(f"protected {', '.join(BOOKKEEPING)} of {title} (warning only)")
        if grow:
            self._call(lambda: self.sheet.batch_update({"requests": grow}), "widening the tabs")
        if data:
            self._call(lambda: self.sheet.values_batch_update(
                {"valueInputOption": "RAW", "data": data}), "writing headers")
        if requests_:
            self._call(lambda: self.sheet.batch_update({"requests": requests_}),
                       "adding dropdowns, date formats, frozen rows and protection")
        self._meta = None
        return done


def _typed_back(tab: Tab, key: str | None, shown: object) -> object:
    """A value read as shown (FORMATTED_VALUE) put back as the cell held it: a date as a
    date serial, a whole number as a number, anything else as text."""
    if key is None or shown in (None, ""):
        return "" if shown is None else shown
    kind = tab.column(key).type
    if kind in ("datetime", "date"):
        t = parse_datetime(shown)
        return serial(t) if isinstance(t, dt.datetime) else shown
    if kind == "int":
        n = parse_int(shown)
        return n if isinstance(n, int) else shown
    return shown


def _empty_header_row(tab: Tab, top: list[list[object]]) -> int:
    """Where `init` may write the header of a tab that has none: row 1 of an empty tab, or
    the empty row under a title; a tab holding rows but no header is refused."""
    filled = [i + 1 for i, r in enumerate(top) if any(v not in (None, "") for v in r)]
    if not filled:
        return 1
    if filled == list(range(1, filled[-1] + 1)) and all(
            sum(v not in (None, "") for v in top[r - 1]) <= 2 for r in filled) \
            and len(filled) < len(top) + 1 and len(top) <= filled[-1]:
        return filled[-1] + 1
    first = next(str(v) for v in top[filled[0] - 1] if v not in (None, ""))
    raise RegisterError(f"The {tab.en} ({tab.zh}) tab holds rows but no header row init can "
                        f"recognise (row {filled[0]} starts with '{first[:30]}'); put the "
                        f"column names above the data yourself. Nothing was written.")

