"""R-CAL for a year the calendar does not know: a draft of its Holidays rows from the statutory
festivals, the warning in `check` and in the report pack until the year is marked complete
(the pages' banner is tested in test_app)."""

import datetime as dt

from core.reports.report import render_html
from core.reports.sections import build_sections
from core.rules.calendar import draft_holidays
from core.rules.register import build_register
from core.store.workbook import WorkbookStore

from .conftest import check_json, run_cli
from .test_deadlines import CAL_2027


def test_the_draft_holds_the_statutory_festivals_of_the_year():
    rows = draft_holidays(2027)
    days = {d: (work, zh, en) for d, work, zh, en in rows}
    assert days[dt.date(2027, 1, 1)] == (False, "元旦", "New Year's Day")
    assert days[dt.date(2027, 2, 6)][:2] == (False, "春节")
    assert days[dt.date(2027, 10, 1)][:2] == (False, "国庆节")
    assert all(d.year == 2027 for d in days)
    # a year whose notice the package knows also brings its make-up working days
    assert (dt.date(2026, 9, 20), True, "调休上班", "make-up working day") in draft_holidays(2026)


def test_the_holidays_command_drafts_writes_once_and_the_year_stays_unknown_until_marked(
        tmp_path, schema):
    path = tmp_path / "r.xlsx"
    store = WorkbookStore(path, schema)
    store.init("en")
    store.append("complaints", [{"id": "TS1", "received_at": dt.datetime(2027, 2, 3, 9),
                                 "subject": "Lift"}])
    p = run_cli("holidays", "--year", "2027")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == ("Draft of 2027's holidays (19 rows) — check them against the State "
                        "Council's notice; once the whole year is entered, add 2027 to the "
                        "calendar_complete setting.")
    assert lines[1] == ("2027-01-01 Fri  holiday  Draft: New Year's Day. Statutory festivals from "
                        "the holidays package; the State Council's notice decides the make-up "
                        "days — check before entering.")
    p = run_cli("holidays", "--year", "2027", "--workbook", str(path), "--write")
    assert p.stdout.splitlines()[-1] == ("Wrote 19 rows to the Holidays tab (0 dates already "
                                         "there were left as they are).")
    p = run_cli("holidays", "--year", "2027", "--workbook", str(path), "--write")
    assert p.stdout.splitlines()[-1] == ("Wrote 0 rows to the Holidays tab (19 dates already "
                                         "there were left as they are).")
    _, out = check_json(path, "--now", "2027-02-03T10:00:00+08:00")
    # the drafted festival days count (5–10 Feb off: 4, 11, 12, 15, 16 Feb) …
    assert out["rows"][0]["clocks"]["first_reply"]["due"] == "2027-02-16T23:59:59+08:00"
    # … but the year is not marked complete, so the warning stays
    assert out["warnings"] == [CAL_2027]
    store.append("settings", [{"key": "calendar_complete", "value": "2027"}])
    _, out = check_json(path, "--now", "2027-02-03T10:00:00+08:00")
    assert out["warnings"] == []


def test_the_report_pack_carries_the_warning(schema, tmp_path):
    path = tmp_path / "r.xlsx"
    store = WorkbookStore(path, schema)
    store.init("en")
    store.append("complaints", [{"id": "TS1", "received_at": dt.datetime(2026, 12, 28, 9),
                                 "subject": "Lift"}])
    reg = build_register(store.read(), schema, now=dt.datetime(2026, 12, 29, 9))
    html = render_html(reg, build_sections(reg, "2026-12", "en"), "2026-12", "en")
    assert f"<strong>Warnings:</strong> {CAL_2027.replace(chr(39), '&#x27;')}</p>" in html
