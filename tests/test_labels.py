"""Every label the pages and core use exists in both languages (简体中文 and English)."""

import re

import yaml

from core.i18n import label

from .conftest import ROOT

LITERAL = re.compile(r"""\b(?:t|label)\(\s*["']([a-z_0-9]+)["']""")


def used_labels() -> set[str]:
    files = [*ROOT.glob("pages/*.py"), ROOT / "app.py", *ROOT.glob("core/*.py")]
    found = {m for f in files for m in LITERAL.findall(f.read_text(encoding="utf-8"))}
    return {m for m in found if not m.endswith("_")}  # prefixes of keys built at run time


def test_every_literal_label_exists_in_both_languages():
    labels = yaml.safe_load((ROOT / "sheets_schema" / "labels.yaml").read_text("utf-8"))["labels"]
    used = used_labels()
    assert len(used) > 60
    assert sorted(used - set(labels)) == []
    for key in used:
        assert set(labels[key]) == {"zh", "en"} and all(labels[key].values()), key


def test_state_routing_and_checklist_labels_exist():
    keys = [f"state_{s}" for s in ("met", "missed", "running", "due_soon", "overdue")]
    keys += [f"routing_{r}" for r in ("office", "working_group", "leadership")]
    keys += [f"close_{k}" for k in ("verified", "root_cause", "corrective_action", "answered",
                                    "carried_out", "callback", "satisfied", "archived")]
    keys += ["yes", "no", "month", "quarter"]
    labels = yaml.safe_load((ROOT / "sheets_schema" / "labels.yaml").read_text("utf-8"))["labels"]
    for key in keys:
        assert key in labels and label(key, "zh") == labels[key]["zh"], key
