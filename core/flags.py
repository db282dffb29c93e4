"""Classification flags for each row: urgent (R-URGENT), repeat and possible repeat
(R-REPEAT), group (R-GROUP) and trend (R-TREND); thresholds from the policy."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

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


def matter_text(subjects: pd.Series, ignore: list[str]) -> pd.Series:
    """A subject reduced to what it is about (R-GROUP): folded, punctuation and the policy's
    words that only say something is wrong (坏了, 又, 不能用, broken…) left out. Chinese words
    go wherever they occur; Latin ones as whole words. A subject with nothing else left
    keeps its folded text."""
    folded = fold(subjects)
    cjk = sorted((w for w in ignore if not w.isascii()), key=len, reverse=True)
    latin = [w.lower() for w in ignore if w.isascii()]
    out = folded.str.replace(r"[^\w\s]+", " ", regex=True)
    if latin:
        out = out.str.replace(r"\b(?:" + "|".join(map(re.escape, latin)) + r")\b", " ",
                              regex=True)
    if cjk:
        out = out.str.replace("|".join(map(re.escape, cjk)), "", regex=True)
    out = out.str.replace(r"\s+", " ", regex=True).str.strip()
    return out.where(out.ne(""), folded)


def _similar(texts: list[str], cutoff: float) -> np.ndarray:
    """Pairs (i, j) of texts about the same matter: the better of rapidfuzz's ratio and
    partial ratio (one text inside the other: 电梯 in 3号楼电梯) reaches `cutoff`; the partial
    ratio only when the shorter text has two characters or more."""
    ratio = process.cdist(texts, texts, scorer=fuzz.ratio, score_cutoff=cutoff, dtype=np.uint8)
    part = process.cdist(texts, texts, scorer=fuzz.partial_ratio, score_cutoff=cutoff,
                         dtype=np.uint8)
    lengths = np.array([len(x) for x in texts])
    part[np.minimum.outer(lengths, lengths) < 2] = 0
    i, j = np.nonzero(np.triu(np.maximum(ratio, part) > 0, k=1))
    return np.stack([i, j], axis=1)


def _root(parent: np.ndarray, i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def _matters(table: pd.DataFrame, ok: np.ndarray, ignore: list[str], similarity: float,
             days: int, threshold: int) -> np.ndarray:
    """Each row's matter (R-GROUP): an integer shared by rows of one respondent whose subjects
    are about the same thing, -1 outside `ok`. Subjects are compared only with those of the
    same respondent received within `days` of each other (time bins of `days`, each with the
    next), and only for respondents with more than `threshold` rows: no other can hold a group."""
    who = fold(table["respondent"]).to_numpy()
    text = matter_text(table["subject"], ignore).to_numpy()
    node = pd.Series(who + "\x1f" + text)
    codes, uniques = pd.factorize(node.where(ok))
    parent = np.arange(len(uniques))
    t = table["received_at"].to_numpy("datetime64[D]").astype("int64")
    rows = pd.DataFrame({"who": who, "node": codes, "bin": t // max(days, 1)})[ok]
    texts = np.array([u.split("\x1f", 1)[1] for u in uniques], dtype=object)
    for _, part in rows.groupby("who", sort=False):
        if len(part) <= threshold:
            continue
        bins = part.groupby("bin")["node"].unique()
        for b, here in bins.items():
            near = np.unique(np.concatenate([here, bins.get(b + 1, here[:0])]))
            if len(near) < 2:
                continue
            for i, j in _similar(list(texts[near]), similarity):
                a, c = _root(parent, near[i]), _root(parent, near[j])
                if a != c:
                    parent[max(a, c)] = min(a, c)
    roots = np.array([_root(parent, i) for i in range(len(parent))], dtype=np.int64)
    return np.where(codes >= 0, roots[np.maximum(codes, 0)], -1)


def _groups(table: pd.DataFrame, policy: Policy) -> pd.Series:
    """Each row's group (R-GROUP), "" for none: complaints about one matter of one respondent
    from more than `group_threshold` distinct complainants (each counted once) within
    `group_window_days`. Overlapping windows of one matter are one group, so statistics count
    it once; the group is named by its first complaint and its number of rows."""
    s = policy.settings
    threshold, days = int(s["group_threshold"]), int(s["group_window_days"])
    group = np.full(len(table), "", dtype=object)
    ok = (table["kind"].eq("complaint") & table["received_at"].notna()
          & table["subject"].ne("")).to_numpy()
    if ok.sum() <= threshold:
        return pd.Series(group, index=table.index, dtype=object)
    key = _matters(table, ok, list(s["group_ignore_words"]), float(s["group_similarity"]),
                   days, threshold)
    who = (fold(table["complainant"]) + "\x1f" + fold(table["contact"])).to_numpy()
    window = np.timedelta64(days, "D")
    sizes = pd.Series(key[ok]).value_counts()
    # Plain Python ints and lists: indexing numpy scalars in this loop was most of its time.
    t_ns = table["received_at"].to_numpy("datetime64[ns]").astype(np.int64)
    people = pd.factorize(who)[0]
    span = int(window / np.timedelta64(1, "ns"))
    for k in sizes.index[sizes > threshold]:
        pos = np.flatnonzero(key == k)
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
    group = _groups(table, policy)
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
