"""Classification flags for each row: urgent (R-URGENT), repeat and possible repeat
(R-REPEAT), group (R-GROUP) and trend (R-TREND); thresholds from the policy."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator

import numpy as np
import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import LCSseq

from core.reading.schema import fold, on_distinct
from core.rules.policy import Policy

FLAGS = ("urgent", "repeat", "possible_repeat", "group", "trend")
ROUTING = {"A": "leadership", "B": "working_group", "C": "office"}  # R-WARN


def _codes(*columns: pd.Series) -> np.ndarray:
    """One integer per row for its combination of folded texts (equal where all are equal)."""
    out = np.zeros(len(columns[0]), dtype=np.int64)
    for col in columns:
        codes, uniques = pd.factorize(fold(col))
        out = out * max(len(uniques), 1) + codes
    return out


def _possible_repeats(table: pd.DataFrame, days: int) -> pd.Series:
    """A row whose contact and respondent match an earlier row within `days` days."""
    ok = (table["contact"].ne("") & table["respondent"].ne("")
          & table["received_at"].notna()).to_numpy()
    key = _codes(table["contact"], table["respondent"])[ok]
    t = table["received_at"].to_numpy("datetime64[us]")[ok]
    order = np.lexsort((t, key))  # stable: of two at the same time, the first row is earlier
    key, t = key[order], t[order]
    hit = np.zeros(len(order), dtype=bool)
    hit[1:] = (key[1:] == key[:-1]) & (t[1:] - t[:-1] <= np.timedelta64(days, "D"))
    out = np.zeros(len(table), dtype=bool)
    out[np.flatnonzero(ok)[order]] = hit
    return pd.Series(out, index=table.index)


def matter_text(subjects: pd.Series, ignore: list[str]) -> pd.Series:
    """A subject reduced to what it is about (R-GROUP): folded; punctuation, numbers (a
    building's, a unit's) and the policy's words that only say something is wrong (坏了, 又,
    不能用, broken…) left out. Chinese words go wherever they occur; Latin ones as whole words.
    A subject with nothing left keeps its folded text. Each distinct subject is reduced once."""
    return on_distinct(fold(subjects), lambda folded: _matter(folded, ignore))


def _matter(folded: pd.Series, ignore: list[str]) -> pd.Series:
    cjk = sorted((w for w in ignore if not w.isascii()), key=len, reverse=True)
    latin = [w.lower() for w in ignore if w.isascii()]
    out = folded.str.replace(r"[^\w\s]+|\d+", " ", regex=True)
    if latin:
        out = out.str.replace(r"\b(?:" + "|".join(map(re.escape, latin)) + r")\b", " ",
                              regex=True)
    if cjk:
        out = out.str.replace("|".join(map(re.escape, cjk)), "", regex=True)
    out = out.str.replace(r"\s+", " ", regex=True).str.strip()
    return out.where(out.ne(""), folded)


def _symbols(texts: np.ndarray) -> list[str]:
    """Texts as sequences of symbols to compare: a Chinese character is one; a Latin word is
    two private-use characters of its own (a word weighs like a two-character Chinese word),
    so "lift" is inside "lift in building" but not inside "light"."""
    words: dict[str, str] = {}

    def one(m: re.Match) -> str:
        k = 2 * len(words) % 0xFFFC
        return words.setdefault(m[0], chr(0xF0000 + k) + chr(0xF0001 + k))

    return [re.sub(r"[a-z]+", one, t).replace(" ", "") for t in texts]


MATTER_SYMBOLS = 60  # a subject's matter is in its first words; longer text is cut for speed


def _unique_rows(a: np.ndarray) -> np.ndarray:
    """np.unique(a, axis=0) for an integer matrix (its rows sorted, each once), by lexsort:
    numpy's own sorts the rows as records, several times slower."""
    if not len(a):
        return a
    a = a[np.lexsort(a.T[::-1])]
    return a[np.r_[True, (a[1:] != a[:-1]).any(axis=1)]]


#: candidate pairs of subjects compared in one rapidfuzz call: their memory stays bounded (a
#: few tens of MB) however many distinct subjects one respondent has in a window
PAIRS_AT_ONCE = 500_000


