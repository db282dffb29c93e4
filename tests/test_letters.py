"""Letters from a complaint's row (R-LETTER): every sentence from a column, a blank field
named as missing, never invented; the .docx and its PDF; replaceable templates; the CLI."""

import io
import re

import docx
import pytest
from pypdf import PdfReader

from core.commands.letter_templates import build_templates
from core.commands.letters import DEFAULT_DIR, KINDS, letter_download
from core.errors import RegisterError

from .conftest import NOW, run_cli, write_xlsx
from .rules_helpers import register_of

FULL = {"id": "TS20261012001", "received_at": "2026-10-12 09:30", "channel": "信函",
        "complainant": "王芳", "contact": "13800138000", "address": "3号楼1201室",
        "respondent": "工程部", "subject": "电梯停运三天", "description": "3号楼电梯停运三天无人处理。",
        "request": "尽快修复并说明原因", "category": "服务质量", "severity": "一般",
        "accepted": "是", "accepted_at": "2026-10-13 10:00", "validity": "成立",
        "department": "工程部", "handler": "李强", "resolved_at": "2026-10-16 17:00",
        "root_cause": "维保单位未按计划更换控制板。", "measures": "已更换控制板，电梯恢复运行。",
        "corrective_action": "维保合同增加备件条款，每月巡检控制板。"}


def paragraphs(data: bytes) -> list[str]:
    d = docx.Document(io.BytesIO(data))
    out = [p.text for p in d.paragraphs]
    for t in d.tables:
        out += [c.text for row in t.rows for c in row.cells]
    return out


def table_rows(data: bytes) -> list[list[str]]:
    rows = []
    for t in docx.Document(io.BytesIO(data)).tables:
        rows += [[c.text for c in row.cells] for row in t.rows]
    return rows


def letter(row: dict, kind: str = "reply", lang: str = "zh", fmt: str = "docx", **kw):
    reg = register_of([row], **kw)
    return letter_download(reg, row.get("id", "TS001"), kind, fmt, lang)


def test_the_reply_letter_says_only_what_the_row_holds():
    # R-LETTER: the complaint, findings, measures, preventive measures, thanks and apology;
    # each sentence comes from a column (or is the fixed thanks and apology).
    name, data = letter(FULL, settings={"organisation": "某某物业服务有限公司"})
    assert name == "TS20261012001-reply.docx"
    assert [p for p in paragraphs(data) if p] == [
        "投诉处理通知书",
        "编号：TS20261012001",
        "王芳：",
        "您于2026年10月12日通过信函反映的“电梯停运三天”一事，现将处理情况告知如下。",
        "一、投诉内容",
        "3号楼电梯停运三天无人处理。",
        "您的要求：尽快修复并说明原因",
        "二、调查情况",
        "经调查核实，投诉成立。原因分析：维保单位未按计划更换控制板。",
        "三、处理措施",
        "已更换控制板，电梯恢复运行。",
        "完成时间：2026年10月16日",
        "四、预防措施",
        "维保合同增加备件条款，每月巡检控制板。",
        "五、感谢与致歉",
        "感谢您对我们工作的监督与支持。对给您带来的不便，我们深表歉意。",
        "某某物业服务有限公司（盖章）",
        "　　　　年　　月　　日"]


def test_a_row_missing_fields_gets_a_letter_naming_them_never_a_made_up_value():
    # R-LETTER: "never with a promise the row does not hold"
    row = {k: v for k, v in FULL.items() if k not in (
        "root_cause", "measures", "corrective_action", "resolved_at", "complainant")}
    text = "\n".join(paragraphs(letter(row)[1]))
    for field in ("原因分析", "处理措施", "纠正预防措施", "处理完成时间", "投诉人",
                  "落款单位（设置项 organisation）"):
        assert f"【待补充：{field}】" in text, field
    # the only date in the letter is the one the row holds
    assert re.findall(r"\d{4}年\d+月\d+日", text) == ["2026年10月12日"]
    assert "完成时间：【待补充：处理完成时间】" in text


def test_an_invalid_complaint_says_no_measures_were_taken_rather_than_missing():
    row = {**FULL, "validity": "不成立", "root_cause": "经查电梯运行记录正常。"}
    del row["measures"], row["corrective_action"]
    text = paragraphs(letter(row)[1])
    assert "经调查核实，投诉不成立。情况说明：经查电梯运行记录正常。" in text
    assert "投诉经核实不成立，未采取处理措施。" in text
    assert "投诉经核实不成立，未采取纠正预防措施。" in text


