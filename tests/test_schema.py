"""The schema as data: loaded and checked at start; the README agrees with it."""

import pytest

from core.errors import SchemaError
from core.reading.schema import load_schema
from core.reports.docs import BEGIN, END, columns_markdown

from .conftest import ROOT


def test_every_design_column_is_in_the_schema(schema):
    keys = [c.key for c in schema.tab("complaints").columns]
    design = ["id", "kind", "parent_id", "received_at", "channel", "source", "first_receiver",
              "complainant", "contact", "address", "respondent", "subject", "description",
              "request", "materials", "category", "severity", "warning_level", "urgent",
              "region", "accepted", "reject_reason", "validity", "department", "handler",
              "accepted_at", "first_reply_at", "assigned_at", "dept_reply_at", "plan_agreed",
              "resolved_at", "onsite_at", "callback_at", "closed_at", "last_followup_at",
              "extended_to", "extension_reason", "extension_agreed", "extended_at",
              "root_cause", "corrective_action", "reply_written", "satisfaction", "archived",
              "escalated", "version", "updated_at", "updated_by", "notes"]
    assert set(design) <= set(keys) and keys[0] == "id" and keys[-1] == "notes"
    assert {t.key for t in schema.tabs} == {"complaints", "departments", "holidays", "settings",
                                            "users", "audit"}


def test_the_readme_column_reference_is_generated_from_the_schema(schema):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split(BEGIN)[1].split(END)[0].strip()
    assert section == columns_markdown(schema), "run `python -m core.reports.docs` to regenerate"


@pytest.mark.parametrize(("text", "message"), [
    ("tabs: []", "needs the top-level entries 'value_sets' and 'tabs'"),
    ("value_sets: {}\ntabs:\n  - {key: complaints, zh: 投诉, en: C, columns: "
     "[{key: id, zh: 编号, en: No, type: uuid}]}",
     "tab 'complaints': column 'id' has unknown type 'uuid'"),
    ("value_sets: {}\ntabs:\n  - {key: complaints, zh: 投诉, en: C, columns: "
     "[{key: s, zh: 级, en: S, type: enum, values: nope}]}",
     "column 's' names value set 'nope', which is not defined under value_sets"),
    ("value_sets:\n  x: [{key: a, zh: 甲}]\ntabs: []", "value set 'x': each value needs key, zh "
     "and en"),
    ("tabs: [", "cannot be read as YAML"),
    ("value_sets: {}\ntabs:\n  - {key: complaints, zh: 投诉, en: C, columns: [{key: id, zh: 编号}]}",
     "tab 'complaints': each column needs key, zh, en and type"),
    ("value_sets: {}\ntabs:\n  - {key: complaints, zh: 投诉, en: C, columns: "
     "[{key: a, zh: 甲, en: A, type: text}, {key: b, zh: 乙, en: a, type: text}]}",
     "tab 'complaints': header 'a' names both 'a' and 'b'"),
])
def test_a_broken_schema_names_the_file_and_entry(tmp_path, text, message):
    path = tmp_path / "register.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SchemaError) as err:
        load_schema(path)
    assert str(err.value).startswith(str(path)) and message in str(err.value)
