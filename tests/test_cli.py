"""The command line contract of DESIGN.md: output, messages word for word, exit codes."""

import json
import re
import subprocess
import sys

import openpyxl

from core.front.cli import parser

from .conftest import NOW, ROOT, SUPERVISOR, check_json, run_cli, write_xlsx


def test_the_demo_register_checks_clean(demo_path):
    code, out = check_json(demo_path)
    assert code == 0
    assert out["summary"]["rows"] == 300 and out["summary"]["with_problems"] == 0
    assert out["policy"] == "consumer" and out["now"] == NOW
    row = out["rows"][0]
    assert row["row"] == 2 and set(row) == {"row", "id", "problems", "severity",
                                            "warning_level", "routing", "flags", "clocks"}
    # R-WARN: C is handled by the office, B by the working group, A by the leadership
    routes = {(r["warning_level"], r["routing"]) for r in out["rows"]}
    assert routes == {("A", "leadership"), ("B", "working_group"), ("C", "office")}


def test_a_hand_messed_copy_reports_each_bad_row_and_loses_none(demo_path, tmp_path):
    messy = tmp_path / "messy.xlsx"
    wb = openpyxl.load_workbook(demo_path)
    ws = wb["投诉登记"]
    ws["D5"] = "03/11/2026"         # received_at: ambiguous
    ws["Q7"] = "medium"             # severity: not a value
    lost_id = ws["A9"].value
    ws["A9"] = ws["A8"].value       # a repeated number
    ws["L11"] = None                # subject: required
    wb.save(messy)
    code, out = check_json(messy)
    assert code == 1
    bad = {(r["row"], p["column"]) for r in out["rows"] for p in r["problems"]}
    # Rows that linked to the overwritten number now link to nothing, and say so.
    orphans = {(r["row"], "parent_id") for r in out["rows"] for p in r["problems"]
               if p["message"] == f"Linked No. {lost_id} is not in the register."}
    assert bad == {(5, "received_at"), (7, "severity"), (9, "id"), (11, "subject")} | orphans
    assert out["summary"]["with_problems"] == 4 + len(orphans)
    assert len(out["rows"]) == 300


def test_table_format_is_readable(tmp_path):
    path = write_xlsx(tmp_path / "t.xlsx", {"Complaints": [
        ["Complaint No.", "Received", "Subject"], ["TS1", "03/11/2026", "Lift"]]})
    p = run_cli("check", "--workbook", str(path), "--now", NOW)
    assert p.returncode == 1
    assert p.stdout.splitlines() == [
        f"Policy consumer, as of {NOW}: 1 rows, 1 with problems, 0 overdue.",
        "  row 2  TS1  received_at: '03/11/2026' could be day/month or month/day; write it "
        "as 2026-11-03."]


def test_unreadable_file_exits_2_with_one_sentence(tmp_path):
    bad = tmp_path / "bad.xlsx"
    bad.write_text("hello")
    p = run_cli("check", "--workbook", str(bad))
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.startswith(f"Error: {bad} cannot be read as an Excel workbook (")
    assert len(p.stderr.strip().splitlines()) == 1


