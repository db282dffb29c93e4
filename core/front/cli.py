"""`python -m core`: the same core for scripts and scheduled jobs (DESIGN.md's contract).

Exit status: 0 no problems, 1 rows with problems, 2 the register could not be read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import os
import sys

import orjson

from core import config
from core.errors import RegisterError
from core.reading.schema import schema
from core.rules import clock
from core.rules.access import Refused, Who, identify, operator, require, require_letter, seen_by
from core.rules.clock import parse_moment
from core.rules.policy import policy_names


def _now(text: str | None) -> dt.datetime | None:
    """--now as given: an offset is kept and converted to the register's zone later."""
    return parse_moment(text) if text else None


def _store(args):
    from core.store import open_store

    target = config.resolve(args.workbook, args.gsheet)
    return open_store(schema(), workbook=target.workbook, gsheet=target.gsheet,
                      credentials=target.credentials)


def _register(store, args, skip: tuple[str, ...] = ()):
    from core.rules.register import build_register

    return build_register(store.read(skip), schema(), policy_name=getattr(args, "policy", None),
                          now=_now(getattr(args, "now", None)), source=store.label)


def _load(args, skip: tuple[str, ...] = ()):
    return _register(_store(args), args, skip)


def cmd_demo(args) -> int:
    from core.front.demo import demo_records
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
    from core.rules.check import check_json, check_result, check_table

    reg = _load(args, skip=("audit",))  # the log says nothing about the rows' validity
    if args.format == "json":
        _write(check_json(reg, args.lang))
    else:
        names = {c.id: c.zh if args.lang == "zh" else c.en for c in reg.policy.clocks}
        print(check_table(check_result(reg, args.lang), args.lang, names))
    return 1 if reg.problems else 0


def cmd_score(args) -> int:
    from core.rules.scoring import department_scores, score_table

    reg = _load(args, skip=("audit",))
    result = department_scores(reg, args.period)
    if args.format == "json":
        _dump_as("score", result)
    else:
        print(score_table(result, args.lang, reg.policy))
    return 0


def cmd_report(args) -> int:
    from core.reports.report import start_workers, write_pack

    workers = start_workers(args.lang)  # they load their engine and font while we read
    try:
        reg = _load(args)
        who = _who(reg, args)
        require(reg, who, "report")
    except BaseException:
        workers.close()
        raise
    # R-RECUSE: the pack counts only what its reader may open
    paths, failures = write_pack(seen_by(reg, who), args.period, args.out, lang=args.lang,
                                 workers=workers)
    for p in paths:
        print(p)
    for line in failures:  # the documents that were made are written all the same
        print(f"Error: {line}", file=sys.stderr)
    return 2 if failures else 0


def _who(reg, args) -> Who:
    """The person the command acts for: --user, else $COMPLAINTS_USER, else the login name,
    looked up in the register's Users tab (a register whose Users tab lists nobody is a
    one-person register: they act as a supervisor)."""
    return identify(reg.users, [(args.user or "").strip() or operator()])


def _assignments(pairs: list[str], tab) -> dict[str, str]:
    """`--set KEY=VALUE` pairs; KEY is a column key or a header in either language."""
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise RegisterError(f"--set {pair}: write it as KEY=VALUE, e.g. --set subject=电梯停运.")
        found = next(iter(tab.match_headers([key.strip()])), None)  # key, 中文 or English
        if found is None:
            raise RegisterError(f"--set {key.strip()}: not a column of the register; use a key "
                                f"such as subject or a header such as 投诉事项 / Subject.")
        out[found] = value
    return out


def _dump(obj: dict) -> None:
    """JSON output: compact, one line, UTF-8 (orjson; README: JSON output)."""
    _write(orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY))


def _dump_as(name: str, obj: dict) -> None:
    """JSON output held to its published model (core.reports.contracts, docs/schemas/)."""
    from core.reports.contracts import OUTPUTS

    _write(OUTPUTS[name].model_validate(obj).model_dump_json(exclude_unset=True).encode())


