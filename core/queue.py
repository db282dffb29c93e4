"""The work queue: open complaints by their nearest due clock, with counts for the top."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.closure import open_rows
from core.flow import next_steps
from core.register import Register

LIVE = ("overdue", "due_soon", "running")
QUEUE_COLUMNS = ("id", "subject", "department", "handler", "severity", "warning_level",
                 "category", "channel", "received_at")


def queue_frame(reg: Register) -> pd.DataFrame:
    """One line per open complaint: its nearest live clock, due time and state, and its next
    step and owner (R-FLOW)."""
    rows = open_rows(reg)
    out = reg.table.loc[rows, list(QUEUE_COLUMNS)].copy()
    out = out.join(next_steps(reg))
    dues, states, names = [], [], []
    for cid, c in reg.clocks.items():
        live = c.loc[rows, "state"].isin(LIVE)
        dues.append(c.loc[rows, "due"].where(live))
        states.append(c.loc[rows, "state"].where(live, ""))
        names.append(pd.Series(cid, index=rows))
    if dues:
        due = pd.concat(dues, axis=1)
        due.columns = range(len(dues))
        has = due.notna().any(axis=1).to_numpy()
        ticks = due.to_numpy("datetime64[us]").astype(np.int64)
        ticks[due.isna().to_numpy()] = np.iinfo(np.int64).max
        pick = np.where(has, ticks.argmin(axis=1), 0)
        out["clock"] = np.where(has, np.array(list(reg.clocks), dtype=object)[pick], "")
        out["due"] = due.to_numpy()[np.arange(len(rows)), pick] if len(rows) else []
        out["due"] = pd.to_datetime(out["due"]).where(has)
        st = pd.concat(states, axis=1).to_numpy()
        out["state"] = np.where(has, st[np.arange(len(rows)), pick] if len(rows) else [], "")
    else:
        out["clock"], out["due"], out["state"] = "", pd.NaT, ""
    out.insert(0, "row", rows)
    return out.sort_values(["due", "row"], na_position="last")


def queue_counts(queue: pd.DataFrame, now) -> dict[str, int]:
    today_end = pd.Timestamp(now).normalize() + pd.Timedelta(days=1)
    return {"overdue": int(queue["state"].eq("overdue").sum()),
            "due_today": int((queue["state"].ne("overdue") & (queue["due"] < today_end)).sum()),
            "due_soon": int(queue["state"].eq("due_soon").sum())}


def filter_queue(queue: pd.DataFrame, filters: dict[str, list]) -> pd.DataFrame:
    """Rows whose every filtered column is one of the chosen values (empty: no filter)."""
    keep = pd.Series(True, index=queue.index)
    for col, chosen in filters.items():
        if chosen:
            keep &= queue[col].isin(chosen)
    return queue[keep]
