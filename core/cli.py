"""`python -m core`: the same core for scripts and scheduled jobs (DESIGN.md's contract).

Exit status: 0 no problems, 1 rows with problems, 2 the register could not be read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import signal
import sys

from core import config
from core.errors import RegisterError
from core.parse import parse_datetime
from core.policy import policy_names
from core.schema import schema


def _now(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    value = parse_datetime(text)
    if not isinstance(value, dt.datetime):
        raise RegisterError(f"--now '{text}' is not a date-time; write it as "
                            f"2026-11-24T10:00:00+08:00.")
    return value


def _store(args):
    from core.store import open_store

    target = config.resolve(args.workbook, args.gsheet)
    return open_store(schema(), workbook=target.workbook, gsheet=target.gsheet,
                      credentials=target.credentials)


def _load(args):
    from core.register import build_register

    store = _store(args)
    return build_register(store.read(), schema(), policy_name=args.policy, now=_now(args.now),
                          source=store.label)


def cmd_demo(args) -> int:
    from core.demo import demo_records
    from core.store.workbook import WorkbookStore

    path = args.path
    store = WorkbookStore(path, schema())
    if store.path.exists() and not args.force:
        raise RegisterError(f"{path} already exists; pass --force to replace it with a demo "
                            f"register.")
    if store.path.exists():
        store.path.unlink()
    records = demo_records(schema(), rows=args.rows, seed=args.seed, lang=args.lang,
                           now=_now(args.now))
    store.init(args.lang)
    for tab_key, recs in records.items():
        store.append(tab_key, recs)
    print(f"Wrote a demo register of {len(records['complaints'])} complaints to {path}.")
    return 0


def cmd_init(args) -> int:
    store = _store(args)
    done = store.init(args.lang)
    for line in done:
        print(line)
    print(f"{store.label}: " + ("nothing to do; every tab and header is there." if not done
                                else f"{len(done)} changes; no data touched."))
    return 0


def cmd_check(args) -> int:
    from core.check import check_result, check_table

    reg = _load(args)
    result = check_result(reg, args.lang)
    if args.format == "json":
        print(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        print(check_table(result, args.lang))
    return 1 if result["summary"]["with_problems"] else 0


def cmd_score(args) -> int:
    from core.scoring import department_scores, score_table

    reg = _load(args)
    result = department_scores(reg, args.period)
    if args.format == "json":
        print(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        print(score_table(result, args.lang))
    return 0


def cmd_report(args) -> int:
    from core.report import write_pack

    reg = _load(args)
    paths = write_pack(reg, args.period, args.out, lang=args.lang)
    for p in paths:
        print(p)
    return 0


def cmd_letter(args) -> int:
    from core.letters import write_letter

    reg = _load(args)
    for p in write_letter(reg, args.id, args.kind, args.out, lang=args.lang):
        print(p)
    return 0


def _where(p: argparse.ArgumentParser) -> None:
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workbook", metavar="PATH", help="a local .xlsx register")
    where.add_argument("--gsheet", metavar="URL_OR_KEY", help="a Google Sheet register")


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    _where(common)
    common.add_argument("--lang", choices=("zh", "en"), default="en",
                        help="language of messages and new headers (default en)")
    rules = argparse.ArgumentParser(add_help=False)
    rules.add_argument("--policy", choices=policy_names(), help="policy preset (default: the "
                       "register's `policy` setting, else consumer)")
    rules.add_argument("--now", metavar="ISO", help="evaluate clocks as of this time "
                       "(default: now)")
    fmt = argparse.ArgumentParser(add_help=False)
    fmt.add_argument("--format", choices=("json", "table"), default="table")

    p = argparse.ArgumentParser(prog="python -m core", description="The complaint register "
                                "from the command line.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    d = sub.add_parser("demo", help="write a realistic demo workbook",
                       description="Write a realistic demo workbook.")
    d.add_argument("path")
    d.add_argument("--rows", type=int, default=300)
    d.add_argument("--seed", type=int, default=1)
    d.add_argument("--lang", choices=("zh", "en"), default="zh")
    d.add_argument("--now", metavar="ISO", help="the demo's today (default: now)")
    d.add_argument("--force", action="store_true", help="replace an existing file")
    d.set_defaults(func=cmd_demo)
    i = sub.add_parser("init", parents=[common], help="create missing tabs, headers, dropdowns "
                       "and frozen header rows; never touches data",
                       description="Create missing tabs, headers, dropdowns and frozen header "
                       "rows; never touches data.")
    i.set_defaults(func=cmd_init)
    c = sub.add_parser("check", parents=[common, rules, fmt], help="validate every row and "
                       "compute clocks and flags", description="Validate every row and "
                       "compute clocks and flags.")
    c.set_defaults(func=cmd_check)
    s = sub.add_parser("score", parents=[common, rules, fmt], help="department scores for a "
                       "month", description="Department scores for a month (R-SCORE).")
    s.add_argument("--period", required=True, metavar="YYYY-MM")
    s.set_defaults(func=cmd_score)
    r = sub.add_parser("report", parents=[common, rules], help="monthly or quarterly report "
                       "pack", description="Monthly or quarterly report pack (xlsx, HTML, PDF).")
    r.add_argument("--period", required=True, metavar="2026-10|2026-Q3")
    r.add_argument("--out", required=True, metavar="DIR")
    r.set_defaults(func=cmd_report)
    from core.letters import KINDS

    ltr = sub.add_parser("letter", parents=[rules], help="a complaint's letter as .docx and .pdf",
                         description="A complaint's letter as an editable .docx and a "
                         "PDF: the reply letter, the acceptance notice, the extension notice or "
                         "the 8D report.")
    _where(ltr)
    ltr.add_argument("id", metavar="ID", help="the complaint number")
    ltr.add_argument("--kind", required=True, choices=KINDS, help="which letter")
    ltr.add_argument("--out", required=True, metavar="DIR", help="folder to write both files to")
    ltr.add_argument("--lang", choices=("zh", "en"), default=None,
                     help="language of the letter (default: the register's)")
    ltr.set_defaults(func=cmd_letter)
    return p


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `check | head` ends quietly
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except RegisterError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
