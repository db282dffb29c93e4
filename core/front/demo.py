"""A realistic demo register: 15 months of complaints with every milestone, some late, some
repeats, a group complaint, in Chinese or English."""

from __future__ import annotations

import datetime as dt
import random

from core.reading.schema import Schema
from core.rules import clock
from core.rules.policy import DEFAULT_POLICY, load_policy

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"
EN_FIRST = ["Alex", "Blake", "Casey", "Dana", "Eli", "Frankie", "Gale", "Harper", "Jordan",
            "Kim", "Lee", "Morgan", "Noel", "Parker", "Quinn", "Riley", "Sam", "Taylor"]
EN_LAST = ["Chen", "Wang", "Li", "Smith", "Zhang", "Brown", "Liu", "Jones", "Zhou", "Wu"]
DEPARTMENTS = {"zh": ["客服部", "工程部", "保洁部", "安保部", "售后服务部", "销售部"],
               "en": ["Customer Service", "Engineering", "Cleaning", "Security", "After-sales",
                      "Sales"]}
SUBJECTS = {
    "zh": ["产品出现质量问题", "维修后仍不能使用", "多收取维修费用", "服务人员态度差",
           "上门服务迟到", "宣传与实际不符", "配件长期无货", "合同条款争议", "退货处理太慢",
           "热线电话无人接听"],
    "en": ["Product stopped working", "Still broken after repair", "Overcharged for repair",
           "Rude service staff", "Engineer arrived late", "Advert did not match the product",
           "Spare part out of stock", "Dispute over contract terms", "Refund too slow",
           "Hotline never answered"],
}
# One matter in many words (R-GROUP groups by matter, not by wording).
GROUP_SUBJECTS = {"zh": ["小区电梯停运", "电梯又坏了", "3号楼电梯又不能用", "电梯停运好几天了"],
                  "en": ["Lift out of service", "Lift broken again", "The lift in building 3 is down"]}
#: the demo's supervisor and viewer, named apart from the random staff (whose given names
#: never use these characters), so the README and tests can name them
DEMO_USERS = {"supervisor": {"zh": "周文博", "en": "Morgan Hale"},
              "viewer": {"zh": "吴思远", "en": "Avery Stone"}}
TEXT = {
    "zh": {"desc": "投诉人反映：{s}，已多次沟通未解决。", "req": "尽快处理并给予答复",
           "cause": "现场核实：{s}，原因是作业流程未执行到位。",
           "action": "何时：本周内；何地：现场；何人：{d}；为何：防止再发；做什么：整改并培训；怎么做：按流程复查",
           "addr": "{n}号楼{u}室", "ext": "等待配件到货", "mat": "原件存档案柜A-{n}",
           "praise": "服务周到，特此表扬", "suggest": "建议增加服务网点", "tip": "举报有人违规收费",
           "measures": "已安排{d}处理：{s}的问题已整改完毕"},
    "en": {"desc": "The complainant reports: {s}; raised several times without a fix.",
           "req": "Fix it quickly and reply", "cause": "Verified on site: {s}; the procedure "
           "was not followed.", "action": "When: this week; where: on site; who: {d}; why: "
           "prevent recurrence; what: fix and train; how: re-check by the procedure",
           "addr": "Building {n}, unit {u}", "ext": "Waiting for a spare part",
           "mat": "Originals in cabinet A-{n}", "praise": "Excellent service, thank you",
           "suggest": "Please open more service points",
           "tip": "Reports staff taking unofficial fees",
           "measures": "{d} dealt with it: {s} has been put right"},
}


def _name(rng: random.Random, lang: str) -> str:
    if lang == "zh":
        return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
    return f"{rng.choice(EN_FIRST)} {rng.choice(EN_LAST)}"


def _phone(rng: random.Random) -> str:
    if rng.random() < 0.2:  # a landline keeps its leading zero
        return f"0{rng.randint(10, 999)}-{rng.randint(10000000, 99999999)}"
    return f"1{rng.choice('3578')}{rng.randint(100000000, 999999999)}"