@pytest.mark.parametrize(("ground", "shown"), [
    ("out_of_scope", "不属于受理范围"), ("handled_elsewhere", "已由其他机构受理或处理"),
    ("no_dispute", "不属于消费争议"), ("time_barred", "超过投诉时效"),
    ("materials_missing", "材料不全"), ("other_legal", "其他法定情形")])
def test_a_non_acceptance_notice_carries_its_ground(ground, shown):
    # R-ACCEPT: a rejection carries one of the grounds; R-LETTER: the notice (告知) says it
    row = {**FULL, "accepted": "否", "reject_reason": ground}
    text = paragraphs(letter(row, "acceptance")[1])
    assert ("您于2026年10月12日通过信函提出的关于“电梯停运三天”的投诉，经审查，本单位于2026年10月13日"
            f"决定不予受理，理由：{shown}。") in text
    assert text[:3] == ["受理决定告知书", "编号：TS20261012001", "王芳："]


def test_an_acceptance_notice_and_an_undecided_one():
    text = paragraphs(letter(FULL, "acceptance")[1])
    assert ("您于2026年10月12日通过信函提出的关于“电梯停运三天”的投诉，经审查，本单位于2026年10月13日"
            "决定予以受理。") in text
    row = {k: v for k, v in FULL.items() if k not in ("accepted", "accepted_at")}
    assert any(p.endswith("受理决定：【待补充：是否受理】") for p in paragraphs(letter(
        row, "acceptance")[1]))


def test_an_extension_notice_states_the_new_date_and_reason_and_agreement_only_if_agreed():
    # R-EXTEND: the complainant is told the new committed date and the reason
    row = {**FULL, "extended_to": "2026-10-30", "extension_reason": "等待厂家配件",
           "extension_agreed": "是", "extended_at": "2026-10-15 09:00"}
    text = paragraphs(letter(row, "extension")[1])
    assert ("您于2026年10月12日反映的“电梯停运三天”一事，因等待厂家配件，未能在原定期限内办结。"
            "经与您协商，您已同意延期。") in text
    assert "办结期限延至：2026年10月30日" in text
    row["extension_agreed"] = "否"
    text = paragraphs(letter(row, "extension")[1])
    assert not any("同意" in p for p in text)
    bare = paragraphs(letter(FULL, "extension")[1])
    assert "办结期限延至：【待补充：延期至】" in bare
    assert any("因【待补充：延期原因】" in p for p in bare)


def test_the_8d_report_fills_d1_to_d8_from_its_columns_and_never_names_the_complainant():
    # R-LETTER: the quality preset's 8D report (D1 team … D8 closure) [004]
    row = {**FULL, "team": "品质部张工、生产部刘工", "containment": "隔离库存 200 件",
           "verification": "连续三批抽检合格", "preventive_action": "更新来料检验规范",
           "closed_at": "2026-10-20 10:00", "satisfaction": "满意", "callback_at":
           "2026-10-18 10:00", "category": "产品质量"}
    _, data = letter(row, "8d", policy="quality")
    rows = table_rows(data)
    assert rows[0] == ["8D编号", "8D20261012001", "投诉编号", "TS20261012001"]
    assert rows[1] == ["受理时间", "2026年10月12日", "类别", "产品质量"]
    steps = {r[0]: r[1] for r in rows[3:]}
    assert list(steps) == [f"D{i} {n}" for i, n in enumerate(
        ("小组成员", "问题描述", "临时措施", "原因分析", "纠正措施", "实施与验证", "预防再发生", "结案"), 1)]
    assert steps["D1 小组成员"] == "品质部张工、生产部刘工"
    assert steps["D2 问题描述"] == "电梯停运三天\n3号楼电梯停运三天无人处理。"
    assert steps["D3 临时措施"] == "隔离库存 200 件"
    assert steps["D4 原因分析"] == "维保单位未按计划更换控制板。"
    assert steps["D5 纠正措施"] == "维保合同增加备件条款，每月巡检控制板。"
    assert steps["D6 实施与验证"] == "连续三批抽检合格\n完成时间：2026年10月16日"
    assert steps["D7 预防再发生"] == "更新来料检验规范"
    assert steps["D8 结案"] == "结案时间：2026年10月20日；客户满意度：满意"
    # R-RECUSE: the complainant's identity only in letters to the complainant
    text = "\n".join(paragraphs(data))
    assert "王芳" not in text and "13800138000" not in text and "3号楼1201室" not in text


