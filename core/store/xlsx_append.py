"""Writing rows of an .xlsx without loading it: new <row> elements, or one row's changed
cells, go into the sheet's XML inside the zip; every other part is copied. A clerk's save
then costs a fraction of a second at 10k rows instead of a full openpyxl load and save.

It handles the workbooks this product, openpyxl and Excel write; anything it does not
recognise (an Excel table over the sheet, a prefixed XML namespace, no date style to reuse)
makes it give up before writing, and the caller falls back to openpyxl.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
import zipfile
from xml.sax.saxutils import escape

from core.reading.text import for_xlsx

EPOCH = dt.datetime(1899, 12, 30)
DATE_FORMAT = "yyyy-mm-dd hh:mm"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_ROW = re.compile(rb'<row\b[^>]*?\br="(\d+)"[^>]*?(?:/>|>.*?</row>)', re.S)
_ROW_START = re.compile(rb'<row\b[^>]*?\br="(\d+)"')
_CELL = re.compile(rb'<c r="([A-Z]+)(\d+)"([^>]*?)(?:/>|>(.*?)</c>)', re.S)


class Unsupported(Exception):
    """This workbook needs the openpyxl path (nothing was written)."""


def get_column_letter(n: int) -> str:
    """1 → A, 27 → AA (as openpyxl.utils, without importing all of openpyxl to read)."""
    out = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def column_index_from_string(letters: str) -> int:
    """A → 1, AA → 27."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _text(el: ET.Element | None) -> str:
    return "".join(el.itertext()) if el is not None else ""


def _cell_value(c: ET.Element, shared: dict[int, str]) -> object:
    t = c.get("t", "n")
    if t == "inlineStr":
        return _text(c.find(f"{{{MAIN}}}is"))
    v = c.find(f"{{{MAIN}}}v")
    if v is None or v.text is None:
        return None
    if t == "s":
        return shared.get(int(v.text))
    if t == "b":
        return v.text == "1"
    if t in ("str", "e"):
        return v.text
    number = float(v.text)
    return int(number) if number.is_integer() else number


