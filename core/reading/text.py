"""Text a spreadsheet can hold: what people paste is kept, except characters XML 1.0
forbids, which would make the workbook unreadable for Excel, WPS and openpyxl.

Word's manual line break (vertical tab) and page break (form feed) become line breaks; the
other control characters (NUL, ESC, …), unpaired surrogates and the non-characters U+FFFE
and U+FFFF are removed. The caller tells the user what was changed.
"""

from __future__ import annotations

import re

# Tab, line feed and carriage return are the only C0 characters XML 1.0 allows.
_LINE_BREAKS = {"\x0b": "\n", "\x0c": "\n"}
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# Excel reads _xHHHH_ in cell text as the character U+HHHH; a literal one is escaped by
# writing its underscore as _x005F_.
_EXCEL_ESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")


def clean(text: str) -> tuple[str, int]:
    """`text` without the characters a spreadsheet cannot hold, and how many were changed."""
    if not _FORBIDDEN.search(text):
        return text, 0
    n = 0

    def fix(m: re.Match) -> str:
        nonlocal n
        n += 1
        return _LINE_BREAKS.get(m[0], "")

    return _FORBIDDEN.sub(fix, text), n


def for_xlsx(text: str) -> str:
    """Cell text as an .xlsx stores it so that Excel and calamine read back what was typed:
    forbidden characters cleaned, a literal `_xHHHH_` escaped, CR kept as Excel's _x000D_
    (an XML parser would turn a bare CR into LF)."""
    text = clean(text)[0]
    return _EXCEL_ESCAPE.sub(r"_x005F_\1", text).replace("\r", "_x000D_")
