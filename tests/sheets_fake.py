"""An in-process fake of the Google Sheets v4 REST API and Google's token endpoint.

It serves the real gspread client through the `responses` library, following the v4
reference for the endpoints the store uses:

- GET spreadsheets/{id} (with `ranges` + `includeGridData`), values/{range}, values:batchGet
  (both with `majorDimension` ROWS or COLUMNS)
- POST values:batchUpdate, values/{range}:append, values:batchGetByDataFilter,
  values:batchUpdateByDataFilter, developerMetadata:search
- POST spreadsheets/{id}:batchUpdate with addSheet, appendCells, updateCells,
  insertDimension, createDeveloperMetadata, updateDeveloperMetadata,
  deleteDeveloperMetadata, repeatCell, setDataValidation, updateSheetProperties,
  addProtectedRange — applied atomically: one bad request and nothing is applied.

Rows are objects carrying their cells, their developer metadata and their cells' number
formats, so sorting, inserting and deleting rows move metadata with the row (and deleting a
row deletes its metadata), as the reference says. RAW text stays text; USER_ENTERED text
starting with '=' becomes a formula. A number in a cell with a date format is shown as a
date by FORMATTED_VALUE. Humans' edits (sort, insert, delete, type, move or insert a
column) and faults (429, 500, timeouts, replies lost after the change was applied) can be
injected before any call.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlparse

import requests
import responses
from gspread.utils import a1_to_rowcol, rowcol_to_a1

TOKEN_URL = "https://oauth2.googleapis.com/token"
BASE = "https://sheets.googleapis.com/v4/spreadsheets/"
TOKEN = "fake-access-token"
EPOCH = dt.datetime(1899, 12, 30)


@dataclass
class Formula:
    text: str


@dataclass
class Row:
    cells: list = field(default_factory=list)
    meta: list[dict] = field(default_factory=list)      # developer metadata on this row
    formats: dict[int, str] = field(default_factory=dict)  # column → number format pattern


@dataclass
class Tab:
    id: int
    title: str
    grid: list[Row] = field(default_factory=list)
    frozen: int = 0
    protected: list[dict] = field(default_factory=list)
    validations: list[dict] = field(default_factory=list)
    column_formats: dict[int, str] = field(default_factory=dict)
    row_count: int = 1000
    column_count: int = 26  # a new Google sheet's grid: 1000 rows, columns A–Z

    @property
    def rows(self) -> list[list]:
        """The cell lists of the rows (the lists themselves: typing into one edits the tab)."""
        return [r.cells for r in self.grid]

    def last_row(self) -> int:
        """How many rows hold something (the API trims trailing empty rows)."""
        n = len(self.grid)
        while n and not any(v not in ("", None) for v in self.grid[n - 1].cells):
            n -= 1
        return n


@dataclass
class Fault:
    kind: str  # "429" | "500" | "timeout" | "lost"
    match: str  # a substring of "METHOD path"


class BadRequest(Exception):
    pass


def _serial_text(v: float, pattern: str) -> str:
    t = EPOCH + dt.timedelta(seconds=round(v * 86400))
    py = pattern.replace("yyyy", "%Y").replace("mm", "%m").replace("dd", "%d")
    py = py.replace("hh", "%H").replace("%m:ss", "%M:%S")
    py = re.sub(r"(%H):%m", r"\1:%M", py)
    return t.strftime(py)


class FakeSheets:
    def __init__(self, key: str = "SHEET123", title: str = "Register", shared_with=None):
        self.key, self.title = key, title
        self.tabs: list[Tab] = []
        self.metadata: list[dict] = []  # spreadsheet-level developer metadata
        self.calls: list[str] = []
        self.requests: list[str] = []  # the kind of each batchUpdate request applied
        self.bytes_sent = 0
        self.bytes_received = 0
        self.faults: list[Fault] = []
        self.shared_with = shared_with  # None: anyone; else the one email allowed
        self.token_email = ""
        self.next_id = 100
        self.between: Callable[[str], None] | None = None  # a human, before each call
        self.rng = random.Random(0)
        self.lock = threading.RLock()  # the API applies one call at a time

    # --- human side ------------------------------------------------------------------------
    def add_tab(self, title: str, rows: list[list] | None = None) -> Tab:
        tab = Tab(self.next_id, title, [Row(list(r)) for r in rows or []])
        tab.column_count = max([26, *(len(r) for r in rows or [])])
        self.next_id += 1
        self.tabs.append(tab)
        return tab

    def tab(self, title: str) -> Tab:
        return next(t for t in self.tabs if t.title == title)

    def sort(self, title: str, col: int, reverse: bool = False, header_rows: int = 1) -> None:
        t = self.tab(title)
        body = t.grid[header_rows:]
        body.sort(key=lambda r: str(r.cells[col]) if col < len(r.cells) else "", reverse=reverse)
        t.grid[header_rows:] = body

    def insert_row(self, title: str, at: int, values: list) -> None:
        t = self.tab(title)
        t.grid.insert(at - 1, Row(list(values)))
        t.row_count += 1

    def delete_row(self, title: str, at: int) -> None:
        t = self.tab(title)
        del t.grid[at - 1]
        t.row_count -= 1

    def type_cell(self, title: str, row: int, col: int, value) -> None:
        t = self.tab(title)
        while len(t.grid) < row:
            t.grid.append(Row())
        cells = t.grid[row - 1].cells
        while len(cells) < col:
            cells.append("")
        cells[col - 1] = value

    def move_column(self, title: str, src: int, dst: int) -> None:
        """Drag column `src` (1-based) to position `dst`, as in the Sheets UI."""
        t = self.tab(title)
        width = max([len(r.cells) for r in t.grid] + [src, dst])
        for r in t.grid:
            r.cells += [""] * (width - len(r.cells))
            r.cells.insert(dst - 1, r.cells.pop(src - 1))
            r.formats = {_moved(c, src - 1, dst - 1): f for c, f in r.formats.items()}
        t.column_formats = {_moved(c, src - 1, dst - 1): f for c, f in t.column_formats.items()}

    def insert_column(self, title: str, at: int, header: str = "") -> None:
        t = self.tab(title)
        t.column_count += 1
        for i, r in enumerate(t.grid):
            if len(r.cells) >= at - 1:
                r.cells.insert(at - 1, header if i == 0 and header else "")
            r.formats = {(c + 1 if c >= at - 1 else c): f for c, f in r.formats.items()}
        t.column_formats = {(c + 1 if c >= at - 1 else c): f for c, f in t.column_formats.items()}

    def fail(self, kind: str, match: str = "", times: int = 1) -> None:
        self.faults += [Fault(kind, match) for _ in range(times)]

    def count(self, pattern: str) -> int:
        return sum(1 for c in self.calls if re.search(pattern, c))

    # --- wiring ----------------------------------------------------------------------------
    def install(self, rsps: responses.RequestsMock) -> FakeSheets:
        rsps.add_callback(responses.POST, TOKEN_URL, callback=self._token)
        for method in (responses.GET, responses.POST, responses.PUT):
            rsps.add_callback(method, re.compile(re.escape(BASE) + ".*"), callback=self._serve)
        return self

    def _token(self, request):
        body = parse_qs(request.body if isinstance(request.body, str) else request.body.decode())
        assertion = body.get("assertion", [""])[0]
        import base64
        try:
            claims = json.loads(base64.urlsafe_b64decode(assertion.split(".")[1] + "=="))
        except (IndexError, ValueError):
            return 400, {}, json.dumps({"error": "invalid_grant"})
        self.token_email = claims.get("iss", "")
        return 200, {}, json.dumps({"access_token": TOKEN, "expires_in": 3600,
                                    "token_type": "Bearer"})

    @staticmethod
    def _error(code: int, message: str, status: str):
        return code, {}, json.dumps({"error": {"code": code, "message": message, "status": status}})

    def _serve(self, request):
        with self.lock:
            return self._serve_one(request)

    def _serve_one(self, request):
        url = urlparse(request.url)
        path = unquote(url.path[len("/v4/spreadsheets/"):])
        call = f"{request.method} {path}"
        if self.between is not None:
            self.between(call)
        self.calls.append(call)
        body_bytes = request.body or b""
        self.bytes_sent += len(request.url) + len(body_bytes)
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._error(401, "Request had invalid authentication credentials.",
                               "UNAUTHENTICATED")
        if not path.startswith(self.key):
            return self._error(404, "Requested entity was not found.", "NOT_FOUND")
        if self.shared_with is not None and self.token_email != self.shared_with:
            return self._error(403, "The caller does not have permission", "PERMISSION_DENIED")
        fault = next((f for f in self.faults if f.match in call), None)
        if fault:
            self.faults.remove(fault)
            if fault.kind == "429":
                return self._error(429, "Quota exceeded for quota metric 'Write requests'",
                                   "RESOURCE_EXHAUSTED")
            if fault.kind == "500":
                return self._error(500, "Internal error encountered.", "INTERNAL")
            if fault.kind == "timeout":
                raise requests.exceptions.ReadTimeout("fake: the reply never came")
        body = json.loads(body_bytes) if body_bytes else {}
        query = parse_qs(url.query)
        rest = path[len(self.key):]
        try:
            result = self._dispatch(request.method, rest, query, body)
        except BadRequest as exc:
            result = self._error(400, str(exc), "INVALID_ARGUMENT")
        if fault and fault.kind == "lost":  # applied, but the reply is lost on the way back
            raise requests.exceptions.ConnectionError("fake: connection reset after the write")
        self.bytes_received += len(result[2])
        return result

    def _dispatch(self, method, rest, query, body):
        if method == "GET" and rest == "":
            return 200, {}, json.dumps(self.spreadsheet(query))
        if method == "GET" and rest == "/values:batchGet":
            render = query.get("valueRenderOption", ["FORMATTED_VALUE"])[0]
            major = self.major(query)
            return 200, {}, json.dumps({"spreadsheetId": self.key, "valueRanges": [
                {"range": r, "majorDimension": major, "values": self.get(r, render, major)}
                for r in query.get("ranges", [])]})
        if method == "POST" and rest == "/values:batchUpdate":
            for d in body["data"]:
                self.put(d["range"], d["values"], body.get("valueInputOption", "RAW"))
            return 200, {}, json.dumps({"spreadsheetId": self.key})
        if method == "POST" and rest == "/values:batchGetByDataFilter":
            return 200, {}, json.dumps(self.get_by_filter(body))
        if method == "POST" and rest == "/values:batchUpdateByDataFilter":
            return 200, {}, json.dumps(self.update_by_filter(body))
        if method == "POST" and rest == "/developerMetadata:search":
            return 200, {}, json.dumps({"matchedDeveloperMetadata": [
                {"developerMetadata": self.located(m), "dataFilters": [df]}
                for df in body.get("dataFilters", []) for m in self.lookup(
                    df.get("developerMetadataLookup", {}))]})
        if method == "POST" and rest == ":batchUpdate":
            return 200, {}, json.dumps(self.batch_update(body))
        m = re.fullmatch(r"/values/(.+?):clear", rest)
        if m and method == "POST":  # only the whole-sheet rewrite of bench/gsheet.py uses it
            t = self.tab(self.split(m[1])[0])
            t.grid.clear()
            return 200, {}, json.dumps({"clearedRange": m[1]})
        m = re.fullmatch(r"/values/(.+?)(:append)?", rest)
        if m and method == "GET":
            render = query.get("valueRenderOption", ["FORMATTED_VALUE"])[0]
            major = self.major(query)
            return 200, {}, json.dumps({"range": m[1], "majorDimension": major,
                                        "values": self.get(m[1], render, major)})
        if m and method == "POST" and m[2]:
            tab = self.tab(self.split(m[1])[0])
            opt = query.get("valueInputOption", ["RAW"])[0]
            at = tab.last_row()
            del tab.grid[at:]
            for row in body["values"]:
                tab.grid.append(Row([self.typed(v, opt) for v in row]))
            tab.row_count = max(tab.row_count, len(tab.grid))
            return 200, {}, json.dumps({"updates": {"updatedRows": len(body["values"])}})
        if m and method == "PUT":
            self.put(m[1], body["values"], query.get("valueInputOption", ["RAW"])[0])
            return 200, {}, json.dumps({"updatedRange": m[1]})
        raise BadRequest(f"fake: unsupported {method} {rest}")

    # --- the API's semantics ---------------------------------------------------------------
    def spreadsheet(self, query: dict) -> dict:
        out = {"spreadsheetId": self.key, "properties": {"title": self.title, "locale": "zh_CN",
                                                         "timeZone": "Asia/Shanghai"},
               "developerMetadata": [self.located(m) for m in self.metadata],
               "sheets": [{"properties": {"sheetId": t.id, "title": t.title, "index": i,
                                          "gridProperties": {"rowCount": t.row_count,
                                                             "columnCount": t.column_count,
                                                             "frozenRowCount": t.frozen}},
                           "protectedRanges": t.protected} for i, t in enumerate(self.tabs)]}
        if query.get("includeGridData", ["false"])[0] == "true":
            for a1 in query.get("ranges", []):
                title, cells = self.split(a1)
                r1, c1, _, _ = self.bounds(cells)
                values = self.get(a1, "FORMATTED_VALUE")
                sheet = next(s for s in out["sheets"] if s["properties"]["title"] == title)
                sheet.setdefault("data", []).append({
                    "startRow": r1 - 1, "startColumn": c1 - 1,
                    "rowData": [{"values": [{"formattedValue": str(v)} if v not in ("", None)
                                            else {} for v in r]} for r in values]})
        return out

    @staticmethod
    def split(a1: str) -> tuple[str, str]:
        if "!" in a1:
            title, cells = a1.rsplit("!", 1)
        else:
            title, cells = a1, ""
        if title.startswith("'"):
            title = title[1:-1].replace("''", "'")
        return title, cells

    @staticmethod
    def bounds(cells: str) -> tuple[int, int, int | None, int | None]:
        if not cells:
            return 1, 1, None, None
        first, _, last = cells.partition(":")
        if first.isdigit():  # whole rows: 1:1
            return int(first), 1, int(last or first), None
        if first.isalpha():  # whole columns: A:A
            c1 = a1_to_rowcol(first + "1")[1]
            c2 = a1_to_rowcol((last or first) + "1")[1]
            return 1, c1, None, c2
        r1, c1 = a1_to_rowcol(first)
        if not last:
            return r1, c1, r1, c1
        r2, c2 = a1_to_rowcol(last) if any(ch.isdigit() for ch in last) else (None, a1_to_rowcol(
            last + "1")[1])
        return r1, c1, r2, c2

    @staticmethod
    def shown(v, fmt: str | None, render: str):
        if isinstance(v, Formula):
            return f"<formula {v.text}>"
        if render == "FORMATTED_VALUE":
            if isinstance(v, bool):
                return "TRUE" if v else "FALSE"
            if isinstance(v, (int, float)) and fmt:
                return _serial_text(float(v), fmt)
            if isinstance(v, float) and v.is_integer():
                return str(int(v))
            if isinstance(v, (int, float)):
                return str(v)
        return v

    def _fmt(self, tab: Tab, row: Row, c: int) -> str | None:
        return row.formats.get(c, tab.column_formats.get(c))

    @staticmethod
    def major(query: dict) -> str:
        """values.get / batchGet `majorDimension`: ROWS (the default) or COLUMNS."""
        major = query.get("majorDimension", ["ROWS"])[0]
        if major not in ("ROWS", "COLUMNS", "DIMENSION_UNSPECIFIED"):
            raise BadRequest(f"Invalid value at 'major_dimension' ({major})")
        return "COLUMNS" if major == "COLUMNS" else "ROWS"

    def get(self, a1: str, render: str, major: str = "ROWS") -> list[list]:
        """The range's values, a list per row (or per column with `major` COLUMNS)."""
        title, cells = self.split(a1)
        tab = self.tab(title)
        r1, c1, r2, c2 = self.bounds(cells)
        out = []
        for row in tab.grid[r1 - 1: r2]:
            vals = row.cells[c1 - 1: c2]
            out.append([self.shown(v, self._fmt(tab, row, c1 - 1 + j), render)
                        for j, v in enumerate(vals)])
        if major == "COLUMNS":
            width = max((len(r) for r in out), default=0)
            out = [[r[j] if j < len(r) else "" for r in out] for j in range(width)]
        for r in out:  # the API leaves out trailing empty cells and rows (columns)
            while r and r[-1] in ("", None):
                r.pop()
        while out and not out[-1]:
            out.pop()
        return out

    @staticmethod
    def typed(v, option: str):
        if option == "USER_ENTERED" and isinstance(v, str):
            if v.startswith("'"):
                return v[1:]
            if v.startswith(("=", "+", "-", "@")):
                return Formula(v)
        return v

    def put(self, a1: str, values: list[list], option: str) -> None:
        title, cells = self.split(a1)
        r1, c1, _, _ = self.bounds(cells)
        tab = self.tab(title)
        width = max((c1 - 1 + len(r) for r in values), default=0)
        if width > tab.column_count or r1 - 1 + len(values) > tab.row_count:
            raise BadRequest(f"Range ({a1}) exceeds grid limits. Max rows: {tab.row_count}, "
                             f"max columns: {tab.column_count}")
        for i, row in enumerate(values):
            for j, v in enumerate(row):
                if v is not None:  # "Null values will be skipped"
                    self.type_cell(title, r1 + i, c1 + j, self.typed(v, option))

    def by_id(self, sheet_id: int) -> Tab:
        for t in self.tabs:
            if t.id == sheet_id:
                return t
        raise BadRequest(f"No grid with id: {sheet_id}")

    # developer metadata

    def all_metadata(self):
        """(metadata, tab or None, row or None) for every piece of developer metadata."""
        for m in self.metadata:
            yield m, None, None
        for t in self.tabs:
            for r in t.grid:
                for m in r.meta:
                    yield m, t, r

    def located(self, m: dict) -> dict:
        for meta, tab, row in self.all_metadata():
            if meta is m:
                out = copy.deepcopy(m)
                if tab is None:
                    out["location"] = {"locationType": "SPREADSHEET", "spreadsheet": True}
                else:
                    i = tab.grid.index(row)
                    out["location"] = {"locationType": "ROW", "dimensionRange": {
                        "sheetId": tab.id, "dimension": "ROWS", "startIndex": i,
                        "endIndex": i + 1}}
                return out
        raise KeyError("metadata gone")

    def lookup(self, spec: dict) -> list[dict]:
        out = []
        for m, _, _ in self.all_metadata():
            if "metadataId" in spec and m["metadataId"] != spec["metadataId"]:
                continue
            if "metadataKey" in spec and m["metadataKey"] != spec["metadataKey"]:
                continue
            if "metadataValue" in spec and m.get("metadataValue") != spec["metadataValue"]:
                continue
            out.append(m)
        return out

    def _ranges_of(self, df: dict) -> list[tuple[Tab, int | None, str]]:
        """(tab, grid row or None, A1 range) matched by a DataFilter."""
        if "a1Range" in df:
            title, _ = self.split(df["a1Range"])
            return [(self.tab(title), None, df["a1Range"])]
        if "developerMetadataLookup" in df:
            out = []
            for m in self.lookup(df["developerMetadataLookup"]):
                for meta, tab, row in self.all_metadata():
                    if meta is m and tab is not None:
                        i = tab.grid.index(row) + 1
                        last = rowcol_to_a1(i, tab.column_count)
                        out.append((tab, i, f"'{tab.title}'!A{i}:{re.sub(r'[0-9]', '', last)}{i}"))
            return out
        raise BadRequest("fake: unsupported data filter")

    def get_by_filter(self, body: dict) -> dict:
        render = body.get("valueRenderOption", "FORMATTED_VALUE")
        out = []
        for df in body.get("dataFilters", []):
            for _, _, a1 in self._ranges_of(df):
                out.append({"valueRange": {"range": a1, "majorDimension": "ROWS",
                                           "values": self.get(a1, render)},
                            "dataFilters": [df]})
        return {"spreadsheetId": self.key, "valueRanges": out}

    def update_by_filter(self, body: dict) -> dict:
        option = body.get("valueInputOption")
        if option not in ("RAW", "USER_ENTERED"):
            raise BadRequest("Invalid valueInputOption")
        responses_, cells = [], 0
        for d in body.get("data", []):
            for tab, i, a1 in self._ranges_of(d["dataFilter"]):
                values = d.get("values", [])
                if i is not None and (len(values) > 1 or any(len(r) > tab.column_count
                                                             for r in values)):
                    raise BadRequest("The values exceed the range matched by the data filter.")
                self.put(a1, values, option)
                n = sum(1 for r in values for v in r if v is not None)
                cells += n
                responses_.append({"updatedRange": a1, "updatedCells": n,
                                   "dataFilter": d["dataFilter"]})
        return {"spreadsheetId": self.key, "totalUpdatedCells": cells, "responses": responses_}

    # spreadsheets:batchUpdate, atomically

    def batch_update(self, body: dict) -> dict:
        saved = copy.deepcopy((self.tabs, self.metadata, self.next_id))
        try:
            replies = [self.request(r) for r in body["requests"]]
        except BadRequest:
            self.tabs, self.metadata, self.next_id = saved
            raise
        return {"spreadsheetId": self.key, "replies": replies}

    def _new_metadata(self, spec: dict) -> dict:
        m = {"metadataId": spec.get("metadataId") or self.rng.randint(1, 2**31 - 1),
             "metadataKey": spec["metadataKey"], "visibility": spec.get("visibility", "DOCUMENT")}
        if "metadataValue" in spec:
            m["metadataValue"] = spec["metadataValue"]
        if any(x["metadataId"] == m["metadataId"] for x, _, _ in self.all_metadata()):
            raise BadRequest(f"Invalid requests: developer metadata with ID {m['metadataId']} "
                             f"already exists.")
        return m

    def request(self, req: dict) -> dict:
        (kind, args), = req.items()
        self.requests.append(kind)
        if kind == "addSheet":
            return {"addSheet": {"properties": {"sheetId": self.add_tab(
                args["properties"]["title"]).id}}}
        if kind == "appendCells":
            tab = self.by_id(args["sheetId"])
            self._fits(tab, 0, max((len(r.get("values", [])) for r in args["rows"]), default=0))
            last = tab.last_row()
            del tab.grid[last:]
            for row in args["rows"]:
                tab.grid.append(self._row_of(row))
            tab.row_count = max(tab.row_count, len(tab.grid))
            return {}
        if kind == "insertDimension":
            rng = args["range"]
            tab = self.by_id(rng["sheetId"])
            if rng.get("dimension") != "ROWS":
                raise BadRequest("fake: only rows are inserted")
            start, end = rng["startIndex"], rng["endIndex"]
            if start > tab.row_count or start < 0 or end <= start:
                raise BadRequest(f"Invalid requests: insertDimension: range ({start}, {end}) "
                                 f"is beyond the grid's {tab.row_count} rows.")
            while len(tab.grid) < start:
                tab.grid.append(Row())
            before = tab.grid[start - 1] if args.get("inheritFromBefore") and start > 0 else None
            for _ in range(end - start):
                tab.grid.insert(start, Row(formats=dict(before.formats) if before else {}))
            tab.row_count += end - start
            return {}
        if kind == "updateCells":
            if "start" not in args:
                raise BadRequest("fake: updateCells needs start")
            tab = self.by_id(args["start"]["sheetId"])
            r0, c0 = args["start"].get("rowIndex", 0), args["start"].get("columnIndex", 0)
            self._fits(tab, c0, max((len(r.get("values", [])) for r in args.get("rows", [])),
                                    default=0))
            fields = args.get("fields", "")
            for i, row in enumerate(args.get("rows", [])):
                while len(tab.grid) <= r0 + i:
                    tab.grid.append(Row())
                target = tab.grid[r0 + i]
                for j, cell in enumerate(row.get("values", [])):
                    c = c0 + j
                    if "userEnteredValue" in fields:
                        while len(target.cells) <= c:
                            target.cells.append("")
                        target.cells[c] = self._value_of(cell)
                    if "userEnteredFormat" in fields:
                        pattern = cell.get("userEnteredFormat", {}).get("numberFormat", {}).get(
                            "pattern")
                        if pattern:
                            target.formats[c] = pattern
                        else:
                            target.formats.pop(c, None)
            return {}
        if kind == "createDeveloperMetadata":
            spec = args["developerMetadata"]
            m = self._new_metadata(spec)
            loc = spec.get("location", {})
            if loc.get("spreadsheet"):
                self.metadata.append(m)
            elif "dimensionRange" in loc:
                dr = loc["dimensionRange"]
                tab = self.by_id(dr["sheetId"])
                if dr.get("dimension") != "ROWS" or dr["endIndex"] - dr["startIndex"] != 1 or \
                        dr["startIndex"] >= len(tab.grid):
                    raise BadRequest("fake: metadata goes on one existing row")
                tab.grid[dr["startIndex"]].meta.append(m)
            else:
                raise BadRequest("Invalid requests: developer metadata needs a location.")
            return {"createDeveloperMetadata": {"developerMetadata": self.located(m)}}
        if kind == "updateDeveloperMetadata":
            found = [m for df in args["dataFilters"]
                     for m in self.lookup(df.get("developerMetadataLookup", {}))]
            for m in found:
                for f in args["fields"].split(","):
                    if f.strip() in ("metadataValue", "metadataKey"):
                        m[f.strip()] = args["developerMetadata"][f.strip()]
            return {"updateDeveloperMetadata": {"developerMetadata": [self.located(m)
                                                                      for m in found]}}
        if kind == "deleteDeveloperMetadata":
            found = self.lookup(args["dataFilter"].get("developerMetadataLookup", {}))
            for m in found:
                self.metadata = [x for x in self.metadata if x is not m]
                for t in self.tabs:
                    for r in t.grid:
                        r.meta = [x for x in r.meta if x is not m]
            return {"deleteDeveloperMetadata": {"deletedDeveloperMetadata": found}}
        if kind == "repeatCell":
            rng = args["range"]
            tab = self.by_id(rng["sheetId"])
            pattern = args["cell"].get("userEnteredFormat", {}).get("numberFormat", {}).get(
                "pattern")
            rows = tab.grid[rng.get("startRowIndex", 0):rng.get("endRowIndex")]
            for c in range(rng.get("startColumnIndex", 0), rng.get("endColumnIndex", 1)):
                if pattern and "endRowIndex" not in rng:  # to the end: rows added later too
                    tab.column_formats[c] = pattern
                for r in rows:
                    if pattern:
                        r.formats[c] = pattern
            return {}
        if kind == "appendDimension":
            tab = self.by_id(args["sheetId"])
            if args["dimension"] == "COLUMNS":
                tab.column_count += args["length"]
            else:
                tab.row_count += args["length"]
            return {}
        if kind == "updateSheetProperties":
            props = args["properties"]
            self.by_id(props["sheetId"]).frozen = props["gridProperties"]["frozenRowCount"]
            return {}
        if kind == "addProtectedRange":
            pr = args["protectedRange"]
            self.by_id(pr["range"]["sheetId"]).protected.append(pr)
            return {"addProtectedRange": {"protectedRange": pr}}
        if kind == "setDataValidation":
            self.by_id(args["range"]["sheetId"]).validations.append(args)
            return {}
        raise BadRequest(f"fake: unsupported request {kind}")

    @staticmethod
    def _fits(tab: Tab, c0: int, width: int) -> None:
        if c0 + width > tab.column_count:
            raise BadRequest(f"Invalid requests: the cells exceed grid limits. Max columns: "
                             f"{tab.column_count}")

    @staticmethod
    def _value_of(cell: dict):
        v = cell.get("userEnteredValue")
        if not v:
            return ""
        (kind, value), = v.items()
        if kind == "formulaValue":
            return Formula(value)
        return value

    def _row_of(self, row: dict) -> Row:
        out = Row()
        for c, cell in enumerate(row.get("values", [])):
            out.cells.append(self._value_of(cell))
            pattern = cell.get("userEnteredFormat", {}).get("numberFormat", {}).get("pattern")
            if pattern:
                out.formats[c] = pattern
        return out


def _moved(c: int, src: int, dst: int) -> int:
    if c == src:
        return dst
    if src < c <= dst:
        return c - 1
    if dst <= c < src:
        return c + 1
    return c