class XlsxFile:
    """An .xlsx opened for one write: read the parts a write needs, change sheets, save."""

    def __init__(self, path):
        self.z = zipfile.ZipFile(path)
        self.names = set(self.z.namelist())
        self.parts = self._sheet_parts()
        self.changed: dict[str, bytes] = {}
        self._date_style: int | bool | None = False

    def close(self) -> None:
        self.z.close()

    def __enter__(self) -> XlsxFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _sheet_parts(self) -> dict[str, str]:
        """Sheet title → its XML part."""
        wb = ET.fromstring(self.z.read("xl/workbook.xml"))
        rels = ET.fromstring(self.z.read("xl/_rels/workbook.xml.rels"))
        targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{{{PKG_REL}}}Relationship")}
        out = {}
        for s in wb.iter(f"{{{MAIN}}}sheet"):
            target = targets.get(s.get(f"{{{REL}}}id"), "")
            out[s.get("name")] = target.lstrip("/") if target.startswith("/") else "xl/" + target
        return out

    def titles(self) -> list[str]:
        return list(self.parts)

    def sheet_xml(self, title: str) -> bytes:
        part = self.parts[title]
        xml = self.changed.get(part) or self.z.read(part)
        if b"<tableParts" in xml or b"<sheetData" not in xml:
            raise Unsupported(f"{title}: a table or an unusual layout")
        if not xml.lstrip().startswith((b"<?xml", b"<worksheet")) and b"<worksheet" not in xml[:400]:
            raise Unsupported(f"{title}: prefixed XML namespace")
        return xml

    def shared_strings_xml(self) -> bytes:
        return self.z.read("xl/sharedStrings.xml") if "xl/sharedStrings.xml" in self.names else b""

    def _shared(self, wanted: set[int]) -> dict[int, str]:
        if not wanted:
            return {}
        out: dict[int, str] = {}
        root = ET.fromstring(self.shared_strings_xml() or f'<sst xmlns="{MAIN}"/>')
        for i, si in enumerate(root.iter(f"{{{MAIN}}}si")):
            if i in wanted:
                out[i] = _text(si)
            if i >= max(wanted):
                break
        return out

    def top_rows(self, title: str, n: int) -> list[list[object]]:
        """The cells of sheet rows 1..n (empty lists for rows not written)."""
        xml = self.sheet_xml(title)
        snippets: dict[int, bytes] = {}
        for m in _ROW.finditer(xml):
            r = int(m[1])
            if r > n:
                break
            snippets[r] = m[0]
        if not snippets and _ROW_START.search(xml) is None and b"<row" in xml:
            raise Unsupported(f"{title}: rows without numbers")
        parsed: dict[int, list[ET.Element]] = {}
        for r, snippet in snippets.items():
            try:
                row = ET.fromstring(b'<x xmlns="' + MAIN.encode() + b'">' + snippet + b"</x>")
            except ET.ParseError as exc:
                raise Unsupported(f"{title}: row {r} ({exc})") from None
            parsed[r] = list(row.iter(f"{{{MAIN}}}c"))
        wanted = {int(v.text) for cells in parsed.values() for c in cells if c.get("t") == "s"
                  and (v := c.find(f"{{{MAIN}}}v")) is not None and v.text}
        shared = self._shared(wanted)
        out: list[list[object]] = []
        for r in range(1, n + 1):
            cells: list[object] = []
            for c in parsed.get(r, []):
                ref = c.get("r", "")
                col = column_index_from_string("".join(ch for ch in ref if ch.isalpha())) - 1
                cells.extend([None] * (col - len(cells)))
                cells.append(_cell_value(c, shared))
            out.append(cells)
        return out

    def date_style(self) -> int:
        """The cellXfs index of a style with the register's date format (Unsupported if the
        file has none yet: the openpyxl path adds it on its first write)."""
        if self._date_style is False:
            self._date_style = _date_style(self.z.read("xl/styles.xml"))
        if self._date_style is None:
            raise Unsupported("no date style yet")
        return self._date_style

    def append_rows(self, title: str, rows: list[list[object]]) -> None:
        self.changed[self.parts[title]] = _append_xml(self.sheet_xml(title), rows, self.date_style())

    def patch_row(self, title: str, row: int, cells: dict[int, object]) -> None:
        xml = self.sheet_xml(title)
        if b' t="shared"' in xml:  # overwriting a shared formula's master would break others
            raise Unsupported("shared formulas")
        patched = _patch_row(xml, row, cells, self.date_style())
        if patched is None:
            raise Unsupported(f"{title}: row {row} not found")
        self.changed[self.parts[title]] = patched

    def save_to(self, tmp_path) -> None:
        with zipfile.ZipFile(tmp_path, "w") as out:
            for info in self.z.infolist():
                data = self.changed.get(info.filename)
                if data is None:
                    out.writestr(info, self.z.read(info.filename))
                else:
                    out.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)


def _char_pattern(ch: str) -> bytes:
    """A character as it may appear in XML text: itself (UTF-8) or a character reference."""
    if ch.isascii() and ch.isalnum():
        return re.escape(ch.encode())
    code = ord(ch)
    return (b"(?:" + re.escape(ch.encode("utf-8")) + b"|&#" + str(code).encode() + b";|&#[xX]0*"
            + f"{code:x}".encode() + b";)")


def used_serials(stem: str, *xml_parts: bytes) -> set[int]:
    """Every serial of `stem` (PREFIX+yyyymmdd) that appears anywhere in the given XML parts.

    Any mention counts as used (a note quoting a number too): a number is never reused, and
    skipping one is harmless.
    """
    pattern = re.compile(b"".join(_char_pattern(ch) for ch in stem) + rb"(\d{3,})(?!\d)",
                         re.IGNORECASE)
    return {int(m[1]) for part in xml_parts for m in pattern.finditer(part)}


def _date_style(styles: bytes) -> int | None:
    """The cellXfs index of a style with the register's date format, if the file has one."""
    root = ET.fromstring(styles)
    fmt_ids = {f.get("numFmtId") for f in root.iter(f"{{{MAIN}}}numFmt")
               if f.get("formatCode") == DATE_FORMAT}
    if not fmt_ids:
        return None
    xfs = root.find(f"{{{MAIN}}}cellXfs")
    if xfs is None:
        return None
    for i, xf in enumerate(xfs.findall(f"{{{MAIN}}}xf")):
        if xf.get("numFmtId") in fmt_ids:
            return i
    return None


