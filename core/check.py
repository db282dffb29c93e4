"""The `check` result: the JSON contract of DESIGN.md and a readable table."""

from __future__ import annotations

import pandas as pd

from core.flags import ROUTING, flag_lists
from core.register import Register


def check_result(reg: Register, lang: str = "en") -> dict:
    """One JSON-ready object: policy, now, summary, warnings and every row."""
    table = reg.table
    by_row = reg.problems_by_row()
    flags = flag_lists(reg.flags).tolist()
    overdue = pd.Series(False, index=table.index)
    clock_cols = {}
    for cid, c in reg.clocks.items():
        overdue |= c["state"].eq("overdue")
        started = c["due"].notna().to_numpy()
        clock_cols[cid] = (started, c["due"].to_numpy(), c["state"].to_numpy(),
                           c["extended"].to_numpy(), c["original_due"].to_numpy())
    rows = []
    tab = reg.tab
    ids = table["id"].to_numpy()
    severity = table["severity"].to_numpy()
    level = table["warning_level"].to_numpy()
    tz = reg.policy.tz
    iso = {}  # one ISO text per distinct time: most due times repeat

    def when(t) -> str:
        if t not in iso:
            iso[t] = pd.Timestamp(t).to_pydatetime().replace(tzinfo=tz).isoformat()
        return iso[t]

    for pos, r in enumerate(table.index):
        clocks = {}
        for cid, (started, due, state, ext, orig) in clock_cols.items():
            if started[pos]:
                entry = {"due": when(due[pos]), "state": state[pos]}
                if ext[pos]:
                    entry["extended"] = True
                    entry["original_due"] = when(orig[pos])
                clocks[cid] = entry
        rows.append({
            "row": int(r), "id": ids[pos],
            "problems": [{"column": p.column, "message": p.message(tab, lang)}
                         for p in by_row.get(int(r), [])],
            "severity": severity[pos] or None,
            "warning_level": level[pos] or None,
            "routing": ROUTING.get(level[pos]),
            "flags": flags[pos], "clocks": clocks,
        })
    return {
        "policy": reg.policy.name,
        "now": reg.localize(reg.now).isoformat(timespec="seconds"),
        "summary": {"rows": len(table), "with_problems": len(by_row),
                    "overdue": int(overdue.sum())},
        "warnings": [w.message(lang) for w in reg.warnings],
        "rows": rows,
    }


def check_table(result: dict, lang: str = "en") -> str:
    """The check result as lines a person reads in a terminal."""
    zh = lang == "zh"
    s = result["summary"]
    out = [("政策 {p}，时间 {n}：{r} 行，{b} 行有问题，{o} 行逾期。" if zh else
            "Policy {p}, as of {n}: {r} rows, {b} with problems, {o} overdue.").format(
        p=result["policy"], n=result["now"], r=s["rows"], b=s["with_problems"], o=s["overdue"])]
    for w in result["warnings"]:
        out.append(("注意：" if zh else "Warning: ") + w)
    for row in result["rows"]:
        for p in row["problems"]:
            out.append(f"  {'第' if zh else 'row '}{row['row']}{'行' if zh else ''}  "
                       f"{row['id'] or '—'}  {p['column']}: {p['message']}")
    late = [(row, cid, c) for row in result["rows"] for cid, c in row["clocks"].items()
            if c["state"] in ("overdue", "due_soon")]
    if late:
        out.append("逾期与即将到期：" if zh else "Overdue and due soon:")
        for row, cid, c in sorted(late, key=lambda x: x[2]["due"]):
            out.append(f"  {'第' if zh else 'row '}{row['row']}{'行' if zh else ''}  "
                       f"{row['id']}  {cid}  {c['state']}  {c['due']}")
    return "\n".join(out)
