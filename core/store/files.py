"""Tables people hand to `add --from`: a forwarded 12345 export, a nightly import — as
.csv, .xlsx or .json, with the register's headers in either language."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import python_calamine

from core.errors import RegisterError
from core.reading.raw import RawTab
from core.reading.schema import Tab

CSV_ENCODINGS = ("utf-8-sig", "gb18030")  # Excel in China saves CSV as GBK


def read_table(path: str | Path, tab: Tab) -> RawTab:
    """The file's rows under its header (found below any title rows), with the file's own
    row numbers, so a rejected row can be found in the file."""
    path = Path(path)
    if not path.exists():
        raise RegisterError(f"There is no file at {path}.")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        data = path.read_bytes()
        for enc in CSV_ENCODINGS:
            try:
                text = data.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise RegisterError(f"{path} is neither UTF-8 nor GBK text; save it as CSV UTF-8.")
        cells = [list(r) for r in csv.reader(io.StringIO(text))]
        return RawTab.from_cells(path.name, cells, tab)
    if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
        try:
            wb = python_calamine.load_workbook(str(path))
        except Exception as exc:
            raise RegisterError(f"{path} cannot be read as a spreadsheet ({exc}).") from exc
        names = list(wb.sheet_names)
        from core.reading.schema import norm
        wanted = {norm(n) for n in tab.names()}
        title = next((n for n in names if norm(n) in wanted), names[0] if names else None)
        if title is None:
            raise RegisterError(f"{path} has no sheets.")
        return RawTab.from_cells(title, wb.get_sheet_by_name(title).to_python(), tab)
    if suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except (OSError, ValueError) as exc:
            raise RegisterError(f"{path} is not valid JSON ({exc}).") from exc
        if isinstance(data, dict):
            data = data.get("rows", data.get("complaints", [data]))
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise RegisterError(f"{path} must hold a list of objects, one per complaint, keyed "
                                f"by the register's headers.")
        keys = list(dict.fromkeys(k for r in data for k in r))
        # header_row 0: item i of the list is reported as number i + 1
        return RawTab(path.name, keys, [[r.get(k) for k in keys] for r in data], header_row=0)
    raise RegisterError(f"{path.name}: add reads .csv, .xlsx or .json files.")
