"""Writing rows of an .xlsx without loading it: new <row> elements, or one row's changed
cells, go into the sheet's XML inside the zip; every other part is copied. A clerk's save
then costs a fraction of a second at 10k rows instead of a full openpyxl load and save.

It handles the workbooks this product and Excel write; anything it does not recognise
(an Excel table over the sheet, no date style to reuse) makes it return None, and the
caller falls back to openpyxl.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import zipfile
from xml.sax.saxutils import escape

from openpyxl.utils import get_column_letter

EPOCH = dt.datetime(1899, 12, 30)
DATE_FORMAT = "yyyy-mm-dd hh:mm"
_ROW = re.compile(rb'<row [^>]*?r="(\d+)"')
_SHEET = re.compile(rb'<sheet [^>]*?name="([^"]*)"[^>]*?r:id="([^"]*)"')
_REL = re.compile(rb'<Relationship [^>]*?Id="([^"]*)"[^>]*?Target="([^"]*)"')
_REL2 = re.compile(rb'<Relationship [^>]*?Target="([^"]*)"[^>]*?Id="([^"]*)"')


def _unescape(b: bytes) -> str:
    """XML text to str: named and numeric character references (openpyxl writes Chinese
    as &#37096; when lxml is installed)."""
    return html.unescape(b.decode("utf-8"))


def sheet_paths(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title → its XML part."""
    wb = z.read("xl/workbook.xml")
    rels = z.read("xl/_rels/workbook.xml.rels")
    targets = {i: t for i, t in _REL.findall(rels)} | {i: t for t, i in _REL2.findall(rels)}
    out = {}
    for name, rid in _SHEET.findall(wb):
        target = targets[rid].decode()
        out[_unescape(name)] = target.lstrip("/") if target.startswith("/") else "xl/" + target
    return out


def _date_style(styles: bytes) -> int | None:
    """The cellXfs index of a style with the register's date format, if the file has one."""
    fmt = re.search(rb'<numFmt [^>]*?numFmtId="(\d+)"[^>]*?formatCode="' +
                    re.escape(DATE_FORMAT.encode()) + rb'"', styles)
    if not fmt:
        return None
    xfs = re.search(rb"<cellXfs[^>]*>(.*?)</cellXfs>", styles, re.S)
    if not xfs:
        return None
    for i, xf in enumerate(re.findall(rb"<xf [^>]*?/?>", xfs[1])):
        if re.search(rb'numFmtId="' + fmt[1] + rb'"', xf):
            return i
    return None


def _shared_strings(z: zipfile.ZipFile, wanted: set[int]) -> dict[int, str]:
    if not wanted or "xl/sharedStrings.xml" not in z.namelist():
        return {}
    out: dict[int, str] = {}
    with z.open("xl/sharedStrings.xml") as f:
        data = f.read()
    for i, m in enumerate(re.finditer(rb"<si>(.*?)</si>", data, re.S)):
        if i in wanted:
            out[i] = _unescape(b"".join(re.findall(rb"<t[^>]*>(.*?)</t>", m[1], re.S)))
        if i >= max(wanted):
            break
    return out


def header_of(z: zipfile.ZipFile, sheet_xml: bytes) -> list[object]:
    """The texts of row 1 (shared strings, inline strings or numbers)."""
    m = re.search(rb'<row [^>]*?r="1"[^>]*>(.*?)</row>', sheet_xml, re.S)
    if not m:
        return []
    cells = re.findall(rb'<c r="([A-Z]+)1"([^>]*?)(?:/>|>(.*?)</c>)', m[1], re.S)
    shared = {int(v) for _, attrs, body in cells if b't="s"' in attrs
              for v in re.findall(rb"<v>(\d+)</v>", body or b"")}
    strings = _shared_strings(z, shared)
    from openpyxl.utils import column_index_from_string

    header: list[object] = []
    for col, attrs, body in cells:
        idx = column_index_from_string(col.decode()) - 1
        while len(header) < idx:
            header.append(None)
        body = body or b""
        if b't="s"' in attrs:
            v = re.search(rb"<v>(\d+)</v>", body)
            header.append(strings.get(int(v[1])) if v else None)
        elif b't="inlineStr"' in attrs:
            header.append(_unescape(b"".join(re.findall(rb"<t[^>]*>(.*?)</t>", body, re.S))))
        else:
            v = re.search(rb"<v>(.*?)</v>", body)
            header.append(_unescape(v[1]) if v else None)
    return header


def _cell(ref: str, value: object, date_style: int) -> str:
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, dt.datetime):
        serial = (value.replace(tzinfo=None) - EPOCH) / dt.timedelta(days=1)
        return f'<c r="{ref}" s="{date_style}"><v>{serial!r}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    text = escape(str(value)).replace("\r", "_x000D_")
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def _append_xml(xml: bytes, rows: list[list[object]], date_style: int) -> bytes:
    """The sheet XML with `rows` added under its last row."""
    tail = xml[-200_000:] if len(xml) > 200_000 else xml
    last = max((int(n) for n in _ROW.findall(tail)), default=0)
    if last == 0 and _ROW.search(xml):
        last = max(int(n) for n in _ROW.findall(xml))
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


_CELL = re.compile(rb'<c r="([A-Z]+)(\d+)"([^>]*?)(?:/>|>(.*?)</c>)', re.S)


def _col_index(letters: str) -> int:
    from openpyxl.utils import column_index_from_string

    return column_index_from_string(letters)


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
    current = {_col_index(cm[1].decode()): cm[0] for cm in _CELL.finditer(body)}
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


def rewrite(path, tmp_path, *, appends: list[tuple[str, object]] = (),
            patch: tuple[str, int, dict[int, object]] | None = None) -> bool | None:
    """Write `path` to `tmp_path` with one row's cells replaced and/or rows appended.

    `patch` is (sheet title, row number, {1-based column: value}); `appends` holds
    (sheet title, row-builder) pairs, a row-builder being called with the sheet's header
    row. The zip is copied once. Returns None (writing nothing usable) when this workbook
    needs the openpyxl path.
    """
    with zipfile.ZipFile(path) as z:
        parts = sheet_paths(z)
        date_style = _date_style(z.read("xl/styles.xml"))
        if date_style is None:
            return None
        changed: dict[str, bytes] = {}

        def sheet(title: str) -> tuple[str, bytes] | None:
            part = parts.get(title)
            if part is None:
                return None
            xml = changed.get(part) or z.read(part)
            if b"<tableParts" in xml or b"<sheetData" not in xml:
                return None
            return part, xml

        if patch:
            title, row, cells = patch
            found = sheet(title)
            # Overwriting a shared formula's master cell would break the cells that use it.
            if found is None or b' t="shared"' in found[1]:
                return None
            patched = _patch_row(found[1], row, cells, date_style)
            if not patched:
                return None
            changed[found[0]] = patched
        for title, build in appends:
            found = sheet(title)
            if found is None:
                return None
            part, xml = found
            changed[part] = _append_xml(xml, build(header_of(z, xml)), date_style)
        with zipfile.ZipFile(tmp_path, "w") as out:
            for info in z.infolist():
                data = changed.get(info.filename)
                if data is None:
                    out.writestr(info, z.read(info.filename))
                else:
                    out.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
    return True
