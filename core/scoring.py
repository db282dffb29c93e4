"""Department scoring per review cycle (R-SCORE-1…6); every number from the policy."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from core.period import parse_period
from core.register import Register
from core.schema import fold, norm


def _late_clock(reg: Register, clock_id: str | None, kind: str, period) -> pd.DataFrame:
    """Rows whose `clock_id` fell due in the period and ended (or is still open) late."""
    cols = ["row", "id", "department", "clock", "kind", "due", "end", "late_days", "exempt"]
    if not clock_id or clock_id not in reg.clocks:
        return pd.DataFrame(columns=cols)
    c, t = reg.clocks[clock_id], reg.table
    agreed = t["extension_agreed"].eq(True).fillna(False).astype(bool)
    due = c["due"].where(~c["extended"] | agreed, c["original_due"])  # R-SCORE-2
    end = c["stop"].fillna(pd.Timestamp(reg.now))
    late = due.notna() & (end > due) & period.contains(due) & t["department"].ne("")
    exempt = (c["extended"] & agreed & due.notna() & (end <= due) & (end > c["original_due"])
              & period.contains(c["original_due"]) & t["department"].ne(""))
    pick = late | exempt
    days = np.ceil(((end - due) / pd.Timedelta(days=1)).where(late, 0)).astype(int)
    return pd.DataFrame({"row": t.index[pick], "id": t.loc[pick, "id"],
                         "department": t.loc[pick, "department"], "clock": clock_id,
                         "kind": kind, "due": due[pick], "end": end[pick],
                         "late_days": days[pick], "exempt": exempt[pick]})


def department_scores(reg: Register, period_text: str) -> dict:
    """Each department's points for the cycle, with the deductions and exemptions behind them."""
    period = parse_period(period_text)
    sc = reg.policy.scoring
    t = reg.table
    late = pd.concat([_late_clock(reg, sc.get("result_clock"), "result", period),
                      _late_clock(reg, sc.get("rectification_clock"), "rectification", period)])
    # R-SCORE-4: a repeat in the same cycle, against the same department, doubles.
    repeats = t[t["parent_id"].ne("") & period.contains(t["received_at"])]
    caused = {(norm(p), norm(d)) for p, d in zip(repeats["parent_id"], repeats["department"],
                                                  strict=True)}
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
            continue
        if r.kind == "result":  # R-SCORE-1: per day late
            points = r.late_days * sc["points_per_day_late"]
        else:  # R-SCORE-1: per week late on rectification
            points = math.ceil(r.late_days / 7) * sc["points_per_week_late"]
        doubled = (norm(r.id), norm(r.department)) in caused
        entry.update(points=points * (sc["repeat_multiplier"] if doubled else 1), doubled=doubled)
        d["deductions"].append(entry)
        d["points_lost"] += entry["points"]
    in_period = period.contains(t["received_at"]) & t["department"].ne("")
    dept_names = {norm(n) for n in reg.departments} | set(fold(t["department"]))
    person = t["respondent"].ne("") & ~fold(t["respondent"]).isin(dept_names)
    praise = t[in_period & t["kind"].eq("praise") & person]
    for (dname, who), n in praise.groupby(["department", "respondent"]).size().items():
        if n >= sc["praise_min_count"]:  # R-SCORE-3: repeatedly praised
            d = dept(dname)
            d["praised"].append({"employee": who, "praises": int(n)})
            d["points_gained"] += sc["praise_bonus"]
    direct = t[in_period & t["kind"].eq("complaint") & person & t["validity"].eq("valid")]
    for (dname, who), n in direct.groupby(["department", "respondent"]).size().items():
        d = dept(dname)
        d["complained_about"].append({"employee": who, "complaints": int(n)})
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
    return {"policy": reg.policy.name, "period": period.label, "yuan_per_point": yuan,
            "escalation_points": sc["escalation_points"], "departments": rows,
            "individuals": individuals}



def score_table(result: dict, lang: str = "en") -> str:
    zh = lang == "zh"
    head = (f"{result['period']} 部门考核（政策 {result['policy']}）" if zh else
            f"Department scores for {result['period']} (policy {result['policy']})")
    out = [head]
    if not result["departments"]:
        out.append("本期没有扣分或加分。" if zh else "No deductions or bonuses in this period.")
    for d in result["departments"]:
        flag = ("  ← 须向总裁当面汇报" if zh else "  <- must report to the top executive") \
            if d["escalated"] else ""
        out.append(f"  {d['department']}: -{d['points_lost']} +{d['points_gained']} = "
                   f"{d['net']} ({d['yuan']} {'元' if zh else 'yuan'}){flag}")
        for e in d["deductions"]:
            out.append(f"      row {e['row']} {e['id']} {e['clock']} {e['late_days']}d late "
                       f"-{e['points']}{' x2 repeat' if e['doubled'] else ''}")
        for e in d["complained_about"]:
            out.append(f"      {e['employee']}: {e['complaints']} direct complaint(s) "
                       f"-1" if not zh else f"      {e['employee']}：被直接投诉 {e['complaints']} 次 -1")
        for e in d["praised"]:
            out.append(f"      {e['employee']}: praised {e['praises']} times +1" if not zh
                       else f"      {e['employee']}：受表扬 {e['praises']} 次 +1")
        for e in d["exemptions"]:
            out.append(f"      row {e['row']} {e['id']} {e['clock']} exempt (agreed extension)")
    return "\n".join(out)