@pytest.mark.parametrize("kind", ["reply", "acceptance", "extension"])
def test_letters_to_the_complainant_name_them_but_never_print_their_phone(kind):
    text = "\n".join(paragraphs(letter(FULL, kind)[1]))
    assert "王芳" in text and "13800138000" not in text


def test_the_8d_report_is_only_a_letter_of_presets_that_write_it():
    with pytest.raises(RegisterError, match=r"The consumer policy writes these letters: reply, "
                                            r"acceptance, extension; '8d' is not one of them"):
        letter(FULL, "8d")
    assert letter(FULL, "8d", settings={"letters": "reply, 8d"})[0] == "TS20261012001-8d.docx"


def test_english_letters_and_markers():
    row = {k: v for k, v in FULL.items() if k != "measures"}
    text = paragraphs(letter(row, lang="en")[1])
    assert text[0] == "Reply letter" and "Dear 王芳," in text
    assert "On 2026-10-12 you told us by letter about “电梯停运三天”. This letter tells you what we " \
           "found and what we did." in text
    assert "[missing: Measures taken]" in text
    assert "We checked the facts: the complaint is valid. Cause: 维保单位未按计划更换控制板。" in text


def test_user_text_with_markup_and_control_characters_stays_text():
    row = {**FULL, "description": "a < b & c > d {{ sender }}\x07\x0b", "measures": "行1\n行2"}
    text = paragraphs(letter(row)[1])
    assert "a < b & c > d {{ sender }}" in text
    assert "行1\n行2" in text


def test_the_pdf_is_the_same_text_and_shows_the_chinese():
    # R-LETTER: a PDF in the register's language; the Chinese is real text, not boxes
    name, pdf = letter(FULL, fmt="pdf", settings={"organisation": "某某物业服务有限公司"})
    assert name == "TS20261012001-reply.pdf" and pdf.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).replace("\n", "")
    for line in ("投诉处理通知书", "经调查核实，投诉成立。原因分析：维保单位未按计划更换控制板。",
                 "已更换控制板，电梯恢复运行。", "某某物业服务有限公司（盖章）"):
        assert line in text, line


def test_the_8d_pdf_lays_out_its_tables():
    row = {**FULL, "team": "品质部张工"}
    pdf = letter(row, "8d", fmt="pdf", policy="quality")[1]
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "8D20261012001" in text and "D1 小组成员" in text and "品质部张工" in text
    assert "【待补充：临时措施】" in text


def test_a_team_template_replaces_the_default_in_the_docx_and_the_pdf(tmp_path, monkeypatch):
    own = tmp_path / "ours"
    (own / "zh").mkdir(parents=True)
    doc = docx.Document()
    doc.add_paragraph("我公司答复函 {{ complaint_no }}")
    doc.add_paragraph("事项：{{ subject }}；措施：{{ measures }}")
    doc.save(own / "zh" / "reply.docx")
    for how in ("setting", "environment"):
        if how == "setting":
            reg = register_of([FULL], settings={"letters_dir": str(own)})
        else:
            monkeypatch.setenv("COMPLAINTS_LETTERS_DIR", str(own))
            reg = register_of([FULL])
        assert paragraphs(letter_download(reg, "TS20261012001", "reply")[1]) == [
            "我公司答复函 TS20261012001", "事项：电梯停运三天；措施：已更换控制板，电梯恢复运行。"]
        pdf = letter_download(reg, "TS20261012001", "reply", "pdf")[1]
        assert "我公司答复函 TS20261012001" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
        # a kind the team did not replace keeps the shipped template
        assert paragraphs(letter_download(reg, "TS20261012001", "acceptance")[1])[0] == "受理决定告知书"


def test_a_broken_team_template_is_one_clear_error(tmp_path):
    (tmp_path / "zh").mkdir()
    doc = docx.Document()
    doc.add_paragraph("{{ subject ")
    doc.save(tmp_path / "zh" / "reply.docx")
    reg = register_of([FULL], settings={"letters_dir": str(tmp_path)})
    with pytest.raises(RegisterError, match=r"^The letter template .*reply\.docx has an error"):
        letter_download(reg, "TS20261012001", "reply")