def test_missing_tab_exits_2(tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", {"Sheet1": [["a"]]})
    p = run_cli("check", "--workbook", str(path))
    assert p.returncode == 2
    assert p.stderr == ("Error: The register has no Complaints (投诉登记) tab (tabs found: "
                        "Sheet1); run `python -m core init` to create it.\n")


def test_no_header_row_exits_2(tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", {"Complaints": []})
    p = run_cli("check", "--workbook", str(path))
    assert p.returncode == 2
    assert p.stderr == ("Error: The Complaints (投诉登记) tab has no header row; put the column "
                        "names in row 1 or run `python -m core init`.\n")


def test_missing_file_exits_2(tmp_path):
    p = run_cli("check", "--workbook", str(tmp_path / "none.xlsx"))
    assert p.returncode == 2 and "There is no workbook at" in p.stderr


def test_init_then_check_on_a_new_register(tmp_path):
    path = tmp_path / "new.xlsx"
    p = run_cli("init", "--workbook", str(path), "--lang", "zh")
    assert p.returncode == 0 and "added tab 投诉登记" in p.stdout
    p = run_cli("init", "--workbook", str(path))
    assert p.stdout.strip().endswith("nothing to do; every tab and header is there.")
    code, out = check_json(path)
    assert code == 0 and out["summary"]["rows"] == 0


def test_demo_refuses_to_overwrite_without_force(demo_path):
    p = run_cli("demo", str(demo_path))
    assert p.returncode == 2
    assert p.stderr == (f"Error: {demo_path} already exists; pass --force to replace it with "
                        f"a demo register.\n")


def test_english_demo_has_english_values(tmp_path):
    path = tmp_path / "en.xlsx"
    assert run_cli("demo", str(path), "--rows", "40", "--lang", "en", "--now", NOW
                   ).returncode == 0
    wb = openpyxl.load_workbook(path)
    assert "Complaints" in wb.sheetnames
    code, out = check_json(path)
    assert code == 0 and out["summary"]["rows"] == 40


def test_every_command_has_help_and_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    sub = next(a for a in parser()._actions if a.dest == "command")
    for name, p in sub.choices.items():
        assert p.description, name
        assert f"python -m core {name}" in readme, name


def test_check_json_is_valid_json_with_chinese_text(demo_path):
    p = run_cli("check", "--workbook", str(demo_path), "--format", "json", "--lang", "zh",
                "--now", NOW)
    assert json.loads(p.stdout)["summary"]["rows"] == 300


def test_the_readme_commands_run_as_written():
    # issue 12: a bare `python` is not the venv's and may not exist at all (Debian: python3)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    bare = re.findall(r"(?<!\.venv/bin/)(?<!\w)python -m [\w.]+ ?\S*", readme)
    assert bare == ["python -m core …`);"]  # only after `source .venv/bin/activate`
    assert re.findall(r"\.venv/bin/python -m core \w+", readme)


def test_the_register_is_being_read_before_pandas_is_imported():
    # issue 11: `python -m core check|score|report` starts reading the file (and `report` its
    # helpers) first, so the read overlaps the imports; a package that imported pandas on
    # the way would take that overlap away
    import subprocess
    import sys

    code = ("import sys; from core.store import prefetch; from core.reports import processes; "
            "print(sorted({'pandas', 'numpy', 'yaml', 'pydantic'} & set(sys.modules)))")
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[]"


def test_the_terminal_tables_name_clocks_states_and_columns_not_their_keys(demo_path, tmp_path):
    # R-STATE / R-SCORE-1 / R-SCORE-3 as a person reads them in a terminal: the policy's
    # clock names and the states in the language asked, the points the policy sets, and a
    # recorded or refused column by its header — never the keys the JSON uses
    from core.reading.schema import schema
    from core.rules.policy import load_policy

    policy = load_policy("consumer", schema(), {})[0]
    p = run_cli("check", "--workbook", str(demo_path), "--format", "table", "--lang", "zh",
                "--now", NOW)
    late = p.stdout.split("逾期与即将到期：")[1].splitlines()[1:]
    assert late and all(any(f"  {c.zh}  " in line for c in policy.clocks) for line in late)
    assert all(("  逾期  " in line) != ("  即将到期  " in line) for line in late), late[:3]
    assert not any(f"  {c.id}  " in p.stdout for c in policy.clocks)
    p = run_cli("score", "--workbook", str(demo_path), "--period", "2026-10", "--format",
                "table", "--lang", "en", "--now", NOW)
    deductions = [line for line in p.stdout.splitlines() if " late -" in line]
    assert deductions and all(any(f" {c.en} " in line for c in policy.clocks)
                              for line in deductions)
    penalty = policy.scoring["direct_complaint_penalty"]
    assert all(line.endswith(f" -{penalty}") for line in p.stdout.splitlines()
               if "directly complained about" in line)
    copy = tmp_path / "r.xlsx"
    copy.write_bytes(demo_path.read_bytes())
    p = run_cli("add", "--workbook", str(copy), "--set", "subject=电梯停运", "--lang", "zh",
                "--user", SUPERVISOR, "--now", NOW)
    assert p.returncode == 1 and "未登记 — 被投诉对象: " in p.stderr, p.stderr


def test_a_reader_that_stops_early_ends_the_command_quietly(demo_path):
    # `python -m core check … | head -0`: the command flushes its output itself before it
    # leaves without taking its objects apart (core/__main__.py); a reader that has gone
    # must neither fail the command nor leave a traceback
    for fmt in ("table", "json"):
        p = subprocess.Popen([sys.executable, "-m", "core", "check", "--workbook",
                              str(demo_path), "--format", fmt, "--now", NOW], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        p.stdout.close()  # gone before the command has written anything
        err = p.stderr.read()
        assert p.wait(timeout=120) in (0, 1), err  # 1: the demo has overdue complaints
        assert err == b"", err
