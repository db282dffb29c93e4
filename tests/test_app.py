"""The dashboard rendered with streamlit.testing.v1.AppTest on real workbooks."""

import pytest
from streamlit.testing.v1 import AppTest

from core.config import Target

from .conftest import ROOT, write_xlsx


def app_on(path, lang="zh") -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["target"] = Target(workbook=str(path))
    at.session_state["lang"] = lang
    return at.run()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_quality_page_on_the_demo_register(demo_path, lang):
    at = app_on(demo_path, lang)
    assert not at.exception
    assert [m.value for m in at.metric][:2] == ["300", "0"]
    assert at.success[0].value == ("所有行都通过了检查。" if lang == "zh" else
                                   "Every row passed its checks.")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_quality_page_lists_problems_by_row(tmp_path, lang):
    path = write_xlsx(tmp_path / "bad.xlsx", {"Complaints": [
        ["Complaint No.", "Received", "Subject"], ["TS1", "03/11/2026", "Lift"],
        ["TS2", "2026-11-03", "Door"]]})
    at = app_on(path, lang)
    assert not at.exception
    df = at.dataframe[0].value
    assert df.iloc[0, 0] == 2 and df.shape == (1, 4)


def test_an_unreadable_register_is_one_clear_banner(tmp_path):
    bad = tmp_path / "bad.xlsx"
    bad.write_text("x")
    at = app_on(bad, "en")
    assert not at.exception
    assert at.error[0].value.startswith("The register could not be read: ")


def test_empty_register_says_what_to_do(tmp_path):
    path = write_xlsx(tmp_path / "e.xlsx", {"Complaints": [["Complaint No.", "Received",
                                                             "Subject"]]})
    at = app_on(path, "en")
    assert at.info[-1].value.startswith("The register has no complaints yet.")