def _write(data: bytes) -> None:
    sys.stdout.flush()
    sys.stdout.buffer.write(data + b"\n")
    sys.stdout.buffer.flush()


def cmd_add(args) -> int:
    from core.commands.intake import cleaned_notes, register_complaints
    from core.store.files import read_table

    store = _store(args)
    reg = _register(store, args)
    tab = reg.tab
    if args.from_file and args.set:
        raise RegisterError("Give either --set fields for one complaint or --from FILE, not "
                            "both.")
    if args.from_file:
        raw = read_table(args.from_file, tab)
        cols = raw.column_map(tab)
        unknown = [str(h) for i, h in enumerate(raw.header) if h not in (None, "")
                   and i not in cols.values()]
        if unknown:
            print(f"Note: columns not in the register are ignored: {', '.join(unknown)}",
                  file=sys.stderr)
        items = [(raw.sheet_row(i), {k: r[c] for k, c in cols.items() if c < len(r)})
                 for i, r in enumerate(raw.rows)
                 if any(v not in (None, "") for v in r)]
    else:
        items = [(None, _assignments(args.set, tab))]
    saved = register_complaints(store, reg, [v for _, v in items], user=_who(reg, args),
                                now=_now(args.now) or clock.now_in(reg.policy.tz))
    added, rejected = [], []
    for (where, _), s in zip(items, saved, strict=True):
        notes = cleaned_notes(tab, s.cleaned, args.lang)
        if s.id:
            added.append({"source_row": where, "id": s.id, "notes": notes,
                          "due": {k: reg.localize(v).isoformat() for k, v in s.clocks.items()}})
        else:
            rejected.append({"source_row": where, "notes": notes, "problems": [
                {"column": p.column, "message": p.message(tab, args.lang)}
                for p in s.row_problems]})
    if args.format == "json":
        _dump_as("add", {"added": added, "rejected": rejected, "summary": {
            "rows": len(items), "added": len(added), "rejected": len(rejected)}})
    else:
        for a in added:
            print(a["id"] if a["source_row"] is None else f"row {a['source_row']}: {a['id']}")
            for n in a["notes"]:
                print(f"  {n}")
        zh = args.lang == "zh"
        for r in rejected:
            where = "" if r["source_row"] is None else (
                f"第 {r['source_row']} 行：" if zh else f"row {r['source_row']}: ")
            for p in r["problems"]:
                print(f"{where}{'未登记' if zh else 'not added'} — "
                      f"{_column_name(tab, p['column'], args.lang)}: {p['message']}",
                      file=sys.stderr)
    return 1 if rejected else 0


def _column_name(tab, key: str, lang: str) -> str:
    """A column as the sheet's header names it in `lang` (the key if it is not a column)."""
    try:
        return tab.column(key).header(lang)
    except KeyError:
        return key


def cmd_record(args) -> int:
    from core.commands.intake import cleaned_notes, record

    store = _store(args)
    reg = _register(store, args)
    tab = reg.tab
    from core.reading.schema import norm
    rows = reg.table.index[reg.table["id"].map(norm).eq(norm(args.id))]
    if len(rows) == 0:
        raise RegisterError(f"Complaint {args.id} is not in the register; nothing was written.")
    if len(rows) > 1:
        raise RegisterError(f"Complaint {args.id} is on more than one row ("
                            f"{', '.join(str(r) for r in rows)}); fix the duplicate in the sheet "
                            f"first. Nothing was written.")
    changes = _assignments(args.set, tab)
    if not changes:
        raise RegisterError("Nothing to record: give at least one --set KEY=VALUE.")
    problems, cleaned = record(store, reg, int(rows[0]), changes, user=_who(reg, args),
                               now=_now(args.now) or clock.now_in(reg.policy.tz))
    for n in cleaned_notes(tab, cleaned, args.lang):
        print(n)
    if problems:
        for p in problems:
            print(f"{'未记录' if args.lang == 'zh' else 'not recorded'} — "
                  f"{_column_name(tab, p.column, args.lang)}: {p.message(tab, args.lang)}",
                  file=sys.stderr)
        return 1
    written = ", ".join(tab.column(k).header(args.lang) for k in changes)
    print(f"已记录 {args.id}：{written}。" if args.lang == "zh" else
          f"Recorded on {args.id}: {written}.")
    return 0


