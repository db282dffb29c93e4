"""An in-process fake of the Google Sheets v4 REST API and Google's token endpoint.

It serves the real gspread client through the `responses` library: the endpoints gspread
calls (spreadsheet get, values get / batchGet / append / update / batchUpdate, spreadsheet
batchUpdate with addSheet, appendCells, setDataValidation, updateSheetProperties,
addProtectedRange). It keeps values as the API does: RAW text stays text, USER_ENTERED text
starting with '=' becomes a formula. Humans' edits (sort, insert, delete, type) and faults
(429, 500, timeouts, lost replies) can be injected between the app's calls.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlparse

import requests
import responses
from gspread.utils import a1_to_rowcol

TOKEN_URL = "https://oauth2.googleapis.com/token"
BASE = "https://sheets.googleapis.com/v4/spreadsheets/"
TOKEN = "fake-access-token"


@dataclass
class Formula:
    text: str


@dataclass
class Tab:
    id: int
    title: str
    rows: list[list] = field(default_factory=list)
    frozen: int = 0
    protected: list[dict] = field(default_factory=list)
    validations: list[dict] = field(default_factory=list)


@dataclass
class Fault:
    kind: str  # "429" | "500" | "timeout" | "lost"
    match: str  # a substring of "METHOD path"


class FakeSheets:
    def __init__(self, key: str = "SHEET123", title: str = "Register", shared_with=None):
        self.key, self.title = key, title
        self.tabs: list[Tab] = []
        self.calls: list[str] = []
        self.bytes_sent = 0
        self.faults: list[Fault] = []
        self.shared_with = shared_with  # None: anyone; else the one email allowed
        self.token_email = ""
        self.next_id = 100

    # --- human side ------------------------------------------------------------------------
    def add_tab(self, title: str, rows: list[list] | None = None) -> Tab:
        tab = Tab(self.next_id, title, [list(r) for r in rows or []])
        self.next_id += 1
        self.tabs.append(tab)
        return tab

    def tab(self, title: str) -> Tab:
        return next(t for t in self.tabs if t.title == title)

    def sort(self, title: str, col: int, reverse: bool = False) -> None:
        t = self.tab(title)
        t.rows[1:] = sorted(t.rows[1:], key=lambda r: str(r[col]) if col < len(r) else "",
                            reverse=reverse)

    def insert_row(self, title: str, at: int, values: list) -> None:
        self.tab(title).rows.insert(at - 1, list(values))

    def delete_row(self, title: str, at: int) -> None:
        del self.tab(title).rows[at - 1]

    def type_cell(self, title: str, row: int, col: int, value) -> None:
        rows = self.tab(title).rows
        while len(rows) < row:
            rows.append([])
        r = rows[row - 1]
        while len(r) < col:
            r.append("")
        r[col - 1] = value

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
        url = urlparse(request.url)
        path = unquote(url.path[len("/v4/spreadsheets/"):])
        call = f"{request.method} {path}"
        self.calls.append(call)
        self.bytes_sent += len(request.url) + len(request.body or b"")
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
        body = json.loads(request.body) if request.body else {}
        query = parse_qs(url.query)
        rest = path[len(self.key):]
        result = self._dispatch(request.method, rest, query, body)
        if fault and fault.kind == "lost":  # applied, but the reply is lost on the way back
            raise requests.exceptions.ConnectionError("fake: connection reset after the write")
        return result

    def _dispatch(self, method, rest, query, body):
        if method == "GET" and rest == "":
            return 200, {}, json.dumps(self.metadata())
        if method == "GET" and rest == "/values:batchGet":
            render = query.get("valueRenderOption", ["FORMATTED_VALUE"])[0]
            return 200, {}, json.dumps({"spreadsheetId": self.key, "valueRanges": [
                {"range": r, "values": self.get(r, render)} for r in query.get("ranges", [])]})
        if method == "POST" and rest == "/values:batchUpdate":
            for d in body["data"]:
                self.put(d["range"], d["values"], body.get("valueInputOption", "RAW"))
            return 200, {}, json.dumps({"spreadsheetId": self.key})
        if method == "POST" and rest == ":batchUpdate":
            return 200, {}, json.dumps({"spreadsheetId": self.key, "replies": [
                self.request(r) for r in body["requests"]]})
        m = re.fullmatch(r"/values/(.+?):clear", rest)
        if m and method == "POST":  # only the whole-sheet rewrite of bench/gsheet.py uses it
            self.tab(self.split(m[1])[0]).rows.clear()
            return 200, {}, json.dumps({"clearedRange": m[1]})
        m = re.fullmatch(r"/values/(.+?)(:append)?", rest)
        if m and method == "GET":
            render = query.get("valueRenderOption", ["FORMATTED_VALUE"])[0]
            return 200, {}, json.dumps({"range": m[1], "values": self.get(m[1], render)})
        if m and method == "POST" and m[2]:
            title = self.split(m[1])[0]
            tab = self.tab(title)
            opt = query.get("valueInputOption", ["RAW"])[0]
            for row in body["values"]:
                tab.rows.append([self.typed(v, opt) for v in row])
            return 200, {}, json.dumps({"updates": {"updatedRows": len(body["values"])}})
        if m and method == "PUT":
            self.put(m[1], body["values"], query.get("valueInputOption", ["RAW"])[0])
            return 200, {}, json.dumps({"updatedRange": m[1]})
        return self._error(400, f"fake: unsupported {method} {rest}", "INVALID_ARGUMENT")

    # --- the API's semantics ---------------------------------------------------------------
    def metadata(self) -> dict:
        return {"spreadsheetId": self.key, "properties": {"title": self.title, "locale": "zh_CN",
                                                          "timeZone": "Asia/Shanghai"},
                "sheets": [{"properties": {"sheetId": t.id, "title": t.title, "index": i,
                                           "gridProperties": {"rowCount": max(1000, len(t.rows)),
                                                              "columnCount": 60,
                                                              "frozenRowCount": t.frozen}},
                            "protectedRanges": t.protected} for i, t in enumerate(self.tabs)]}

    @staticmethod
    def split(a1: str) -> tuple[str, str]:
        if "!" in a1:
            title, cells = a1.rsplit("!", 1)
        else:
            title, cells = a1, ""
        if title.startswith("'"):
            title = title[1:-1].replace("''", "'")
        return title, cells

    def bounds(self, cells: str) -> tuple[int, int, int | None, int | None]:
        if not cells:
            return 1, 1, None, None
        first, _, last = cells.partition(":")
        if first.isdigit():  # whole rows: 1:1
            return int(first), 1, int(last or first), None
        r1, c1 = a1_to_rowcol(first)
        if not last:
            return r1, c1, r1, c1
        r2, c2 = a1_to_rowcol(last) if any(ch.isdigit() for ch in last) else (None, a1_to_rowcol(
            last + "1")[1])
        return r1, c1, r2, c2

    @staticmethod
    def shown(v, render: str):
        if isinstance(v, Formula):
            return f"<formula {v.text}>"
        return v

    def get(self, a1: str, render: str) -> list[list]:
        title, cells = self.split(a1)
        r1, c1, r2, c2 = self.bounds(cells)
        rows = self.tab(title).rows[r1 - 1: r2]
        out = [[self.shown(v, render) for v in r[c1 - 1: c2]] for r in rows]
        for r in out:  # the API leaves out trailing empty cells and rows
            while r and r[-1] in ("", None):
                r.pop()
        while out and not out[-1]:
            out.pop()
        return out

    @staticmethod
    def typed(v, option: str):
        if option == "USER_ENTERED" and isinstance(v, str) and v.startswith(("=", "+", "-", "@")):
            return Formula(v)
        return v

    def put(self, a1: str, values: list[list], option: str) -> None:
        title, cells = self.split(a1)
        r1, c1, _, _ = self.bounds(cells)
        for i, row in enumerate(values):
            for j, v in enumerate(row):
                self.type_cell(title, r1 + i, c1 + j, self.typed(v, option))

    def by_id(self, sheet_id: int) -> Tab:
        return next(t for t in self.tabs if t.id == sheet_id)

    def request(self, req: dict) -> dict:
        (kind, args), = req.items()
        if kind == "addSheet":
            return {"addSheet": {"properties": {"sheetId": self.add_tab(
                args["properties"]["title"]).id}}}
        if kind == "appendCells":
            tab = self.by_id(args["sheetId"])
            last = len(tab.rows)
            while last and not any(v not in ("", None) for v in tab.rows[last - 1]):
                last -= 1
            del tab.rows[last:]
            for row in args["rows"]:
                tab.rows.append([next(iter(c["userEnteredValue"].values()))
                                 if c.get("userEnteredValue") else "" for c in row["values"]])
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
        raise ValueError(f"fake: unsupported request {kind}")
