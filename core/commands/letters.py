"""Letters from one complaint's row (R-LETTER): the reply letter 投诉处理通知书, the
acceptance notice (R-ACCEPT), the extension notice (R-EXTEND) and the 8D report — each an
editable .docx filled from a replaceable template, and a PDF of the same filled text.

A letter states only what the row holds: a blank field is written into the letter as
missing (【待补充：…】), never guessed.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from pathlib import Path

import pandas as pd

from core.errors import NotFoundError, RegisterError
from core.reading.i18n import label
from core.reading.schema import SCHEMA_DIR, fold, norm
from core.rules.register import Register

KINDS = ("reply", "acceptance", "extension", "8d")
#: letters addressed to the complainant: the only ones that name them (R-RECUSE)
TO_COMPLAINANT = ("reply", "acceptance", "extension")
IDENTITY = ("complainant", "contact", "address")
DEFAULT_DIR = SCHEMA_DIR / "letters"
ENV_DIR = "COMPLAINTS_LETTERS_DIR"
# XML 1.0 cannot hold these; text pasted from other programs sometimes carries them.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def letter_kinds(reg: Register) -> list[str]:
    """The letters the register's policy writes (setting `letters`), in KINDS order."""
    wanted = {k.strip().lower() for k in re.split(r"[,\s，、]+", str(
        reg.policy.settings.get("letters") or "")) if k.strip()}
    return [k for k in KINDS if k in wanted]


def find_row(reg: Register, complaint_id: str) -> int:
    """The sheet row of a complaint number (its first row if the number is used twice)."""
    t = reg.table
    hits = t.index[t["id"].eq(complaint_id)]
    if not len(hits):
        hits = t.index[fold(t["id"]).eq(norm(complaint_id))]
    if not len(hits) or not str(complaint_id).strip():
        raise NotFoundError(f"No complaint has the number '{complaint_id}'; check the "
                            f"{reg.tab.column('id').en} column of the register.")
    row = int(hits[0])
    kind = t.at[row, "kind"]
    if kind != "complaint":
        raise RegisterError(f"{t.at[row, 'id']} is a {kind or 'row'} of another kind, not a "
                            f"complaint; letters are written for complaints.")
    return row


def _blank(v: object) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v) or v == ""


def _yes(v: object) -> bool:
    return not _blank(v) and bool(v)


def _no(v: object) -> bool:
    return not _blank(v) and not bool(v)


def _date(v: pd.Timestamp, lang: str, with_time: bool = True) -> str:
    v = pd.Timestamp(v)
    # A date typed without a time, or the end of a day, is that day (R-COUNT).
    whole_day = v.time() in (dt.time(0, 0), dt.time(23, 59, 59))
    day = f"{v.year}年{v.month}月{v.day}日" if lang == "zh" else f"{v:%Y-%m-%d}"
    return day if whole_day or not with_time else f"{day} {v:%H:%M}"


class Row:
    """One complaint's values as a letter writes them: labels in the letter's language,
    dates written out, and a blank as the missing marker naming its column."""

    def __init__(self, reg: Register, row: int, lang: str):
        self.reg, self.lang = reg, lang
        self.values = reg.table.loc[row]

    def missing(self, key: str) -> str:
        return label("letter_missing", self.lang, field=self.reg.tab.column(key).header(self.lang))

    def has(self, key: str) -> bool:
        return not _blank(self.values[key])

    def text(self, key: str, with_time: bool = True) -> str:
        if not self.has(key):
            return self.missing(key)
        v = self.values[key]
        col = self.reg.tab.column(key)
        if col.type == "datetime":
            return _date(v, self.lang, with_time)
        if col.type == "bool":
            return label("yes" if v else "no", self.lang)
        if col.type == "enum":
            return self.reg.schema.value_sets[col.values].label(str(v), self.lang)
        if col.type == "category":
            return self.reg.policy.categories.label(str(v), self.lang)
        return CONTROL.sub("", str(v)).strip()


def _report_no(reg: Register, cid: str) -> str:
    """The 8D number: 8D + date + serial, from the complaint number (R-NUMBER) [004]."""
    prefix = str(reg.policy.settings["id_prefix"])
    m = re.fullmatch(re.escape(prefix) + r"(\d{8,})", cid, flags=re.I)
    return f"8D{m[1]}" if m else cid