def cmd_holidays(args) -> int:
    """R-CAL: a draft of a year's Holidays rows from the statutory festivals, to check."""
    from core.reading.i18n import label
    from core.rules.calendar import draft_holidays
    from core.rules.register import holiday_overrides

    s = schema()
    kinds = s.value_sets["day_type"]
    rows = draft_holidays(args.year)
    day_kind = {True: "workday", False: "holiday"}
    records = [{"date": dt.datetime(d.year, d.month, d.day),
                "type": kinds.label(day_kind[work], args.lang),
                "note": label("holiday_draft", args.lang, name=zh if args.lang == "zh" else en)}
               for d, work, zh, en in rows]
    print(label("holiday_draft_head", args.lang, year=args.year, n=len(records)))
    for r in records:
        print(f"{r['date']:%Y-%m-%d %a}  {r['type']}  {r['note']}")
    if args.write:
        store = _store(args)
        have, _ = holiday_overrides(store.read(), s, None)
        new = [r for r in records if r["date"].date() not in have]
        if new:
            store.append("holidays", new)
        print(label("holiday_draft_written", args.lang, n=len(new),
                    skipped=len(records) - len(new)))
    return 0


def cmd_letter(args) -> int:
    from core.commands.letters import find_row, write_letter

    reg = _load(args)
    require_letter(reg, _who(reg, args), find_row(reg, args.id))  # it names the complainant
    for p in write_letter(reg, args.id, args.kind, args.out, lang=args.lang):
        print(p)
    return 0


def cmd_user(args) -> int:
    from core.front import accounts

    if args.action == "remove":
        if not accounts.set_account(args.name, None):
            raise RegisterError(f"There is no local account {args.name} in {config.SECRETS}; "
                                f"nothing was changed.")
        print(f"Removed the local account {args.name} from {config.SECRETS}.")
        return 0
    if sys.stdin.isatty():
        password = getpass.getpass(f"Password for {args.name}: ")
        if getpass.getpass("The same password again: ") != password:
            raise RegisterError("The two passwords differ; nothing was changed.")
    else:  # a script: the first line of stdin
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < accounts.MIN_PASSWORD:
        raise RegisterError(f"A password needs at least {accounts.MIN_PASSWORD} characters; "
                            f"nothing was changed.")
    existed = accounts.set_account(args.name, accounts.hash_password(password))
    print(f"{'Changed the password of' if existed else 'Added'} the local account "
          f"{args.name} in {config.SECRETS} (stored as an argon2 hash). Give {args.name} a "
          f"role in the register's Users tab (用户) so they can work once signed in.")
    return 0


