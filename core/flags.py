"""Classification flags for each row: urgent (R-URGENT), repeat and possible repeat
(R-REPEAT), group (R-GROUP) and trend (R-TREND); thresholds from the policy."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.policy import Policy
from core.schema import fold

FLAGS = ("urgent", "repeat", "possible_repeat", "group", "trend")
ROUTING = {"A": "leadership", "B": "working_group", "C": "office"}  # R-WARN


def _possible_repeats(table: pd.DataFrame, days: int) -> pd.Series:
    """A row whose contact and respondent match an earlier row within `days` days."""
    key = fold(table["contact"]) + "\x1f" + fold(table["respondent"])
    ok = table["contact"].ne("") & table["respondent"].ne("") & table["received_at"].notna()
    sub = pd.DataFrame({"key": key[ok], "t": table.loc[ok, "received_at"]}).sort_values(["key", "t"])
    prev = sub.groupby("key")["t"].shift()
    hit = (sub["t"] - prev) <= pd.Timedelta(days=days)
    return hit.reindex(table.index, fill_value=False).astype(bool)


def _groups(table: pd.DataFrame, threshold: int, days: int) -> pd.Series:
    """Each row's group (R-GROUP), "" for none: rows in a window of `days` where more than
    `threshold` distinct complainants raised the same subject against the same respondent.
    Overlapping windows of one matter are one group, so statistics count it once."""
    group = np.full(len(table), "", dtype=object)
    ok = (table["received_at"].notna() & table["subject"].ne("")).to_numpy()
    key = (fold(table["subject"]) + "\x1f" + fold(table["respondent"])).to_numpy()
    who = (fold(table["complainant"]) + "\x1f" + fold(table["contact"])).to_numpy()
    window = np.timedelta64(days, "D")
    sizes = pd.Series(key[ok]).value_counts()
    # Plain Python ints and lists: indexing numpy scalars in this loop was most of its time.
    t_ns = table["received_at"].to_numpy("datetime64[ns]").astype(np.int64)
    people = pd.factorize(who)[0]
    span = int(window / np.timedelta64(1, "ns"))
    for k in sizes.index[sizes > threshold]:
        pos = np.flatnonzero(ok & (key == k))
        pos = pos[np.argsort(t_ns[pos], kind="stable")]
        times, persons = t_ns[pos].tolist(), people[pos].tolist()
        counts: dict[int, int] = {}
        mark = [0] * (len(pos) + 1)
        lo = 0
        for hi, person in enumerate(persons):  # a sliding window, counting distinct people
            counts[person] = counts.get(person, 0) + 1
            while times[hi] - times[lo] > span:
                gone = persons[lo]
                counts[gone] -= 1
                if not counts[gone]:
                    del counts[gone]
                lo += 1
            if len(counts) > threshold:
                mark[lo] += 1
                mark[hi + 1] -= 1
        inside = np.cumsum(mark[:-1]) > 0
        # A run of consecutive flagged rows (in time order) is one group.
        starts = inside & ~np.concatenate(([False], inside[:-1]))
        run = np.cumsum(starts)
        for n in np.unique(run[inside]):
            members = pos[inside & (run == n)]
            group[members] = f"{table['id'].iat[int(members[0])]}+{len(members)}"
    return pd.Series(group, index=table.index, dtype=object)


def _trends(table: pd.DataFrame, threshold: int) -> pd.Series:
    """Rows of a category that has more than `threshold` complaints in one calendar month."""
    ok = table["category"].ne("") & table["received_at"].notna() & table["kind"].eq("complaint")
    when = table["received_at"]
    month = (when.dt.year * 12 + when.dt.month).fillna(0).astype(np.int64)
    pair = pd.Series(pd.factorize(table["category"])[0], index=table.index) * 100_000 + month
    counts = pair[ok].value_counts()
    return ok & pair.isin(counts.index[counts > threshold])


def compute_flags(table: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """One boolean column per flag, aligned with the table."""
    s = policy.settings
    group = _groups(table, int(s["group_threshold"]), int(s["group_window_days"]))
    return pd.DataFrame({
        "urgent": table["urgent"].eq(True).fillna(False).astype(bool),
        "repeat": table["parent_id"].ne(""),
        "possible_repeat": _possible_repeats(table, int(s["repeat_window_days"]))
        & table["parent_id"].eq(""),
        "group": group.ne(""),
        "trend": _trends(table, int(s["trend_threshold"])),
        "group_id": group,
    }, index=table.index)


def flag_lists(flags: pd.DataFrame) -> pd.Series:
    """Each row's flags as a list of names, in FLAGS order."""
    arr = flags[list(FLAGS)].to_numpy()
    names = np.array(FLAGS, dtype=object)
    return pd.Series([list(names[r]) for r in arr], index=flags.index)