@functools.lru_cache(maxsize=64)
def _small_pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The index pairs (i, j), i < j, of n things (np.triu_indices), kept for small n."""
    return np.triu_indices(n, 1)


def _pairs(near: np.ndarray) -> Iterator[np.ndarray]:
    """The pairs (near[i], near[j]), i < j, in blocks of about PAIRS_AT_ONCE or fewer."""
    n = len(near)
    if n <= 64:
        i, j = _small_pairs(n)
        yield np.stack([near[i], near[j]], axis=1)
        return
    step = max(1, PAIRS_AT_ONCE // n)
    for lo in range(0, n - 1, step):
        i, j = np.nonzero(np.arange(lo, min(lo + step, n))[:, None] < np.arange(n)[None, :])
        yield np.stack([near[i + lo], near[j]], axis=1)


def _similar(texts: list[str], pairs: np.ndarray, cutoff: float) -> np.ndarray:
    """Which of the `pairs` (i, j) of texts (cut to MATTER_SYMBOLS) are about the same
    matter, by rapidfuzz's LCS of each pair (one call for all): alike as a whole (the Indel
    ratio of rapidfuzz's `fuzz.ratio`) to `cutoff` of 100, or one wholly inside the other
    (电梯 in 3号楼电梯; the shorter of two symbols or more)."""
    if not len(pairs):
        return np.zeros(0, dtype=bool)
    lcs = process.cpdist([texts[i] for i in pairs[:, 0]], [texts[j] for j in pairs[:, 1]],
                         scorer=LCSseq.similarity, dtype=np.int32)
    a = np.fromiter((len(texts[i]) for i in pairs[:, 0]), np.int64, len(pairs))
    b = np.fromiter((len(texts[j]) for j in pairs[:, 1]), np.int64, len(pairs))
    shorter = np.minimum(a, b)
    return (100 * 2 * lcs >= cutoff * (a + b)) | ((shorter >= 2) & (lcs == shorter))


def _leaders(edges: np.ndarray, weight: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Each text's matter: star clustering, so matters never chain (漏水 and 外墙 stay apart
    even though 外墙漏水 is like both). Texts are taken most frequent (then shortest) first;
    each joins the first-taken leader among its similar texts, or leads a matter itself."""
    n = len(weight)
    order = np.lexsort((length, -weight))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    both = np.concatenate([edges, edges[:, ::-1]]) if len(edges) else edges.reshape(0, 2)
    both = both[np.argsort(both[:, 0], kind="stable")]
    start = np.searchsorted(both[:, 0], np.arange(n + 1))
    leader = np.full(n, -1, dtype=np.int64)
    for t in order.tolist():
        near = both[start[t]:start[t + 1], 1]
        lead = near[leader[near] == near]
        leader[t] = t if not len(lead) else lead[np.argmin(rank[lead])]
    return leader


def _crowded(times: list[int], persons: list[int], threshold: int, span: int) -> np.ndarray:
    """Which of these complaints (in time order) lie in a window of `span` with more than
    `threshold` distinct complainants."""
    counts: dict[int, int] = {}
    mark = [0] * (len(times) + 1)
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
    return np.cumsum(mark[:-1]) > 0


