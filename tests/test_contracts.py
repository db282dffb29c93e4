"""The JSON that scripts read (DESIGN.md's CLI contract): `check`, `score` and `add` print what
their pydantic models say (core.reports.contracts), and the JSON Schemas published in docs/schemas/
are those models' and validate the commands' real output."""

import csv
import json

import jsonschema
import pytest

from core.reports.contracts import OUTPUTS, SCHEMAS, schema_text

from .conftest import run_cli, write_xlsx
from .test_flags_scoring_stats import scoring_records


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_the_published_schema_is_the_model(name):
    published = (SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8")
    assert published == schema_text(OUTPUTS[name]), "run `python -m core.reports.contracts`"


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """Real output of each command, on a register that has something for every field: problems,
    an extended clock, flags, a 2027 warning; deductions, a doubling, an exemption, praise and
    a direct complaint (the hand-worked scoring register of R-SCORE); added and refused rows."""
    tmp = tmp_path_factory.mktemp("contracts")
    records = [*scoring_records(),
               {"id": "X1", "received_at": "2026-13-45", "subject": "a date nobody can read"},
               {"id": "X2", "received_at": "2027-02-03 09:00", "subject": "next year"}]
    keys = list(dict.fromkeys([*(k for r in records for k in r), "channel", "complainant",
                               "contact", "description", "request", "version", "updated_at",
                               "updated_by"]))
    rows = [[r.get(k, "") for k in keys] for r in records]
    book = write_xlsx(tmp / "r.xlsx", {"Complaints": [keys, *rows]})
    common = ("--workbook", str(book), "--format", "json", "--policy", "service-center")
    out = {"check": run_cli("check", *common, "--now", "2026-11-02T10:00:00+08:00"),
           "score": run_cli("score", *common, "--period", "2026-10",
                            "--now", "2026-11-02T10:00:00+08:00")}
    source = tmp / "import.csv"
    with source.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["subject", "channel", "complainant", "contact", "respondent",
                    "description", "request"])
        w.writerow(["电梯停运", "电话", "王芳", "13800000000", "物业", "三天没有电梯", "修复"])
        w.writerow(["没有渠道", "", "李娜", "", "物业", "", ""])
    out["add"] = run_cli("add", "--workbook", str(book), "--format", "json", "--from", str(source))
    return {name: (p.returncode, p.stdout, p.stderr) for name, p in out.items()}


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_the_real_output_is_valid_against_the_published_schema_and_the_model(outputs, name):
    code, stdout, stderr = outputs[name]
    assert code in (0, 1), stderr
    data = json.loads(stdout)
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, schema)
    assert OUTPUTS[name].model_validate(data).model_dump(mode="json", exclude_unset=True) == data


def test_the_outputs_hold_every_part_of_the_contract(outputs):
    """The validation above covers each optional part: each is really there."""
    check = json.loads(outputs["check"][1])
    rows = {r["id"]: r for r in check["rows"]}
    assert [p["column"] for p in rows["X1"]["problems"]] == ["received_at"]
    assert rows["B"]["clocks"]["resolution"]["extended"] is True  # R-EXTEND
    assert "original_due" in rows["B"]["clocks"]["resolution"]
    assert "repeat" in rows["D"]["flags"]
    assert any("2027" in w for w in check["warnings"])  # R-CAL
    (eng,) = json.loads(outputs["score"][1])["departments"]
    assert [e["id"] for e in eng["exemptions"]] == ["B"]  # R-SCORE-2
    assert {d["id"]: d["doubled"] for d in eng["deductions"]} == {"A": True, "C": False}
    assert eng["praised"] and eng["complained_about"]  # R-SCORE-3
    add = json.loads(outputs["add"][1])
    assert [a["source_row"] for a in add["added"]] == [2]
    assert [r["source_row"] for r in add["rejected"]] == [3]
    assert add["summary"] == {"rows": 2, "added": 1, "rejected": 1}
