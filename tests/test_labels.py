"""Every label the pages and core use exists in both languages (简体中文 and English)."""

import re

import pytest
import yaml

from core.reading.i18n import label

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


# ---- issue 12: every page walked in both languages, as the user sees it ---------------------

RAW_WORDS = {"True", "False", "None", "nan", "NaN", "NaT", "<NA>"}
STREAMLIT_ENGLISH = {"Choose an option", "Choose options", "Select all", "No options to select",
                     "Add an option", "Add options"}
RULE_ID = re.compile(r"\bR-[A-Z]{3,}")


def raw_keys(lang: str) -> set[str]:
    """Keys the register stores that a user must never see as such: value sets, every
    preset's categories and clocks, policy names, clock states. In English only those whose
    label differs from the key (`basically_satisfied`, not `phone`)."""
    from core.reading.schema import schema
    from core.rules.policy import load_policy, policy_names

    s = schema()
    pairs = [(k, vs.label(k, lang)) for vs in s.value_sets.values()
             for k in (c.key for c in vs.choices)]
    for name in policy_names():
        p = load_policy(name, s)[0]
        pairs += [(k, p.categories.label(k, lang)) for k in (c.key for c in p.categories.choices)]
        pairs += [(c.id, c.label(lang)) for c in p.clocks]
        pairs.append((name, p.label(lang)))
    pairs += [(k, label(f"state_{k}", lang)) for k in ("met", "missed", "running", "due_soon",
                                                        "overdue")]
    shown = {v for _, v in pairs}  # `callback` is a channel's key and a source's label
    return {k for k, _ in pairs if len(k) > 2 and k not in shown}


def shown_text(at) -> tuple[list[str], list[str]]:
    """What the page shows: (free text, whole values — cells, options, metric values)."""
    text = [e.value for kind in ("markdown", "caption", "header", "subheader", "title", "error",
                                 "warning", "info", "success") for e in getattr(at, kind)]
    values = []
    for w in [*at.button, *at.get("download_button"), *at.expander]:
        text.append(w.proto.label)
    for m in at.metric:
        text.append(m.label)
        values.append(str(m.value))
    for w in [*at.selectbox, *at.multiselect, *at.radio]:
        text.append(w.label)
        values += [str(o) for o in w.options]
    for w in [*at.text_input, *at.text_area]:
        text += [w.label, w.placeholder or ""]
    for d in [*at.dataframe, *at.table]:
        df = d.value  # a st.table's cells are escaped markdown: read as the user sees them
        values += [str(v).replace("\\", "") for v in [*df.columns, *df.to_numpy().ravel()]]
    return text, values


def widget_problems(at, lang: str) -> list[str]:
    """Selectboxes and multiselects that would show Streamlit's own English."""
    bad = []
    for w in at.selectbox:
        if w.value is None and (not w.proto.placeholder or (
                lang == "zh" and w.proto.placeholder.isascii())):
            bad.append(f"selectbox {w.label!r}: placeholder {w.proto.placeholder!r}")
    for w in at.multiselect:
        if not w.value and (not w.proto.placeholder or (
                lang == "zh" and w.proto.placeholder.isascii())):
            bad.append(f"multiselect {w.label!r}: placeholder {w.proto.placeholder!r}")
        if not (w.proto.HasField("select_all") and w.proto.select_all == 0):
            bad.append(f"multiselect {w.label!r} offers Streamlit's 'Select all'")
    return bad


def walk(path, lang: str):
    """Every page, with the queue's first complaint opened and its form shown, and a month
    of the scores with deductions; yields (page, AppTest) after each step."""
    from streamlit.testing.v1 import AppTest

    from core.config import Target

    from .test_app import NOW, PAGES, app_on

    # first as a user arriving in the other language and switching: widgets are re-created
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.secrets = {"tests": {"sign_in": "none"}}
    at.session_state["target"] = Target(workbook=str(path))
    at.session_state["now"] = NOW
    at.run()  # opens in Chinese
    for step in (["en"] if lang == "en" else ["en", "zh"]):
        at.radio(key="lang").set_value(step).run()
    yield "switched language", at
    for page in PAGES:
        at = app_on(path, lang, page)
        yield page, at
        if page == "queue" and at.dataframe:
            first = at.dataframe[0].value[label("col_id", lang)].iloc[0]
            at.selectbox(key="queue_pick").set_value(first).run()
            yield "queue (a complaint opened)", at
            fields = at.multiselect(key="q_fields")
            from core.commands.intake import MILESTONES
            fields.set_value([k for k in MILESTONES if k in ("validity", "satisfaction",
                                                              "written_reply", "accepted")])
            at.run()
            yield "queue (its form)", at
        if page == "scores":
            at.selectbox(key="score_month").set_value("2026-10").run()
            yield "scores 2026-10", at


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_raw_key_rule_id_or_streamlit_english_on_any_page(demo_path, lang):
    # issue 12: every value shown as its label, widgets in the UI's language, no rule ids
    keys = raw_keys(lang)
    assert {"basically_satisfied", "valid", "service-center", "overdue"} <= raw_keys("zh")
    found, walked = [], []
    for page, at in walk(demo_path, lang):
        assert not at.exception, (page, at.exception)
        walked.append(page)
        text, values = shown_text(at)
        found += [f"{page}: value {v!r}" for v in values if v in keys or v in RAW_WORDS]
        found += [f"{page}: rule id in {s!r}" for s in text if RULE_ID.search(s)]
        found += [f"{page}: {s!r}" for s in text + values if s in RAW_WORDS | (
            STREAMLIT_ENGLISH if lang == "zh" else set())]
        found += [f"{page}: {p}" for p in widget_problems(at, lang)]
    assert len(walked) == 10
    assert found == [], "\n".join(found)


def test_a_count_of_one_takes_the_singular_in_english():
    # "1 valid complaint was resolved", never "1 valid complaints were resolved"; Chinese has
    # no plural and is unchanged
    one = label("text_causes", "en", n=1, p="2026-11", k=1)
    assert one == "1 valid complaint was resolved in 2026-11; 1 of them has a root cause recorded."
    assert label("text_causes", "en", n=2, p="2026-11", k=0) == (
        "2 valid complaints were resolved in 2026-11; 0 of them have a root cause recorded.")
    assert label("reprocessed_times", "en", n=1, first="—").startswith("Reprocessed 1 time;")
    assert label("text_causes", "zh", n=1, p="2026-11", k=1) == (
        "2026-11 处理完成的成立投诉 1 件，其中 1 件记录了原因分析。")
    labels = yaml.safe_load((ROOT / "sheets_schema" / "labels.yaml").read_text("utf-8"))["labels"]
    for key, text in labels.items():  # every counted word names a field the text fills
        for field in re.findall(r"\{(\w+):\|", text["en"]):
            assert "{" + field + "}" in text["en"], key
