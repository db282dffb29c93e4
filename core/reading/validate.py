"""Row validation: type every cell of the Complaints tab and check each row's rules."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import RegisterError
from core.reading.i18n import message
from core.reading.parse import Bad, parse_column, text_of
from core.reading.raw import RawTab
from core.reading.schema import Choice, Column, Schema, Tab, ValueSet, fold


@dataclass
class Problem:
    """Something wrong with one cell or row, located by sheet row number and column key."""

    row: int
    column: str
    code: str
    params: dict[str, str] = field(default_factory=dict)

    def message(self, tab: Tab, lang: str = "en") -> str:
        col = tab.column(self.column) if self.column in {c.key for c in tab.columns} else None
        params = {**self.params}
        for k in ("other",):
            if k in params and params[k] in {c.key for c in tab.columns}:
                params[k] = tab.column(params[k]).header(lang)
        # A value shown in both languages comes as NAME_zh and NAME_en.
        for k in [k for k in params if k.endswith("_zh")]:
            params[k[:-3]] = params[k if lang == "zh" else k[:-3] + "_en"]
        return message("problems", self.code, lang,
                       column=col.header(lang) if col else self.column, **params)


SATISFIED = ("satisfied", "very_satisfied")


def satisfaction_item(table: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    """R-CLOSE 7 (one definition, used by core.rules.closure and by row validation, so that a write
    closing an unsatisfied complaint is refused whatever preset): where it applies (complaints
    that may be valid: not rejected, not invalid), where it holds (satisfied or very
    satisfied, or escalated after a reprocessing), and where it fails because the escalation
    came before any reprocessing (R-REOPEN)."""
    applies = (table["kind"].eq("complaint") & ~table["accepted"].eq(False).fillna(False)
               & table["validity"].ne("invalid")).astype(bool)
    escalated = table["escalated"].eq(True).fillna(False).astype(bool)
    reprocessed = table["reprocess_count"].fillna(0).astype(int) >= 1
    ok = table["satisfaction"].isin(SATISFIED) | (escalated & reprocessed)
    return applies, ok, escalated & ~reprocessed


def satisfaction_problems(table: pd.DataFrame, satisfaction: ValueSet) -> list[Problem]:
    """R-CLOSE 7 on closed complaints: the value shown as its label in both languages."""
    applies, ok, early = satisfaction_item(table)
    fail = table["closed_at"].notna() & applies & ~ok
    out = []
    for r in table.index[(fail & early).to_numpy()]:
        out.append(Problem(int(r), "reprocess_count", "escalated_before_reprocess"))
    for r in table.index[(fail & ~early).to_numpy()]:
        v = table.at[r, "satisfaction"]
        out.append(Problem(int(r), "satisfaction", "closed_unsatisfied", {
            "value_zh": satisfaction.label(v, "zh") if v else "—",
            "value_en": satisfaction.label(v, "en") if v else "—"}))
    return out


def raw_frame(tab: Tab, raw: RawTab) -> pd.DataFrame:
    """The tab's rows as an object DataFrame of its known columns, blank rows dropped.

    The index is the sheet row number (the header's row + 1 for the first data row), so
    nothing loses its place.
    """
    if not raw.header or all(text_of(h) == "" for h in raw.header):
        raise RegisterError(f"The {tab.en} ({tab.zh}) tab has no header row; put the column "
                            f"names in row 1 or run `python -m core init`.")
    cols = tab.match_headers(raw.header)
    missing = [c for c in tab.columns if c.required and c.key not in cols]
    if missing:
        names = ", ".join(f"{c.en} ({c.zh})" for c in missing)
        raise RegisterError(f"The {tab.en} ({tab.zh}) tab has no column for {names}; add the "
                            f"header or run `python -m core init`.")
    if raw.columns is not None:
        return _column_frame(tab, raw, cols)
    width = max(len(raw.header), max((len(r) for r in raw.rows), default=0))
    rows = raw.rows
    if any(len(r) != width for r in rows):  # Google leaves out trailing empty cells
        rows = [list(r) + [None] * (width - len(r)) for r in rows]
    grid = pd.DataFrame(rows, columns=range(width) if rows else None, dtype=object)
    if grid.empty:
        return pd.DataFrame({c.key: pd.Series([], dtype=object) for c in tab.columns})
    grid.index = np.arange(raw.header_row + 1, raw.header_row + 1 + len(grid))
    # A row is empty when every cell is blank (or only spaces). Rows with any of the key
    # columns filled are not; only the others are looked at cell by cell.
    keys = [cols[c.key] for c in tab.columns if c.required and c.key in cols]
    key_cells = grid[keys]
    maybe = (key_cells.isna() | key_cells.map(lambda v: isinstance(v, str) and not v.strip())
             ).all(axis=1).to_numpy()
    empty = np.zeros(len(grid), dtype=bool)
    for i in np.flatnonzero(maybe):
        empty[i] = all(text_of(v) == "" for v in grid.iloc[i])
    grid = grid[~empty]
    out = {c.key: grid[cols[c.key]] if c.key in cols else pd.Series(None, index=grid.index,
                                                                    dtype=object)
           for c in tab.columns}
    return pd.DataFrame(out, index=grid.index)


def _column_frame(tab: Tab, raw: RawTab, cols: dict[str, int]) -> pd.DataFrame:
    """raw_frame for a tab read as Arrow columns: the same rows, the cells left as Arrow
    text (typing reads them whole)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = raw.height
    index = np.arange(raw.header_row + 1, raw.header_row + 1 + n)

    def filled(arr) -> np.ndarray:
        """Where a cell holds more than spaces."""
        if arr.null_count == len(arr):
            return np.zeros(len(arr), dtype=bool)
        if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
            return arr.is_valid().to_numpy(zero_copy_only=False)
        has = pc.not_equal(pc.utf8_trim_whitespace(arr), "")
        return pc.fill_null(has, False).to_numpy(zero_copy_only=False)

    # A row is empty when every cell is blank: the key columns are looked at first, and only
    # the rows blank there are looked at across every column.
    keys = [cols[c.key] for c in tab.columns if c.required and c.key in cols]
    kept = np.zeros(n, dtype=bool)
    for k in keys:
        kept |= filled(raw.columns[k])
    maybe = np.flatnonzero(~kept)
    if len(maybe):
        pick = pa.array(maybe)
        for c in raw.columns:
            kept[maybe] |= filled(c.take(pick))
    rows = np.flatnonzero(kept)
    whole = len(rows) == n
    take = None if whole else pa.array(rows)
    out = {}
    for c in tab.columns:
        if c.key in cols and cols[c.key] < len(raw.columns):
            arr = raw.columns[cols[c.key]]
            arr = arr if whole else arr.take(take)
            if not pa.types.is_string(arr.type):
                arr = arr.cast(pa.string())
            out[c.key] = pd.Series(pd.arrays.ArrowExtensionArray(arr), index=index[rows])
        else:
            out[c.key] = pd.Series(None, index=index[rows], dtype=object)
    return pd.DataFrame(out, index=index[rows])


def type_frame(tab: Tab, frame: pd.DataFrame, value_sets: dict[str, ValueSet],
               tz: dt.tzinfo | None) -> tuple[pd.DataFrame, list[Problem]]:
    """Parse every column; a cell that cannot be typed becomes blank plus a Problem."""
    typed: dict[str, object] = {}
    problems: list[Problem] = []
    for col in tab.columns:
        vs = value_sets.get(col.values or ("category" if col.type == "category" else ""))
        raw = frame[col.key]
        blank = (_blank_column(col, vs, tz, raw.index)
                 if raw.dtype == object and raw.isna().all() else None)
        if blank is not None:  # no cell filled (most columns of one new row): as parsed
            typed[col.key] = blank
            continue
        values, bad = parse_column(raw, col, vs, tz)
        typed[col.key] = values
        problems += [Problem(int(r), col.key, b.code, dict(b.params)) for r, b in bad.items()]
    return pd.DataFrame(typed, index=frame.index), problems


_BLANK: dict[tuple[int, int, object], tuple[Column, ValueSet | None, object]] = {}


def _blank_column(col: Column, vs: ValueSet | None, tz: dt.tzinfo | None,
                  index: pd.Index) -> pd.Series | None:
    """What parse_column gives for empty cells of `col` at `index`: its one-cell result
    repeated, of the same type (None when an empty cell would be a problem: then the column
    is parsed)."""
    key = (id(col), id(vs), tz)
    got = _BLANK.get(key)
    if got is None or got[0] is not col or got[1] is not vs:
        values, bad = parse_column(pd.Series([None], dtype=object), col, vs, tz)
        if len(_BLANK) >= 512:  # value sets made per policy: never more than a few in use
            _BLANK.clear()
        got = _BLANK[key] = (col, vs, None if bad else pd.Series(values))
    one = got[2]
    if one is None:
        return None
    return pd.Series(one.array.take(np.zeros(len(index), dtype=np.intp)), index=index,
                     dtype=one.dtype)


def check_rows(table: pd.DataFrame, schema: Schema, lang_sets: dict[str, ValueSet],
               bad_cells: set[tuple[int, str]]) -> list[Problem]:
    """Row rules: required fields, repeated numbers, milestone order (R-FLOW), R-ACCEPT's
    ground, R-RECUSE, R-CLOSE 7 and links to unknown complaints. Rules that need the policy
    (the rest of R-CLOSE, clocks, the time bar) run on the whole register (core.rules.register)."""
    tab = schema.tab("complaints")
    problems: list[Problem] = []
    for col in tab.columns:
        if not col.required:
            continue
        s = table[col.key]
        empty = s.isna() if s.dtype.kind == "M" else s.eq("")
        for r in table.index[empty.to_numpy()]:
            if (r, col.key) not in bad_cells:
                problems.append(Problem(int(r), col.key, "required"))
    ids = table["id"]
    folded = fold(ids)
    dup = ids.ne("") & folded.duplicated()
    if dup.any():
        first = folded[~folded.duplicated()].reset_index().set_index("id")["index"]
        for r in table.index[dup.to_numpy()]:
            problems.append(Problem(int(r), "id", "duplicate_id",
                                    {"value": ids[r], "first": str(first[folded[r]])}))
    for earlier, later in schema.milestone_order:
        a, b = table[earlier], table[later]
        wrong = b.to_numpy() < a.to_numpy()  # datetime64: never where either is blank (NaT)
        if not wrong.any():
            continue
        code = "before_received" if earlier == "received_at" else "before_milestone"
        for r in table.index[wrong]:
            fmt = "%Y-%m-%d %H:%M"
            problems.append(Problem(int(r), later, code, {
                "value": b[r].strftime(fmt), "received": a[r].strftime(fmt),
                "other": earlier, "other_value": a[r].strftime(fmt)}))
    grounds = lang_sets["reject_reason"]
    rejected = table["accepted"].eq(False).fillna(False) & table["reject_reason"].eq("")
    for r in table.index[rejected.to_numpy()]:
        if (r, "reject_reason") not in bad_cells:
            problems.append(Problem(int(r), "reject_reason", "reject_without_reason", {
                "allowed": " / ".join(f"{c.zh} {c.en}" for c in grounds.choices)}))
    handler = fold(table["handler"])
    recuse = handler.ne("") & handler.eq(fold(table["respondent"]))
    for r in table.index[recuse.to_numpy()]:
        problems.append(Problem(int(r), "handler", "handler_is_respondent",
                                {"value": table.at[r, "handler"]}))
    problems += satisfaction_problems(table, lang_sets["satisfaction"])
    parents = table["parent_id"]
    known = set(folded[ids.ne("")])
    orphan = parents.ne("") & ~fold(parents).isin(known)
    for r in table.index[orphan.to_numpy()]:
        problems.append(Problem(int(r), "parent_id", "unknown_parent", {"value": parents[r]}))
    return problems


def time_bar_problems(table: pd.DataFrame, years: int, ground: Choice) -> list[Problem]:
    """R-ACCEPT: a complaint received more than `years` years after the complainant knew (or
    should have known) of the harm is not accepted, on the ground of the time bar; that
    ground needs the date the harm was known, within the bar or not."""
    known = table["harm_known_at"]
    barred = known.notna() & (table["received_at"] > known + pd.DateOffset(years=years))
    complaint = table["kind"].eq("complaint")
    accepted = ~table["accepted"].eq(False).fillna(False).astype(bool)
    barred_ground = table["reject_reason"].eq(ground.key)
    out = []
    fmt = "%Y-%m-%d"
    for r in table.index[(complaint & barred & accepted).to_numpy()]:
        out.append(Problem(int(r), "accepted", "time_barred_accepted", {
            "known": known[r].strftime(fmt), "years": str(years), "ground_zh": ground.zh,
            "ground_en": ground.en}))
    for r in table.index[(complaint & ~accepted & barred_ground & known.isna()).to_numpy()]:
        out.append(Problem(int(r), "harm_known_at", "time_barred_without_date"))
    for r in table.index[(complaint & ~accepted & barred_ground & known.notna() & ~barred).to_numpy()]:
        out.append(Problem(int(r), "reject_reason", "time_barred_within", {
            "known": known[r].strftime(fmt), "years": str(years)}))
    return out


# The whole register is typed and checked column by column, not by a pydantic model a row
# (pydantic is for one file or one record: core.reading.schema, core.rules.policy, core.commands.intake.Fields).
# bench/row_model.py, on a 100k-row workbook as read: a model of one Complaints row (its 68
# columns typed, enumerations looked up) took 5.4-6.1 s CPU for the 100k rows (54-61 µs a
# row), 2.6-3.4x what this whole function took in the same run (1.8-2.1 s CPU, row rules and
# problems included) — before any rule, and the rules here compare rows (duplicate numbers).
def validate(tab: Tab, raw: RawTab, schema: Schema, categories: ValueSet,
             tz: dt.tzinfo | None) -> tuple[pd.DataFrame, list[Problem]]:
    """The typed Complaints table (index = sheet row) and every problem, sorted by row."""
    frame = raw_frame(tab, raw)
    sets = {**schema.value_sets, "category": categories}
    table, problems = type_frame(tab, frame, sets, tz)
    table["kind"] = table["kind"].where(table["kind"].ne(""), "complaint")
    bad_cells = {(p.row, p.column) for p in problems}
    problems += check_rows(table, schema, sets, bad_cells)
    order = {c.key: i for i, c in enumerate(tab.columns)}
    problems.sort(key=lambda p: (p.row, order.get(p.column, 99)))
    return table, problems


__all__ = ["Bad", "Problem", "check_rows", "raw_frame", "time_bar_problems", "type_frame", "validate"]
