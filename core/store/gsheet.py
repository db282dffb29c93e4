"""The shared Google Sheet, through gspread: never rewrites a sheet, never loses an edit.

Reads: one values:batchGet of every tab, as formatted strings (no numericising).
Intake: one spreadsheets:batchUpdate appending the row and its audit line (appendCells with
stringValue: text is never parsed as a formula), with the complaint number assigned first
so that a retry checks whether the row is already there instead of appending it twice.
Update: the row is located by complaint number just before writing; its version and the
changed fields are compared with what the user saw; only the changed cells and the
bookkeeping cells are written, in one RAW values:batchUpdate.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import time
from collections.abc import Callable
from pathlib import Path

import gspread
import requests
from google.auth.exceptions import GoogleAuthError, RefreshError
from gspread.exceptions import APIError, SpreadsheetNotFound
from gspread.utils import extract_id_from_url, rowcol_to_a1

from core.errors import ConflictError, RegisterError
from core.parse import text_of
from core.schema import Schema
from core.store.base import BOOKKEEPING, RawBook, RawTab, Store, UpdatePlan, plan_update, record_row

RETRYABLE = {408, 429, 500, 502, 503, 504}
PROTECTION_MARK = "complaint-register: bookkeeping columns (version, updated_at, updated_by)"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
SERVICE_ACCOUNT_KEYS = ("type", "private_key", "client_email")


def quote(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def cell_text(value: object) -> object:
    """A value as the sheet should hold it: numbers stay numbers, times are text."""
    if isinstance(value, dt.datetime):
        return value.strftime(TIME_FORMAT)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return ""
    return value


def cell_data(value: object) -> dict:
    v = cell_text(value)
    if isinstance(v, (int, float)):
        return {"userEnteredValue": {"numberValue": v}}
    return {"userEnteredValue": {"stringValue": str(v)}} if v != "" else {}


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


class GSheetStore(Store):
    """A register kept in a Google Sheet."""

    def __init__(self, key_or_url: str, schema: Schema, *, credentials: dict | None = None,
                 tries: int = 5, sleep: Callable[[float], None] = time.sleep,
                 timeout: float = 30.0):
        super().__init__(schema)
        self.key = extract_id_from_url(key_or_url) if "/" in key_or_url else key_or_url.strip()
        self.label = f"Google Sheet {self.key}"
        self.credentials = credentials
        self.tries, self.sleep, self.timeout = tries, sleep, timeout
        self._sheet: gspread.Spreadsheet | None = None
        self._meta: dict | None = None
        self._email = ""
        # Header rows from the latest read: an intake right after a read needs no extra call.
        # (A column moved by hand inside that window would misplace values, so every read
        # and every write failure refreshes them.)
        self._headers: dict[str, list] = {}

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
                self.sleep(min(32.0, 2.0 ** attempt) * (0.5 + random.random() / 2))
                if done is not None:
                    try:
                        if done():
                            return None
                    except RegisterError:
                        pass

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

    def _title(self, tab_key: str) -> str:
        title = self.schema.find_tab(list(self._tabs()), tab_key)
        if title is None:
            tab = self.schema.tab(tab_key)
            raise RegisterError(f"The Google Sheet has no {tab.en} ({tab.zh}) tab; run "
                                f"`python -m core init --gsheet {self.key}`.")
        return title

    # --- reading -------------------------------------------------------------------------

    def read(self) -> RawBook:
        tabs = self._tabs()
        wanted = {t.key: self.schema.find_tab(list(tabs), t.key) for t in self.schema.tabs}
        wanted = {k: v for k, v in wanted.items() if v}
        out: dict[str, RawTab] = {}
        if wanted:
            reply = self._call(lambda: self.sheet.values_batch_get(
                [quote(t) for t in wanted.values()],
                params={"valueRenderOption": "FORMATTED_VALUE"}), "reading the register")
            for (key, title), vr in zip(wanted.items(), reply.get("valueRanges", []), strict=True):
                values = vr.get("values", [])
                out[key] = RawTab(title, list(values[0]) if values else [],
                                  [list(r) for r in values[1:]])
                self._headers[title] = out[key].header
        return RawBook(out, list(tabs))

    def _values(self, title: str) -> list[list]:
        reply = self._call(lambda: self.sheet.values_get(
            quote(title), params={"valueRenderOption": "FORMATTED_VALUE"}), "locating the row")
        return reply.get("values", [])

    # --- writing -------------------------------------------------------------------------

    def _append_request(self, tab_key: str, records) -> dict:
        title = self._title(tab_key)
        header = self._headers.get(title)
        if header is None:
            values = self._call(lambda: self.sheet.values_get(f"{quote(title)}!1:1"),
                                "reading the header row").get("values", [[]])
            header = self._headers[title] = values[0] if values else []
        rows = [record_row(self.schema.tab(tab_key), header, r) for r in records]
        return {"appendCells": {"sheetId": self._tabs()[title]["properties"]["sheetId"],
                                "fields": "userEnteredValue",
                                "rows": [{"values": [cell_data(v) for v in row]} for row in rows]}}

    def append(self, tab_key, records, *, audit=()) -> None:
        body = {"requests": [self._append_request(tab_key, records)]}
        if audit and self.schema.find_tab(list(self._tabs()), "audit"):
            body["requests"].append(self._append_request("audit", audit))
        ids = [text_of(r.get("id")) for r in records if tab_key == "complaints"]

        def already_there() -> bool:
            if not ids or not all(ids):
                return False
            rows = self._values(self._title(tab_key))
            col = self.schema.tab(tab_key).match_headers(rows[0] if rows else []).get("id")
            have = {text_of(r[col]) for r in rows[1:] if col is not None and col < len(r)}
            return set(ids) <= have

        self._call(lambda: self.sheet.batch_update(body), "appending to the register",
                   done=already_there if ids else None)

    def update(self, complaint_id, changes, *, seen, user, now) -> UpdatePlan:
        tab = self.schema.tab("complaints")
        title = self._title("complaints")
        stamp = now.strftime(TIME_FORMAT)
        plan: UpdatePlan | None = None

        def locate_and_write() -> None:
            nonlocal plan
            values = self._values(title)
            raw = RawTab(title, values[0] if values else [], [list(r) for r in values[1:]])
            try:
                plan = plan_update(tab, raw, complaint_id, changes, seen=seen, user=user,
                                   now=now, stamp=stamp)
            except ConflictError as exc:
                # A retry after a lost reply finds our own write: that is success.
                if plan is not None and exc.by == user and exc.at == stamp:
                    return
                raise
            data = [{"range": f"{quote(title)}!{rowcol_to_a1(c.row, c.col + 1)}",
                     "values": [[cell_text(c.value)]]} for c in plan.cells]
            self.sheet.values_batch_update({"valueInputOption": "RAW", "data": data})

        self._call(locate_and_write, "writing the change")
        if plan.audit and self.schema.find_tab(list(self._tabs()), "audit"):
            body = {"requests": [self._append_request("audit", plan.audit)]}
            self._call(lambda: self.sheet.batch_update(body), "writing the audit line")
        return plan

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
            [f"{quote(v)}!1:1" for v in titles.values()]), "reading the header rows")
        data, requests_, new_cols = [], [], {}
        for (key, title), vr in zip(titles.items(), reply.get("valueRanges", []), strict=True):
            header = list((vr.get("values") or [[]])[0])
            tab = self.schema.tab(key)
            have = tab.match_headers(header)
            for col in tab.columns:
                if col.key not in have:
                    have[col.key] = len(header)
                    header.append(col.header(lang))
                    new_cols.setdefault(key, set()).add(col.key)
                    data.append({"range": f"{quote(title)}!{rowcol_to_a1(1, have[col.key] + 1)}",
                                 "values": [[col.header(lang)]]})
                    if key not in [t.key for t in add]:
                        done.append(f"added column {col.header(lang)} to {title}")
            props = tabs[title]["properties"]
            sheet_id = props["sheetId"]
            if props.get("gridProperties", {}).get("frozenRowCount", 0) != 1:
                requests_.append({"updateSheetProperties": {
                    "properties": {"sheetId": sheet_id, "gridProperties": {"frozenRowCount": 1}},
                    "fields": "gridProperties.frozenRowCount"}})
                done.append(f"froze the header row of {title}")
            # The protection marks a register `init` has seen; after that only new columns
            # get dropdowns, so running it again changes nothing.
            marked = any(p.get("description") == PROTECTION_MARK
                         for p in tabs[titles["complaints"]].get("protectedRanges", []))
            for col in tab.columns:
                if col.values and (not marked or col.key in new_cols.get(key, ())) and \
                        col.values in self.schema.value_sets:
                    c = have[col.key]
                    requests_.append({"setDataValidation": {
                        "range": {"sheetId": sheet_id, "startRowIndex": 1,
                                  "startColumnIndex": c, "endColumnIndex": c + 1},
                        "rule": {"condition": {"type": "ONE_OF_LIST", "values": [
                            {"userEnteredValue": ch.label(lang)}
                            for ch in self.schema.value_sets[col.values].choices]},
                                 "strict": False, "showCustomUi": True}}})
                    done.append(f"added a dropdown to {title} {col.header(lang)}")
            if key == "complaints" and not marked:
                for k in BOOKKEEPING:
                    c = have[k]
                    requests_.append({"addProtectedRange": {"protectedRange": {
                        "range": {"sheetId": sheet_id, "startColumnIndex": c,
                                  "endColumnIndex": c + 1},
                        "description": PROTECTION_MARK, "warningOnly": True}}})
                done.append(f"protected {', '.join(BOOKKEEPING)} of {title} (warning only)")
        if data:
            self._call(lambda: self.sheet.values_batch_update(
                {"valueInputOption": "RAW", "data": data}), "writing headers")
        if requests_:
            self._call(lambda: self.sheet.batch_update({"requests": requests_}),
                       "adding dropdowns, frozen rows and protection")
        self._meta = None
        self._headers.clear()
        return done