def _cell(ref: str, value: object, date_style: int) -> str:
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, dt.datetime):
        serial = (value.replace(tzinfo=None) - EPOCH) / dt.timedelta(days=1)
        return f'<c r="{ref}" s="{date_style}"><v>{serial!r}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    text = escape(for_xlsx(str(value)))
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def _has_value(row_xml: bytes) -> bool:
    return b"<v>" in row_xml or b"<is>" in row_xml or b"<v " in row_xml


def _append_xml(xml: bytes, rows: list[list[object]], date_style: int) -> bytes:
    """The sheet XML with `rows` added under its last row that holds a value."""
    rows_found = list(_ROW.finditer(xml[-2_000_000:] if len(xml) > 2_000_000 else xml))
    if len(xml) > 2_000_000 and not rows_found:
        rows_found = list(_ROW.finditer(xml))
    last = 0
    for m in reversed(rows_found):  # empty formatted rows at the end do not count
        if _has_value(m[0]):
            last = int(m[1])
            break
    if last == 0 and _ROW_START.search(xml):
        last = max((int(m[1]) for m in _ROW.finditer(xml) if _has_value(m[0])), default=0)
    taken = {int(m[1]) for m in rows_found if int(m[1]) > last}
    if taken:  # empty styled rows below the data: write into them would duplicate <row r=…>
        xml = _ROW.sub(lambda m: b"" if int(m[1]) in taken else m[0], xml)
    new, width = [], 0
    for i, row in enumerate(rows, start=last + 1):
        cells = [_cell(f"{get_column_letter(c)}{i}", v, date_style)
                 for c, v in enumerate(row, start=1) if v not in (None, "")]
        width = max(width, len(row))
        new.append(f'<row r="{i}">{"".join(cells)}</row>')
    block = "".join(new).encode("utf-8")
    if b"<sheetData/>" in xml:
        xml = xml.replace(b"<sheetData/>", b"<sheetData>" + block + b"</sheetData>", 1)
    else:
        at = xml.rindex(b"</sheetData>")
        xml = xml[:at] + block + xml[at:]
    dim = re.search(rb'<dimension ref="([A-Z]+\d+)(?::([A-Z]+)(\d+))?"\s*/>', xml)
    if dim:
        col = dim[2].decode() if dim[2] else "A"
        col = max(col, get_column_letter(max(width, 1)), key=lambda c: (len(c), c))
        ref = f'<dimension ref="{dim[1].decode()}:{col}{last + len(rows)}"/>'.encode()
        xml = xml[:dim.start()] + ref + xml[dim.end():]
    return xml


def _patch_row(xml: bytes, row: int, cells: dict[int, object], date_style: int) -> bytes | None:
    """The sheet XML with the given cells (1-based column → value) of one row replaced."""
    n = str(row).encode()
    m = re.search(rb'<row\b([^>]*?)\br="' + n + rb'"([^>]*?)(/?)>', xml)
    if not m:
        return None
    if m[3] == b"/":  # an empty row written as <row .../>
        body, end = b"", m.end()
    else:
        close = xml.index(b"</row>", m.end())
        body, end = xml[m.end():close], close + len(b"</row>")
    current = {column_index_from_string(cm[1].decode()): cm[0] for cm in _CELL.finditer(body)}
    for col, value in cells.items():
        ref = f"{get_column_letter(col)}{row}"
        style = re.search(rb' s="(\d+)"', current.get(col, b""))
        if value in (None, ""):
            current.pop(col, None)
            continue
        new = _cell(ref, value, date_style)
        if style and not isinstance(value, dt.datetime):  # keep the cell's own formatting
            new = new.replace(f'<c r="{ref}"', f'<c r="{ref}" s="{style[1].decode()}"', 1)
        current[col] = new.encode("utf-8")
    # `spans` is only a hint of the row's first and last columns; drop it, cells may widen.
    attrs = re.sub(rb'\s*spans="[^"]*"', b"", m[1] + b'r="' + n + b'"' + m[2])
    row_xml = b"<row" + attrs + b">" + b"".join(current[c] for c in sorted(current)) + b"</row>"
    return xml[:m.start()] + row_xml + xml[end:]
