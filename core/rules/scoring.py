"""Department scoring per review cycle (R-SCORE-1…6); every number from the policy."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.reading.i18n import label
from core.reading.schema import fold, norm
from core.rules.deadlines import END_OF_DAY
from core.rules.period import parse_period
from core.rules.register import Register

DAY = pd.Timedelta(days=1)
WEEK = pd.Timedelta(days=7)


def _begun(when: np.datetime64, due: np.ndarray, total: np.ndarray,
           unit: np.timedelta64) -> np.ndarray:
    """How many units (days or weeks) of lateness had begun before `when`: the k-th begins
    at due + (k-1) units, and a clock has `total` in all (no limit where it is unknown)."""
    begun = np.maximum(np.ceil((when - due) / unit), 0)  # NaN where there is no due
    begun = np.where(np.isnan(total), begun, np.minimum(begun, total))
    return np.nan_to_num(begun, nan=0).astype(int)


def _repeats(reg: Register, rect: str | None) -> tuple[pd.Series, pd.Series, pd.Series]:
    """R-SCORE-4, for each complaint: whether it has a rectification period (the preset's
    rectification clock, from its start to its due: the period the seed's improvement
    proposal names), the first repeat received within it, and every repeat's received time
    (for complaints without such a period, where the review cycle itself is the period)."""
    t = reg.table
    numbers, distinct = pd.factorize(fold(t["id"]).to_numpy(dtype=object))
    first = t.index.to_numpy()[np.unique(numbers, return_index=True)[1]]  # each number's row
    is_kid = (t["kind"].eq("complaint") & t["parent_id"].ne("")
              & t["received_at"].notna()).to_numpy(dtype=bool)
    found = pd.Index(distinct).get_indexer(fold(t["parent_id"][is_kid]).to_numpy(dtype=object))
    parent = np.where(found >= 0, first[np.maximum(found, 0)], -1).astype(np.int64)  # -1: none
    at = t["received_at"].to_numpy()[is_kid][parent >= 0]
    every = pd.Series(at, index=pd.Index(parent[parent >= 0], name="parent"), name="at")
    window = pd.Series(pd.NaT, index=t.index, dtype="datetime64[us]")
    opens = window.copy()
    if rect and rect in reg.clocks:
        opens, window = reg.clocks[rect]["start"], reg.clocks[rect]["due"]
    at_parent = t.index.get_indexer(every.index)
    lo, hi = opens.to_numpy()[at_parent], window.to_numpy()[at_parent]
    within = every[(at >= lo) & (at <= hi)].groupby(level=0).min().reindex(t.index)
    return window.notna(), within, every


def _late_clock(reg: Register, clock_id: str | None, kind: str, period,
                repeats: tuple[pd.Series, pd.Series, pd.Series]) -> pd.DataFrame:
    """Each row's lateness on `clock_id` that falls in the period (R-SCORE-1), the doubling
    that falls in it (R-SCORE-4), and agreed extensions first due in it (R-SCORE-2).

    A unit of lateness counts in the cycle in which it begins, so a closed cycle's figure
    never changes: a clock late across months costs each month its own days (or weeks), and
    a clock stops at its milestone or, failing that, at the complaint's closing.
    """
    cols = ["row", "id", "department", "clock", "kind", "due", "late_days", "units", "extra",
            "exempt"]
    if not clock_id or clock_id not in reg.clocks:
        return pd.DataFrame(columns=cols)
    c, t = reg.clocks[clock_id], reg.table
    now = pd.Timestamp(reg.now)
    start = period.start
    stop = max(min(period.end, now), start)
    start64, stop64 = np.datetime64(start), np.datetime64(stop)
    agreed = t["extension_agreed"].eq(True).fillna(False).to_numpy(dtype=bool)
    extended = c["extended"].to_numpy(dtype=bool)
    original = c["original_due"].to_numpy()
    due = np.where(~extended | agreed, c["due"].to_numpy(), original)  # R-SCORE-2
    end = c["end"].to_numpy()
    end = np.where(np.isnat(end), np.datetime64(now).astype(end.dtype), end)
    end = np.where(np.isnat(c["start"].to_numpy()), np.datetime64("NaT"), end)
    scored = ~np.isnat(due) & t["department"].ne("").to_numpy(dtype=bool)
    unit = (DAY if kind == "result" else WEEK).to_timedelta64()
    day = DAY.to_timedelta64()
    total = np.maximum(np.ceil((end - due) / unit), 0)
    days_total = np.maximum(np.ceil((end - due) / day), 0)
    # A clock due at the end of a day (23:59:59) is late from the next midnight: its first
    # day late falls on the next day, and in the next cycle when the due day ends one.
    eod = due.astype("datetime64[D]").astype(due.dtype) + END_OF_DAY.to_timedelta64()
    late_from = np.where(due != eod, due, due + np.timedelta64(1, "s"))
    before = _begun(stop64, late_from, total, unit)
    units = before - _begun(start64, late_from, total, unit)
    days = _begun(stop64, late_from, days_total, day) - _begun(start64, late_from, days_total, day)
    # R-SCORE-4: with a repeat in the rectification period, each unit is charged again at the
    # later of its own start and the repeat's arrival; without such a period, a repeat in
    # the same review cycle doubles that cycle's units.
    has_period, within, every = repeats
    within = within.to_numpy()
    extra = np.select([within < start64, within < stop64], [units, before], 0)
    in_cycle = t.index.isin(every[(every >= start) & (every < stop)].index.unique())
    extra = np.where(has_period.to_numpy(dtype=bool), extra, np.where(in_cycle, units, 0))
    exempt = (scored & extended & agreed & (original >= start64) & (original < stop64)
              & (end > original))
    pick = scored & ((units > 0) | (extra > 0) | exempt)
    return pd.DataFrame({"row": t.index[pick], "id": t["id"].to_numpy()[pick],
                         "department": t["department"].to_numpy()[pick], "clock": clock_id,
                         "kind": kind, "due": due[pick], "late_days": days[pick],
                         "units": units[pick], "extra": extra[pick], "exempt": exempt[pick]})


def _persons(reg: Register) -> pd.Series:
    """Rows whose respondent is a person, not a department (R-SCORE-3)."""
    t = reg.table
    dept_names = {norm(n) for n in reg.departments} | set(fold(t["department"]))
    return t["respondent"].ne("") & ~fold(t["respondent"]).isin(dept_names)


def department_scores(reg: Register, period_text: str) -> dict:
    """Each department's points for the cycle, with the deductions and exemptions behind them.

    Final once the cycle has ended: the same figures whatever `reg.now` is after it."""
    period = parse_period(period_text)
    sc = reg.policy.scoring
    t = reg.table
    rect = sc.get("rectification_clock")
    # the same for every cycle of this register (the scores page asks for month after month)
    repeats = reg.derived(("score_repeats", rect), lambda: _repeats(reg, rect))
    late = pd.concat([_late_clock(reg, sc.get("result_clock"), "result", period, repeats),
                      _late_clock(reg, sc.get("rectification_clock"), "rectification", period,
                                  repeats)])
    depts: dict[str, dict] = {}

    def dept(name: str) -> dict:
        return depts.setdefault(name, {"department": name, "deductions": [], "exemptions": [],
                                       "praised": [], "complained_about": [],
                                       "points_lost": 0, "points_gained": 0})

    for r in late.itertuples(index=False):
        d = dept(r.department)
        entry = {"row": int(r.row), "id": r.id, "clock": r.clock, "kind": r.kind,
                 "due": reg.localize(r.due).isoformat(), "late_days": int(r.late_days)}
        if r.exempt:
            d["exemptions"].append(entry)
            if not (r.units or r.extra):
                continue
        # R-SCORE-1: a point per day late on the result, per week late on the rectification
        per = sc["points_per_day_late" if r.kind == "result" else "points_per_week_late"]
        extra = int(r.extra) * (sc["repeat_multiplier"] - 1)  # R-SCORE-4
        entry.update(points=int(r.units + extra) * per, doubled=bool(r.extra))
        d["deductions"].append(entry)
        d["points_lost"] += entry["points"]
    in_period = period.contains(t["received_at"]) & t["department"].ne("")
    person = reg.derived(("score_person",), lambda: _persons(reg))
    praise = t.loc[in_period & t["kind"].eq("praise") & person, ["department", "respondent"]]
    for (dname, who), n in praise.groupby(["department", "respondent"]).size().items():
        if n >= sc["praise_min_count"]:  # R-SCORE-3: repeatedly praised
            d = dept(dname)
            d["praised"].append({"employee": who, "praises": int(n),
                                 "points": sc["praise_bonus"]})
            d["points_gained"] += sc["praise_bonus"]
    direct = t.loc[in_period & t["kind"].eq("complaint") & person & t["validity"].eq("valid"),
                   ["department", "respondent"]]
    for (dname, who), n in direct.groupby(["department", "respondent"]).size().items():
        d = dept(dname)
        d["complained_about"].append({"employee": who, "complaints": int(n),
                                      "points": sc["direct_complaint_penalty"]})
        d["points_lost"] += sc["direct_complaint_penalty"]
    yuan = sc["yuan_per_point"]
    rows = []
    for d in sorted(depts.values(), key=lambda d: (-d["points_lost"], d["department"])):
        d["net"] = d["points_gained"] - d["points_lost"]
        d["yuan"] = d["net"] * yuan  # R-SCORE-5
        d["escalated"] = d["points_lost"] >= sc["escalation_points"]  # R-SCORE-6
        rows.append(d)
    individuals = ([{"employee": p["employee"], "department": d["department"],
                     "yuan": p["praises"] * yuan} for d in rows for p in d["praised"]]
                   + [{"employee": p["employee"], "department": d["department"],
                       "yuan": -p["complaints"] * yuan} for d in rows for p in
                      d["complained_about"]])
    # R-CAL: scores count working days, so they say when a year's calendar is not known
    warnings = [{"code": w.code, **w.params, "zh": w.message("zh"), "en": w.message("en")}
                for w in reg.warnings if w.code == "calendar_year"]
    return {"policy": reg.policy.name, "period": period.label, "yuan_per_point": yuan,
            "escalation_points": sc["escalation_points"], "departments": rows,
            "individuals": individuals, "warnings": warnings}



def score_table(result: dict, lang: str = "en", policy=None) -> str:
    """The scores as lines a person reads in a terminal; with the `policy` they came from,
    clocks by their names."""
    zh = lang == "zh"
    names = {c.id: (c.zh if zh else c.en) for c in policy.clocks} if policy else {}
    head = (f"{result['period']} 部门考核（政策 {result['policy']}）" if zh else
            f"Department scores for {result['period']} (policy {result['policy']})")
    out = [head]
    out += [("警告：" if zh else "Warning: ") + w[lang] for w in result.get("warnings", [])]
    if not result["departments"]:
        out.append("本期没有扣分或加分。" if zh else "No deductions or bonuses in this period.")
    for d in result["departments"]:
        flag = ("  ← 须向总裁当面汇报" if zh else "  <- must report to the top executive") \
            if d["escalated"] else ""
        out.append(f"  {d['department']}: -{d['points_lost']} +{d['points_gained']} = "
                   f"{d['net']} ({d['yuan']} {'元' if zh else 'yuan'}){flag}")
        for e in d["deductions"]:
            clock = names.get(e["clock"], e["clock"])
            out.append(f"      第 {e['row']} 行 {e['id']} {clock} 逾期 {e['late_days']} 天 "
                       f"-{e['points']}{'（重复投诉加倍）' if e['doubled'] else ''}" if zh else
                       f"      row {e['row']} {e['id']} {clock} {e['late_days']}d late "
                       f"-{e['points']}{' x2 repeat' if e['doubled'] else ''}")
        for e in d["complained_about"]:  # R-SCORE-3: once per employee, however many
            out.append(f"      {e['employee']}：被直接投诉 {e['complaints']} 次 -{e['points']}" if zh
                       else f"      {e['employee']}: directly complained about "
                            f"{label('times', lang, n=e['complaints'])} -{e['points']}")
        for e in d["praised"]:
            out.append(f"      {e['employee']}：受表扬 {e['praises']} 次 +{e['points']}" if zh
                       else f"      {e['employee']}: praised "
                            f"{label('times', lang, n=e['praises'])} +{e['points']}")
        for e in d["exemptions"]:
            clock = names.get(e["clock"], e["clock"])
            out.append(f"      第 {e['row']} 行 {e['id']} {clock} 免扣（已同意延期）" if zh else
                       f"      row {e['row']} {e['id']} {clock} exempt (agreed extension)")
    return "\n".join(out)