def cmd_serve(args) -> int:
    from core.front.serve import serve

    serve(args.extra)
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
    who = argparse.ArgumentParser(add_help=False)
    who.add_argument("--user", metavar="NAME", help="who is acting, looked up in the "
                     "register's Users tab for their role and written to the audit log "
                     "(default: $COMPLAINTS_USER, else the login name)")
    who.add_argument("--now", metavar="ISO", help="the time to stamp (default: the register's "
                     "current time)")
    a = sub.add_parser("add", parents=[common, who, fmt], help="validate and append "
                       "complaints, numbering each", description="Validate and append "
                       "complaints — one from --set fields, or one per row of a .csv/.xlsx/.json "
                       "file with the register's headers — numbering each when it is written. "
                       "Rows with problems are reported and not written.")
    a.add_argument("--set", action="append", metavar="KEY=VALUE", help="a field of the new "
                   "complaint (key or header, e.g. subject=电梯停运 or 投诉人=王芳); repeat it")
    a.add_argument("--from", dest="from_file", metavar="FILE", help="one complaint per row of "
                   "a .csv, .xlsx or .json file")
    a.set_defaults(func=cmd_add)
    rc = sub.add_parser("record", parents=[common, who], help="record milestones on one "
                        "complaint", description="Record milestones on one complaint, with the "
                        "same validation and version check as the app; a date-time value `now` "
                        "means the register's current time.")
    rc.add_argument("id", metavar="ID", help="the complaint number")
    rc.add_argument("--set", action="append", metavar="KEY=VALUE", help="a field to record, "
                    "e.g. first_reply_at=now; repeat it")
    rc.set_defaults(func=cmd_record)
    h = sub.add_parser("holidays", parents=[common], help="draft a year's Holidays rows from "
                       "the statutory festivals, to check against the State Council notice",
                       description="Draft a year's Holidays rows from the statutory PRC "
                       "festivals (the holidays package), labelled as a draft to check against "
                       "the State Council's notice; --write appends the dates the Holidays tab "
                       "does not have yet. Once the year is entered in full, add it to the "
                       "calendar_complete setting.")
    h.add_argument("--year", type=int, required=True)
    h.add_argument("--write", action="store_true", help="append the draft rows to the "
                   "register's Holidays tab (dates already there are left as they are)")
    h.set_defaults(func=cmd_holidays)
    from core.commands.letters import KINDS

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
    ltr.add_argument("--user", metavar="NAME", help="who asks for it: someone in the Users tab "
                     "who may record on this complaint and see its complainant (default: "
                     "$COMPLAINTS_USER, else the login name)")
    ltr.set_defaults(func=cmd_letter)
    r = sub.add_parser("report", parents=[common, rules], help="monthly or quarterly report "
                       "pack", description="Monthly or quarterly report pack (xlsx, HTML, PDF); "
                       "for supervisors.")
    r.add_argument("--period", required=True, metavar="2026-10|2026-Q3")
    r.add_argument("--out", required=True, metavar="DIR")
    r.add_argument("--user", metavar="NAME", help="who asks for it: a supervisor in the "
                   "Users tab (default: $COMPLAINTS_USER, else the login name)")
    r.set_defaults(func=cmd_report)
    u = sub.add_parser("user", help="add, change or remove a local sign-in account",
                       description="Local sign-in accounts for a team with no identity "
                       "provider. The password is read without echo (or from the first line "
                       "of stdin) and stored as an argon2 hash in .streamlit/secrets.toml; "
                       "nothing secret is printed. Roles come from the register's Users tab.")
    u.add_argument("action", choices=("add", "remove"))
    u.add_argument("name", metavar="NAME", help="the account name, as in the Users tab")
    u.set_defaults(func=cmd_user)
    sv = sub.add_parser("serve", help="start the dashboard (this machine only until sign-in "
                        "is configured)", description="Start the dashboard. With no sign-in "
                        "configured it listens on 127.0.0.1 only; with sign-in configured "
                        "(an [auth] provider or [accounts] in .streamlit/secrets.toml) on every "
                        "interface. Other options are passed to `streamlit run`.")
    sv.set_defaults(func=cmd_serve)
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args, extra = p.parse_known_args(argv)
    if extra and args.command != "serve":  # serve passes the rest to `streamlit run`
        p.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    try:
        return args.func(args)
    except BrokenPipeError:  # `check | head`: the reader has what it wanted; end quietly
        # (not SIGPIPE's default, which would also end us when a helper process of the pack
        # stops: Worker.send expects the error instead)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Refused as exc:
        print(f"Error: {exc.message(getattr(args, 'lang', 'en'))}", file=sys.stderr)
        return 2
    except RegisterError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file or folder the command could not use
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"Error: {exc.strerror or exc}{where}.", file=sys.stderr)
        return 2
