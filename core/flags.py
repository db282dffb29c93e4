"""Classification flags for each row: urgent (R-URGENT), repeat and possible repeat
(R-REPEAT), group (R-GROUP) and trend (R-TREND); thresholds from the policy."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.policy import Policy
from core.schema import norm

FLAGS = ("urgent", "repeat", "possible_repeat", "group", "trend")
ROUTING = {"A": "leadership", "B": "working_group", "C": "office"}  # R-WARN


def _possible_repeats(table: pd.DataFrame, days: int) -> pd.Series:
    """A row whose contact and respondent match an earlier row within `days` days."""
    key = table["contact"].map(norm) + "\x1f" + table["respondent"].map(norm)
    ok = table["contact"].ne("") & table["respondent"].ne("") & table["received_at"].notna()
    sub = pd.DataFrame({"key": key[ok], "t": table.loc[ok, "received_at"]}).sort_values(["key", "t"])
    prev = sub.groupby("key")["t"].shift()
    hit = (sub["t"] - prev) <= pd.Timedelta(days=days)
    return hit.reindex(table.index, fill_value=False).astype(bool)


def _groups(table: pd.DataFrame, threshold: int, days: int) -> pd.Series:
    """Rows in a window of `days` where more than `threshold` distinct complainants raised
    the same subject against the same respondent."""
    out = pd.Series(False, index=table.index)
    ok = table["received_at"].notna() & table["subject"].ne("")
    key = table["subject"].map(norm) + "\x1f" + table["respondent"].map(norm)
    sizes = key[ok].value_counts()
    window = pd.Timedelta(days=days)
    for k in sizes.index[sizes > threshold]:
        rows = table.loc[ok & key.eq(k), ["received_at", "complainant", "contact"]]
        rows = rows.sort_values("received_at")
        who = (rows["complainant"].map(norm) + "\x1f" + rows["contact"].map(norm)).to_numpy()
        t = rows["received_at"].to_numpy()
        lo = 0
        for hi in range(len(rows)):
            while t[hi] - t[lo] > window:
                lo += 1
            if len(set(who[lo:hi + 1])) > threshold:
                out[rows.index[lo:hi + 1]] = True
    return out


def _trends(table: pd.DataFrame, threshold: int) -> pd.Series:
    """Rows of a category that has more than `threshold` complaints in one calendar month."""
    ok = table["category"].ne("") & table["received_at"].notna() & table["kind"].eq("complaint")
    month = table["received_at"].dt.to_period("M")
    counts = pd.DataFrame({"c": table["category"], "m": month})[ok].value_counts()
    hot = set(counts.index[counts > threshold])
    if not hot:
        return pd.Series(False, index=table.index)
    pairs = pd.Series(list(zip(table["category"], month, strict=True)), index=table.index)
    return ok & pairs.isin(hot)


def compute_flags(table: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """One boolean column per flag, aligned with the table."""
    s = policy.settings
    return pd.DataFrame({
        "urgent": table["urgent"].eq(True).fillna(False).astype(bool),
        "repeat": table["parent_id"].ne(""),
        "possible_repeat": _possible_repeats(table, int(s["repeat_window_days"]))
        & table["parent_id"].eq(""),
        "group": _groups(table, int(s["group_threshold"]), int(s["group_window_days"])),
        "trend": _trends(table, int(s["trend_threshold"])),
    }, index=table.index)


def flag_lists(flags: pd.DataFrame) -> pd.Series:
    """Each row's flags as a list of names, in FLAGS order."""
    arr = flags[list(FLAGS)].to_numpy()
    names = np.array(FLAGS, dtype=object)
    return pd.Series([list(names[r]) for r in arr], index=flags.index)