def demo_records(schema: Schema, *, rows: int = 300, seed: int = 1, lang: str = "zh",
                 now: dt.datetime | None = None) -> dict[str, list[dict[str, object]]]:
    """Records for every tab, keyed by tab key; values use the labels of `lang`."""
    rng = random.Random(seed)
    policy, _ = load_policy(DEFAULT_POLICY, schema)
    now = clock.local(now, policy.tz) if now else clock.now_in(policy.tz)
    vs = schema.value_sets

    def lab(set_name: str, key: str) -> str:
        return (policy.categories if set_name == "category" else vs[set_name]).label(key, lang)

    depts = DEPARTMENTS[lang]
    staff = {d: [_name(rng, lang) for _ in range(4)] for d in depts}
    receivers = [_name(rng, lang) for _ in range(4)]
    text = TEXT[lang]
    start = now - dt.timedelta(days=455)
    times = sorted(start + dt.timedelta(seconds=rng.randint(0, 455 * 86400)) for _ in range(rows))
    group_at = now - dt.timedelta(days=rng.randint(40, 120))
    group_rows = set(rng.sample(range(rows), min(12, rows // 10))) if rows >= 60 else set()
    serials: dict[str, int] = {}
    out: list[dict[str, object]] = []
    by_dept: dict[str, list[int]] = {}
    for i, t in enumerate(times):
        if i in group_rows:
            t = group_at + dt.timedelta(hours=rng.randint(0, 240))
        t = t.replace(hour=rng.randint(8, 17), second=0)
        if t > now:
            t = now - dt.timedelta(minutes=rng.randint(5, 600))
        day = t.strftime("%Y%m%d")
        serials[day] = serials.get(day, 0) + 1
        dept = rng.choice(depts)
        kind = "complaint"
        r = rng.random()
        if i not in group_rows and r < 0.05:
            kind = "praise"
        elif i not in group_rows and r < 0.13:
            kind = "suggestion"
        elif i not in group_rows and r < 0.15:
            kind = "tip_off"
        subject = (rng.choice(GROUP_SUBJECTS[lang]) if i in group_rows else
                   text["tip"] if kind == "tip_off" else rng.choice(SUBJECTS[lang]))
        respondent = dept if rng.random() < 0.7 else rng.choice(staff[dept])
        rec: dict[str, object] = {
            "id": f"{policy.settings['id_prefix']}{day}{serials[day]:03d}",
            "kind": lab("kind", kind), "received_at": t,
            "channel": lab("channel", rng.choice(vs["channel"].keys())),
            "source": lab("source", "callback" if rng.random() < 0.1 else "active"),
            "first_receiver": rng.choice(receivers), "complainant": _name(rng, lang),
            "contact": _phone(rng),
            "address": text["addr"].format(n=rng.randint(1, 30), u=rng.randint(101, 2804)),
            "respondent": respondent, "subject": subject,
            "description": {"praise": text["praise"], "suggestion": text["suggest"],
                            "tip_off": text["tip"]}.get(kind, text["desc"].format(s=subject)),
            "request": text["req"], "materials": text["mat"].format(n=rng.randint(1, 99)),
            "category": lab("category", rng.choice(policy.categories.keys())),
            "severity": lab("severity", rng.choices(["light", "general", "major"], [3, 6, 1])[0]),
            "warning_level": lab("warning_level", rng.choices("CBA", [14, 5, 1])[0]),
            "urgent": lab("yes_no", "yes" if rng.random() < 0.1 else "no"),
            "region": lab("region", rng.choices(["in_province", "out_of_province", "remote"],
                                                [8, 3, 1])[0]),
            "department": dept,
            "handler": rng.choice([s for s in staff[dept] if s != respondent]),
            "version": 1, "updated_by": rng.choice(receivers),
        }
        if i in group_rows:
            rec["respondent"] = depts[1]
            rec["department"] = depts[1]
            rec["handler"] = staff[depts[1]][0]
        late = rng.random() < 0.12

        def step(base: dt.datetime, lo: float, hi: float, late: bool = late) -> dt.datetime | None:
            hours = rng.uniform(lo, hi) * (2.5 if late else 1)
            when = base + dt.timedelta(hours=hours)
            return when.replace(second=0, microsecond=0) if when <= now else None

        last = t
        if kind == "complaint":
            # The clocks of the other presets' regimes: forwarding, escalation reports by
            # warning level, media involvement (R-WARN, seed 002).
            rec["transferred_at"] = step(t, 0.5, 6)
            level = rec["warning_level"]
            if level in ("A", "B"):
                rec["report_phone_at"] = step(t, 0.2, 0.9)
                rec["report_written_at"] = step(t, 1, 3.8)
            if rec["channel"] == lab("channel", "media") or level == "A":
                known = t if rec["channel"] == lab("channel", "media") else step(t, 1, 48)
                if known:
                    rec["media_known_at"] = known
                    rec["media_notice_at"] = step(known, 0.2, 0.9)
                    rec["media_written_at"] = step(known, 0.5, 1.8)
                    if level == "A":
                        rec["plan_at"] = step(known, 1, 3.8)
        if kind == "complaint" and rng.random() < 0.04:
            decided = step(t, 2, 72)
            if decided:
                ground = rng.choice(vs["reject_reason"].keys())
                rec.update(accepted=lab("yes_no", "no"), accepted_at=decided,
                           reject_reason=lab("reject_reason", ground),
                           first_reply_at=decided, reply_written=lab("yes_no", "yes"),
                           closed_at=decided, archived=lab("yes_no", "yes"))
                if ground == "time_barred":
                    rec["harm_known_at"] = (t - dt.timedelta(days=365 * 4)).replace(
                        hour=0, minute=0)
                last = decided
        elif kind == "complaint" and (decided := step(t, 1, 60)) is not None:
            rec.update(accepted=lab("yes_no", "yes"), accepted_at=decided)
            rec["stock_decision_at"] = step(decided, 1, 7.5)
            last = decided
            chain = [("first_reply_at", decided, 2, 90), ("assigned_at", decided, 0.5, 8),
                     ("dept_reply_at", None, 4, 60), ("resolved_at", None, 12, 200),
                     ("callback_at", None, 8, 100), ("closed_at", None, 1, 24)]
            stall = rng.randrange(1, 6) if rng.random() < 0.08 else 99  # left open, late
            for n, (key, base, lo, hi) in enumerate(chain):
                when = step(base or last, lo, hi)
                if when is None or n == stall:
                    break
                rec[key] = when
                last = max(last, when)
                if key == "first_reply_at" and rng.random() < 0.3:
                    rec["second_reply_at"] = step(when, 12, 70)
                if key == "assigned_at":
                    rec["onsite_at"] = step(when, 12, 160)
                    rec["validity"] = lab("validity", "valid" if rng.random() < 0.85 else "invalid")
                if key == "dept_reply_at":
                    rec["plan_agreed"] = lab("yes_no", "yes")
                    rec["root_cause"] = text["cause"].format(s=subject)
                    rec["corrective_action"] = text["action"].format(d=dept)
                    rec["measures"] = text["measures"].format(d=dept, s=subject)
                if key == "resolved_at" and rng.random() < 0.06:
                    # agreed while the work was under way (R-EXTEND), before the result
                    rec["extended_at"] = rec["accepted_at"]
                    rec["extended_to"] = (when + dt.timedelta(days=rng.randint(1, 4))).replace(
                        hour=0, minute=0)
                    rec["extension_reason"] = text["ext"]
                    rec["extension_agreed"] = lab("yes_no", "yes")
                if key == "callback_at":
                    sat = rng.choices(["very_satisfied", "satisfied", "basically_satisfied",
                                       "unsatisfied"], [3, 6, 1, 1])[0]
                    rec["satisfaction"] = lab("satisfaction", sat)
                    rec["reply_written"] = lab("yes_no", "yes")
                    if sat not in ("very_satisfied", "satisfied"):
                        if rng.random() < 0.5:
                            break  # to be reprocessed: stays open (R-REOPEN)
                        # reprocessed once, still unsatisfied: escalated, closed on instruction
                        rec.update(first_satisfaction=rec["satisfaction"], reprocess_count=1,
                                   escalated=lab("yes_no", "yes"))
                if key == "closed_at":
                    rec["archived"] = lab("yes_no", "yes")
            if (kind == "complaint" and rec.get("resolved_at") is None and rng.random() < 0.3
                and last < now):
                rec["last_followup_at"] = step(last, 4, 48) or last
        rec["updated_at"] = max(v for v in rec.values() if isinstance(v, dt.datetime))
        # A repeat: a later complaint of an earlier complainant about the same department.
        earlier = by_dept.get(dept, [])
        if kind == "complaint" and earlier and rng.random() < 0.05 and i not in group_rows:
            parent = out[rng.choice(earlier)]
            rec.update(parent_id=parent["id"], complainant=parent["complainant"],
                       contact=parent["contact"], respondent=parent["respondent"],
                       subject=parent["subject"])
            if rec["handler"] == rec["respondent"]:
                rec["handler"] = next(s for s in staff[dept] if s != rec["respondent"])
        if kind == "complaint" and i not in group_rows:
            by_dept.setdefault(dept, []).append(i)
        out.append({k: v for k, v in rec.items() if v not in (None, "")})
    departments = [{"name": d, "head": staff[d][0], "contact": _phone(rng)} for d in depts]
    users = [{"user": DEMO_USERS["supervisor"][lang], "role": lab("role", "supervisor")},
             {"user": DEMO_USERS["viewer"][lang], "role": lab("role", "viewer")}]
    users += [{"user": n, "role": lab("role", "clerk"), "department": depts[0]} for n in receivers]
    users += [{"user": n, "role": lab("role", "handler"), "department": d}
              for d in depts for n in staff[d]]
    return {"complaints": out, "departments": departments, "users": users}