def letter_context(reg: Register, row: int, kind: str, lang: str) -> dict[str, object]:
    """Every placeholder of a letter: each column under its key, dates as `*_date`, and the
    sentences composed from the row (finding, measures, preventive, decision, agreement)."""
    if kind not in KINDS:
        raise RegisterError(f"There is no letter '{kind}'; choose one of: {', '.join(KINDS)}.")
    r = Row(reg, row, lang)
    out: dict[str, object] = {c.key: r.text(c.key) for c in reg.tab.columns
                              if not c.bookkeeping and c.key not in IDENTITY}
    if kind in TO_COMPLAINANT:
        out.update(complainant=r.text("complainant"), address=r.text("address"))
    for key in ("received_at", "accepted_at", "resolved_at", "closed_at"):
        out[key.replace("_at", "_date")] = r.text(key, with_time=False)
    out["complaint_no"] = r.text("id")
    out["report_no"] = _report_no(reg, str(r.values["id"]))
    sender = reg.policy.settings.get("organisation")
    out["sender"] = str(sender) if sender else label("letter_missing", lang, field=label(
        "letter_sender_field", lang))
    invalid = r.values["validity"] == "invalid"
    out["finding"] = label("letter_finding_invalid" if invalid else "letter_finding", lang,
                           validity=r.text("validity"), root_cause=r.text("root_cause"))
    out["measures"] = (label("letter_no_measures", lang) if invalid and not r.has("measures")
                       else r.text("measures"))
    out["preventive"] = (label("letter_no_preventive", lang)
                         if invalid and not r.has("corrective_action")
                         else r.text("corrective_action"))
    accepted = r.values["accepted"]
    out["decision"] = (label("letter_undecided", lang, accepted=r.missing("accepted"))
                       if _blank(accepted) else
                       label("letter_accepted" if _yes(accepted) else "letter_rejected", lang,
                             accepted_date=r.text("accepted_at", with_time=False),
                             reject_reason=r.text("reject_reason")))
    out["agreement"] = label("letter_agreed", lang) if _yes(r.values["extension_agreed"]) else ""
    flags = {"is_valid": r.values["validity"] == "valid", "is_invalid": invalid,
             "is_accepted": _yes(accepted), "is_rejected": _no(accepted)}
    return {**out, **flags}


def template_dir(reg: Register) -> Path:
    """Where the team's templates are: setting `letters_dir`, else the environment variable
    COMPLAINTS_LETTERS_DIR, else the ones shipped in sheets_schema/letters/."""
    chosen = reg.policy.settings.get("letters_dir") or os.environ.get(ENV_DIR)
    return Path(str(chosen)).expanduser() if chosen else DEFAULT_DIR


def template_path(reg: Register, kind: str, lang: str) -> Path:
    """The team's template for `kind` in `lang`, else the shipped default."""
    own = template_dir(reg) / lang / f"{kind}.docx"
    return own if own.exists() else DEFAULT_DIR / lang / f"{kind}.docx"


def render_docx(reg: Register, row: int, kind: str, lang: str) -> bytes:
    """The filled .docx of one letter."""
    from docxtpl import DocxTemplate, Listing
    from jinja2 import TemplateError
    from jinja2.sandbox import SandboxedEnvironment

    path = template_path(reg, kind, lang)
    context = {k: Listing(v) if isinstance(v, str) else v
               for k, v in letter_context(reg, row, kind, lang).items()}
    try:
        tpl = DocxTemplate(path)
        tpl.render(context, jinja_env=SandboxedEnvironment(autoescape=True))
    except TemplateError as exc:
        raise RegisterError(f"The letter template {path} has an error ({exc}); fix its "
                            f"{{{{ placeholders }}}} or remove it to use the default.") from exc
    except (OSError, KeyError, ValueError) as exc:
        raise RegisterError(f"The letter template {path} cannot be read as a Word document "
                            f"({exc}).") from exc
    buf = io.BytesIO()
    tpl.save(buf)
    return buf.getvalue()


def letter_lang(reg: Register, lang: str | None) -> str:
    return lang if lang in ("zh", "en") else reg.sheet_lang


def letter_download(reg: Register, complaint_id: str, kind: str, fmt: str = "docx",
                    lang: str | None = None) -> tuple[str, bytes]:
    """(file name, bytes) of one letter as the editable `docx` or its `pdf`, in the
    register's language unless `lang` says otherwise."""
    from core.commands.docx_pdf import docx_to_pdf

    if kind not in letter_kinds(reg):
        raise RegisterError(f"The {reg.policy.name} policy writes these letters: "
                            f"{', '.join(letter_kinds(reg))}; '{kind}' is not one of them "
                            f"(setting `letters`).")
    lang = letter_lang(reg, lang)
    row = find_row(reg, complaint_id)
    cid = str(reg.table.at[row, "id"])
    data = render_docx(reg, row, kind, lang)
    if fmt == "pdf":
        title = f"{label(f'letter_kind_{kind}', lang)} {cid}"
        data = docx_to_pdf(data, title=title, when=reg.localize(reg.now))
    return letter_filename(cid, kind, fmt), data


def letter_filename(complaint_id: str, kind: str, fmt: str) -> str:
    return re.sub(r"[^\w.-]+", "_", f"{complaint_id}-{kind}") + f".{fmt}"


def write_letter(reg: Register, complaint_id: str, kind: str, out: str | Path,
                 lang: str | None = None) -> list[Path]:
    """Write the letter's .docx and .pdf into the folder `out`; returns their paths."""
    files = [letter_download(reg, complaint_id, kind, fmt, lang) for fmt in ("docx", "pdf")]
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files:
        (folder / name).write_bytes(data)
    return [folder / name for name, _ in files]