def _matters(table: pd.DataFrame, ok: np.ndarray, s: dict, span: int) -> np.ndarray:
    """Each row's matter (R-GROUP), -1 outside `ok`: the same number for rows of one respondent
    whose subjects are about the same thing. Subjects are compared only with those of the
    same respondent within a window of each other (time bins of the window's length, each
    with the next), and only for respondents with more than `group_threshold` complaints."""
    threshold = int(s["group_threshold"])
    who = pd.factorize(fold(table["respondent"]))[0]
    text, texts = pd.factorize(matter_text(table["subject"], list(s["group_ignore_words"]))
                               .to_numpy())
    # a node per (respondent, matter text), numbered in order of first row as the texts are
    codes = np.full(len(table), -1, dtype=np.int64)
    codes[ok], uniques = pd.factorize(who[ok].astype(np.int64) * len(texts) + text[ok])
    symbols = _symbols(texts[uniques % max(len(texts), 1)])
    t_ns = table["received_at"].to_numpy("datetime64[ns]").astype(np.int64)
    person = pd.factorize(who)[0]
    many = np.bincount(person[ok], minlength=person.max() + 1 if len(person) else 0) > threshold
    pick = ok & many[person] if len(person) else ok
    # (respondent, time bin, subject) once each, sorted: a cell is one respondent's bin
    cells = _unique_rows(np.column_stack([person[pick], t_ns[pick] // max(span, 1),
                                          codes[pick]]))
    starts = np.flatnonzero(np.r_[True, (cells[1:, :2] != cells[:-1, :2]).any(axis=1)])
    ends = np.r_[starts[1:], len(cells)]
    # every pair of matter texts that meet in a cell (with the next cell of the respondent),
    # compared a batch at a time
    texts_cut = [x[:MATTER_SYMBOLS] for x in symbols]
    cutoff = float(s["group_similarity"])
    edges: list[np.ndarray] = [np.empty((0, 2), dtype=np.int64)]
    batch: list[np.ndarray] = []

    def compare() -> None:
        if batch:
            pairs = _unique_rows(np.concatenate(batch))
            edges.append(pairs[_similar(texts_cut, pairs, cutoff)])
            batch.clear()

    waiting = 0
    for g, (lo, hi) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        near = cells[lo:hi, 2]
        if g + 1 < len(starts):  # with the next bin of the same respondent
            nxt = cells[starts[g + 1]]
            if nxt[0] == cells[lo, 0] and nxt[1] == cells[lo, 1] + 1:
                near = np.union1d(near, cells[starts[g + 1]:ends[g + 1], 2])
        for block in _pairs(near) if len(near) > 1 else ():
            batch.append(block)
            waiting += len(block)
            if waiting >= PAIRS_AT_ONCE:
                compare()
                waiting = 0
    compare()
    edges = _unique_rows(np.concatenate(edges))
    weight = np.bincount(codes[codes >= 0], minlength=len(uniques))
    leader = _leaders(edges, weight, np.array([len(x) for x in symbols]))
    return np.where(codes >= 0, leader[np.maximum(codes, 0)], -1)


def group_ids(table: pd.DataFrame, policy: Policy) -> pd.Series:
    """Each row's group (R-GROUP), "" for none: complaints about one matter of one (named)
    respondent from more than `group_threshold` distinct complainants (each counted once)
    within `group_window_days`. Overlapping windows of one matter are one group, so the
    statistics count it once; it is named by its first complaint and its number of rows."""
    s = policy.settings
    threshold = int(s["group_threshold"])
    span = int(s["group_window_days"]) * 86_400 * 10**9
    group = np.full(len(table), "", dtype=object)
    ok = (table["kind"].eq("complaint") & table["received_at"].notna()
          & table["subject"].ne("") & table["respondent"].ne("")).to_numpy()
    if ok.sum() <= threshold:
        return pd.Series(group, index=table.index, dtype=object)
    key = _matters(table, ok, s, span)
    people = _codes(table["complainant"], table["contact"])
    t_ns = table["received_at"].to_numpy("datetime64[ns]").astype(np.int64)
    ids = table["id"].to_numpy()
    # the rows of each matter with more than `threshold` rows, matter by matter, each in time
    # order (rows at the same time in row order)
    rows = np.flatnonzero(np.isin(key, np.flatnonzero(np.bincount(key[ok]) > threshold)))
    rows = rows[np.lexsort((t_ns[rows], key[rows]))]
    bounds = (np.flatnonzero(np.r_[True, key[rows][1:] != key[rows][:-1], True]).tolist()
              if len(rows) else [])
    for lo, hi in itertools.pairwise(bounds):
        pos = rows[lo:hi]
        inside = _crowded(t_ns[pos].tolist(), people[pos].tolist(), threshold, span)
        # A run of consecutive crowded rows (in time order) is one group.
        starts = inside & ~np.concatenate(([False], inside[:-1]))
        run = np.cumsum(starts)
        for n in np.unique(run[inside]):
            members = pos[inside & (run == n)]
            group[members] = f"{ids[members[0]]}+{len(members)}"
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
    group = group_ids(table, policy)
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
