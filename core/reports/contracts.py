"""The JSON that scripts read from `check`, `score` and `add` (DESIGN.md: a stable contract),
as pydantic models; their JSON Schemas are published in docs/schemas/.

    python -m core.reports.contracts        # rewrite docs/schemas/*.schema.json from these models

`score` and `add` print their result through these models. `check` writes its rows column
by column (core.rules.check.check_json): building 100k row models costs several seconds, the
whole command's budget, so its model is the contract the tests hold that output to.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.rules.deadlines import STATES
from core.rules.flags import FLAGS, ROUTING

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"

Flag = Literal[FLAGS]  # type: ignore[valid-type]
State = Literal[STATES]  # type: ignore[valid-type]
Routing = Literal[tuple(ROUTING.values())]  # type: ignore[valid-type]
Level = Literal[tuple(ROUTING)]  # type: ignore[valid-type]
IsoTime = str  # ISO 8601 with the register's offset, e.g. 2026-11-24T10:00:00+08:00


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(_Out):
    """One problem of a row: the column it is on (the key) and what to do, in --lang."""
    column: str
    message: str


class Clock(_Out):
    due: IsoTime
    state: State
    extended: bool | None = Field(None, description="present (true) when an agreed "
                                  "extension moved the due time")
    original_due: IsoTime | None = Field(None, description="the due time before the extension")


class CheckRow(_Out):
    row: int = Field(description="the sheet's own row number")
    id: str
    problems: list[Problem]
    severity: str | None
    warning_level: Level | None
    routing: Routing | None
    flags: list[Flag]
    clocks: dict[str, Clock] = Field(description="every clock that has started, by its id")


class CheckSummary(_Out):
    rows: int
    with_problems: int
    overdue: int


class CheckOutput(_Out):
    """`python -m core check --format json`."""
    policy: str
    now: IsoTime
    summary: CheckSummary
    warnings: list[str] = Field(description="register-wide notices, in --lang")
    rows: list[CheckRow]


class Deduction(_Out):
    row: int
    id: str
    clock: str
    kind: Literal["result", "rectification"]
    due: IsoTime
    late_days: int
    points: int | None = Field(None, description="absent on an exemption")
    doubled: bool | None = Field(None, description="R-SCORE-4: a repeat within the "
                                 "rectification period doubled it")


class Praised(_Out):
    employee: str
    praises: int
    points: int = Field(description="R-SCORE-3: gained by the department for this employee, "
                        "once however many praises")


class ComplainedAbout(_Out):
    employee: str
    complaints: int
    points: int = Field(description="R-SCORE-3: lost by the department for this employee, "
                        "once however many complaints")


class DepartmentScore(_Out):
    department: str
    deductions: list[Deduction]
    exemptions: list[Deduction]
    praised: list[Praised]
    complained_about: list[ComplainedAbout]
    points_lost: int
    points_gained: int
    net: int
    yuan: int
    escalated: bool


class Individual(_Out):
    employee: str
    department: str
    yuan: int


class ScoreWarning(BaseModel):
    """A register-wide notice in both languages, with its code and parameters."""
    model_config = ConfigDict(extra="allow")
    code: str
    zh: str
    en: str


class ScoreOutput(_Out):
    """`python -m core score --format json`."""
    policy: str
    period: str
    yuan_per_point: int
    escalation_points: int
    departments: list[DepartmentScore]
    individuals: list[Individual]
    warnings: list[ScoreWarning]


class Added(_Out):
    source_row: int | None = Field(description="the row of --from's file; null for --set")
    id: str
    notes: list[str]
    due: dict[str, IsoTime] = Field(description="the clocks started at intake, by id")


class Rejected(_Out):
    source_row: int | None
    notes: list[str]
    problems: list[Problem]


class AddSummary(_Out):
    rows: int
    added: int
    rejected: int


class AddOutput(_Out):
    """`python -m core add --format json`."""
    added: list[Added]
    rejected: list[Rejected]
    summary: AddSummary


OUTPUTS: dict[str, type[BaseModel]] = {"check": CheckOutput, "score": ScoreOutput,
                                       "add": AddOutput}


def schema_text(model: type[BaseModel]) -> str:
    return json.dumps(model.model_json_schema(), ensure_ascii=False, indent=2) + "\n"


def main() -> None:
    SCHEMAS.mkdir(parents=True, exist_ok=True)
    for name, model in OUTPUTS.items():
        (SCHEMAS / f"{name}.schema.json").write_text(schema_text(model), encoding="utf-8")
        print(f"wrote docs/schemas/{name}.schema.json")


if __name__ == "__main__":
    main()
