"""The `check` result: the JSON contract of DESIGN.md and a readable table.

`check_json` writes the JSON text column by column in Arrow (compact, one line): at 100k
rows the row-by-row dict and the standard library's encoder took longer than reading the
file, and joining the texts as Python strings took a second more.
`check_result` gives the same content as Python objects (the table format, tests).
"""

from __future__ import annotations

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.reading.i18n import label
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


def _json_text(values) -> pa.Array:
    """Each value as JSON text (None as null), computed once per distinct value."""
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=False)
    return pa.array([orjson.dumps(u).decode() for u in uniques], pa.string()).take(codes)


def _concat(*parts) -> pa.Array:
    """Texts and Arrow text arrays joined element-wise (null where any part is null)."""
    return pc.binary_join_element_wise(*parts, "")


def _joined(parts: list[pa.Array]) -> pa.Array:
    """Element-wise join with commas of the non-null texts of each row ("" for none)."""
    out = parts[0]
    for part in parts[1:]:
        out = pc.coalesce(pc.binary_join_element_wise(out, part, ","), out, part)
    return pc.fill_null(out, "")


def check_json(reg: Register, lang: str = "en") -> bytes:
    """`check_result(reg, lang)` as compact JSON, built column by column in Arrow."""
    table = reg.table
    n = len(table)
    tab = reg.tab
    overdue = pd.Series(False, index=table.index)
    tz = reg.policy.tz
    clock_parts = [pa.nulls(n, pa.string())]
    for cid, c in reg.clocks.items():
        overdue |= c["state"].eq("overdue")
        started = c["due"].notna().to_numpy()
        if not started.any():
            continue
        ext = c["extended"].fillna(False).to_numpy(dtype=bool)
        extra = ""
        if ext.any():
            extra = pc.if_else(ext, _concat(',"extended":true,"original_due":',
                                            _iso(c["original_due"], tz)), "")
        entry = _concat(f'"{cid}":{{"due":', _iso(c["due"], tz), ',"state":',
                        _json_text(c["state"].to_numpy()), extra, "}")
        clock_parts.append(pc.if_else(started, entry, None))
    problems = np.full(n, "[]", dtype=object)
    by_row = reg.problems_by_row()
    if by_row:
        pos = table.index.get_indexer(list(by_row))
        for p, (_, found) in zip(pos, by_row.items(), strict=True):
            problems[p] = orjson.dumps([{"column": x.column, "message": x.message(tab, lang)}
                                        for x in found]).decode()
    level = table["warning_level"].to_numpy(dtype=object)
    severity = table["severity"].to_numpy(dtype=object)
    rows = _concat('{"row":', pa.array(table.index.to_numpy()).cast(pa.string()),
                   ',"id":', _json_text(table["id"].to_numpy(dtype=object)),
                   ',"problems":', pa.array(problems, pa.string()),
                   ',"severity":', _json_text(np.where(severity == "", None, severity)),
                   ',"warning_level":', _json_text(np.where(level == "", None, level)),
                   ',"routing":', _json_text([ROUTING.get(v) for v in level]),
                   ',"flags":', _flag_texts(reg.flags),
                   ',"clocks":{', _joined(clock_parts), "}}")
    head = orjson.dumps({
        "policy": reg.policy.name,
        "now": reg.localize(reg.now).isoformat(timespec="seconds"),
        "summary": {"rows": n, "with_problems": len(by_row), "overdue": int(overdue.sum())},
        "warnings": [w.message(lang) for w in reg.warnings],
    })
    body = pc.binary_join(pa.ListArray.from_arrays(pa.array([0, n], pa.int32()), rows), ",")
    return head[:-1] + b',"rows":[' + body[0].as_buffer().to_pybytes() + b"]}"


def _iso(times: pd.Series, tz) -> pa.Array:
    """ISO text with the register's offset, as JSON strings; one conversion per distinct
    time (most due times repeat)."""
    codes, uniques = pd.factorize(times, use_na_sentinel=False)
    texts = ['"' + pd.Timestamp(t).to_pydatetime().replace(tzinfo=tz).isoformat() + '"'
             if not pd.isna(t) else "null" for t in uniques]
    return pa.array(texts, pa.string()).take(codes)


def _flag_texts(flags: pd.DataFrame) -> pa.Array:
    """Each row's flags as a JSON list, in FLAGS order."""
    code = flags[list(FLAGS)].to_numpy(dtype=bool) @ (1 << np.arange(len(FLAGS)))
    combos = [orjson.dumps([f for j, f in enumerate(FLAGS) if c >> j & 1]).decode()
              for c in range(1 << len(FLAGS))]
    return pa.array(combos, pa.string()).take(code)


def check_table(result: dict, lang: str = "en", clock_names: dict[str, str] | None = None
                ) -> str:
    """The check result as lines a person reads in a terminal: clocks by their names in
    `clock_names` (the policy's, in `lang`), states as words."""
    zh = lang == "zh"
    names = clock_names or {}
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
                       f"{row['id']}  {names.get(cid, cid)}  "
                       f"{label('state_' + c['state'], lang)}  {c['due']}")
    return "\n".join(out)
