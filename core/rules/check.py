"""The `check` result: the JSON contract of DESIGN.md and a readable table.

`check_json` writes the JSON text column by column (compact, one line): at 100k rows the
row-by-row dict and the standard library's encoder took longer than reading the file.
`check_result` gives the same content as Python objects (the table format, tests).
"""

from __future__ import annotations

import numpy as np
import orjson
import pandas as pd

from core.rules.flags import FLAGS, ROUTING, flag_lists
from core.rules.register import Register


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


def _json_text(values) -> np.ndarray:
    """Each value as JSON text (None as null), computed once per distinct value."""
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=False)
    texts = np.array([orjson.dumps(u).decode() for u in uniques] or [""], dtype=object)
    return texts[codes] if len(codes) else np.empty(0, dtype=object)


def _joined(parts: list[np.ndarray], n: int) -> np.ndarray:
    """Element-wise join with commas of the non-empty texts of each row."""
    out = np.full(n, "", dtype=object)
    for part in parts:
        both = (out != "") & (part != "")
        out = np.where(both, out + "," + part, np.where(out == "", part, out))
    return out


def check_json(reg: Register, lang: str = "en") -> bytes:
    """`check_result(reg, lang)` as compact JSON, built column by column."""
    table = reg.table
    n = len(table)
    tab = reg.tab
    overdue = pd.Series(False, index=table.index)
    tz = reg.policy.tz
    clock_parts = []
    for cid, c in reg.clocks.items():
        overdue |= c["state"].eq("overdue")
        started = c["due"].notna().to_numpy()
        if not started.any():
            continue
        due = _iso(c["due"], tz)
        state = _json_text(c["state"].to_numpy())
        ext = c["extended"].fillna(False).to_numpy(dtype=bool)
        extra = np.full(n, "", dtype=object)
        if ext.any():
            extra[ext] = ',"extended":true,"original_due":' + _iso(c["original_due"], tz)[ext]
        entry = f'"{cid}":{{"due":' + due + ',"state":' + state + extra + "}"
        clock_parts.append(np.where(started, entry, ""))
    clocks = _joined(clock_parts, n)
    problems = np.full(n, "[]", dtype=object)
    by_row = reg.problems_by_row()
    if by_row:
        pos = table.index.get_indexer(list(by_row))
        for p, (_, found) in zip(pos, by_row.items(), strict=True):
            problems[p] = orjson.dumps([{"column": x.column, "message": x.message(tab, lang)}
                                        for x in found]).decode()
    level = table["warning_level"].to_numpy(dtype=object)
    severity = table["severity"].to_numpy(dtype=object)
    flags = _flag_texts(reg.flags)
    rows = ('{"row":' + table.index.astype(str).to_numpy(dtype=object)
            + ',"id":' + _json_text(table["id"].to_numpy(dtype=object))
            + ',"problems":' + problems
            + ',"severity":' + _json_text(np.where(severity == "", None, severity))
            + ',"warning_level":' + _json_text(np.where(level == "", None, level))
            + ',"routing":' + _json_text([ROUTING.get(v) for v in level])
            + ',"flags":' + flags + ',"clocks":{' + clocks + "}}")
    head = orjson.dumps({
        "policy": reg.policy.name,
        "now": reg.localize(reg.now).isoformat(timespec="seconds"),
        "summary": {"rows": n, "with_problems": len(by_row), "overdue": int(overdue.sum())},
        "warnings": [w.message(lang) for w in reg.warnings],
    })
    return head[:-1] + b',"rows":[' + ",".join(rows.tolist()).encode() + b"]}"


def _iso(times: pd.Series, tz) -> np.ndarray:
    """ISO text with the register's offset, as JSON strings; one conversion per distinct
    time (most due times repeat)."""
    codes, uniques = pd.factorize(times, use_na_sentinel=False)
    texts = np.array(['"' + pd.Timestamp(t).to_pydatetime().replace(tzinfo=tz).isoformat() + '"'
                      if not pd.isna(t) else "null" for t in uniques] or [""], dtype=object)
    return texts[codes] if len(codes) else np.empty(0, dtype=object)


def _flag_texts(flags: pd.DataFrame) -> np.ndarray:
    """Each row's flags as a JSON list, in FLAGS order."""
    code = flags[list(FLAGS)].to_numpy(dtype=bool) @ (1 << np.arange(len(FLAGS)))
    combos = np.array([orjson.dumps([f for j, f in enumerate(FLAGS) if c >> j & 1]).decode()
                       for c in range(1 << len(FLAGS))], dtype=object)
    return combos[code] if len(code) else np.empty(0, dtype=object)


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