def test_the_shipped_templates_are_built_from_the_labels(tmp_path):
    build_templates(tmp_path)
    for lang in ("zh", "en"):
        for kind in KINDS:
            built = (tmp_path / lang / f"{kind}.docx").read_bytes()
            shipped = (DEFAULT_DIR / lang / f"{kind}.docx").read_bytes()
            assert paragraphs(built) == paragraphs(shipped), (lang, kind)


def test_unknown_numbers_and_other_kinds_are_clear_errors():
    reg = register_of([FULL, {"id": "TS20261012002", "received_at": "2026-10-12 10:00",
                              "kind": "建议"}])
    with pytest.raises(RegisterError, match=r"^No complaint has the number 'TS404'; check the "
                                            r"Complaint No\. column of the register\.$"):
        letter_download(reg, "TS404", "reply")
    with pytest.raises(RegisterError, match=r"^TS20261012002 is a suggestion of another kind, "
                                            r"not a complaint; letters are written for complaints"):
        letter_download(reg, "TS20261012002", "reply")
    # the number is matched as people type it: case and spaces do not matter
    assert letter_download(reg, " ts20261012001 ", "reply")[0] == "TS20261012001-reply.docx"


@pytest.fixture(scope="module")
def en_register(tmp_path_factory):
    head = ["Complaint No.", "Received", "Subject", "Complainant", "Details", "Validity",
            "Root cause"]
    return write_xlsx(tmp_path_factory.mktemp("en") / "en.xlsx", {"Complaints": [
        head, ["TS20261101001", "2026-11-01 09:00", "Lift stopped", "Ann Lee",
               "The lift stopped for three days.", "valid", "A worn control board."]]})


def test_the_letter_command_writes_the_docx_and_the_pdf(en_register, tmp_path):
    # R-LETTER through DESIGN.md's CLI contract: `letter ID --kind … --out DIR [--lang]`
    out = tmp_path / "letters"
    p = run_cli("letter", "TS20261101001", "--kind", "reply", "--out", str(out), "--workbook",
                str(en_register), "--now", NOW)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == [str(out / "TS20261101001-reply.docx"),
                                str(out / "TS20261101001-reply.pdf")]
    text = paragraphs((out / "TS20261101001-reply.docx").read_bytes())
    assert text[0] == "Reply letter"  # the register's language: English headers
    assert "We checked the facts: the complaint is valid. Cause: A worn control board." in text
    p = run_cli("letter", "TS20261101001", "--kind", "acceptance", "--out", str(out), "--lang",
                "zh", "--workbook", str(en_register))
    assert p.returncode == 0, p.stderr
    pdf = PdfReader(out / "TS20261101001-acceptance.pdf").pages[0].extract_text()
    assert "受理决定告知书" in pdf and "【待补充：是否受理】" in pdf


@pytest.mark.parametrize(("args", "message"), [
    (["TS404", "--kind", "reply"], "Error: No complaint has the number 'TS404'; check the "
     "Complaint No. column of the register.\n"),
    (["TS20261101001", "--kind", "8d"], "Error: The consumer policy writes these letters: "
     "reply, acceptance, extension; '8d' is not one of them (setting `letters`).\n")])
def test_the_letter_command_fails_with_one_sentence_and_exit_2(en_register, tmp_path, args,
                                                                message):
    p = run_cli("letter", *args, "--out", str(tmp_path / "x"), "--workbook", str(en_register))
    assert (p.returncode, p.stdout, p.stderr) == (2, "", message)
    assert not (tmp_path / "x").exists() or not any((tmp_path / "x").iterdir())


def test_the_queue_and_closure_pages_offer_the_letters(demo_path):
    from .test_app import app_on

    at = app_on(demo_path, "en", "queue")
    first = at.dataframe[0].value.iloc[0]
    at.selectbox(key="queue_pick").set_value(first["Complaint No."]).run()
    assert not at.exception
    assert at.selectbox(key="q_letter_en").options == ["Reply letter", "Acceptance notice",
                                                   "Extension notice"]
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download Word (editable)" in labels and "Download PDF" in labels
    at = app_on(demo_path, "zh", "closure")
    assert not at.exception
    assert {"下载 Word（可编辑）", "下载 PDF"} <= {b.proto.label for b in at.get("download_button")}
