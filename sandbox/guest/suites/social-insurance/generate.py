#!/usr/bin/env python3
"""Regenerate the social-insurance example suite: datasets/social_insurance.json and cases.json.

Fake people with checksum-valid resident ID numbers (GB 11643), hand-picked contribution
histories that exercise the edge cases (year boundaries, gaps, empty history), and expected
outputs computed here by an independent reference implementation of the service.
Run from anywhere: python3 generate.py
"""
import json
import os

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"


def resident_id(region, birth, seq):
    body = f"{region}{birth}{seq:03d}"
    return body + CHECK[sum(int(c) * w for c, w in zip(body, WEIGHTS)) % 11]


def month_range(start, end, skip=()):
    y, m = map(int, start.split("-"))
    out = []
    while f"{y:04d}-{m:02d}" <= end:
        s = f"{y:04d}-{m:02d}"
        if s not in skip:
            out.append(s)
        m += 1
        if m == 13:
            y, m = y + 1, 1
    return out


def history(months, employer, base_fen):
    return [
        {
            "month": month,
            "employer": employer,
            "base_fen": base_fen,
            "personal_fen": base_fen * 8 // 100,
            "employer_fen": base_fen * 16 // 100,
        }
        for month in months
    ]


def index(month):
    y, m = map(int, month.split("-"))
    return y * 12 + m - 1


def reference(record, months=12):
    """The service as specified: the window is the last `months` months ending at the latest."""
    if record is None:
        return {"found": False, "name": None, "months_paid": 0, "total_personal_fen": 0,
                "total_employer_fen": 0, "latest_month": None, "continuous_months": 0}
    recs = record["records"]
    if not recs:
        return {"found": True, "name": record["name"], "months_paid": 0, "total_personal_fen": 0,
                "total_employer_fen": 0, "latest_month": None, "continuous_months": 0}
    latest = max(index(r["month"]) for r in recs)
    window = [r for r in recs if latest - index(r["month"]) < months]
    paid = {index(r["month"]) for r in window}
    run = 0
    while run < months and latest - run in paid:
        run += 1
    return {
        "found": True,
        "name": record["name"],
        "months_paid": len(paid),
        "total_personal_fen": sum(r["personal_fen"] for r in window),
        "total_employer_fen": sum(r["employer_fen"] for r in window),
        "latest_month": f"{latest // 12:04d}-{latest % 12 + 1:02d}",
        "continuous_months": run,
    }


PEOPLE = [
    # (name, region, birth, seq, city, months, employer, base_fen)
    ("张伟", "330106", "19900101", 123, "杭州市",
     month_range("2024-07", "2026-06"), "杭州云栖数据科技有限公司", 800000),
    ("李娜", "330203", "19881215", 456, "宁波市",
     month_range("2025-01", "2026-05", skip={"2026-02"}), "宁波港城物流有限公司", 650000),
    ("王芳", "330302", "19950630", 78, "温州市",
     month_range("2024-06", "2024-12") + month_range("2026-01", "2026-03"),
     "温州瓯江鞋业有限公司", 520000),
    ("刘洋", "330106", "20000220", 31, "杭州市", [], "", 0),
    ("陈静", "330402", "19791108", 902, "嘉兴市",
     month_range("2023-01", "2026-06", skip={"2024-03", "2025-11"}), "嘉兴南湖纺织集团有限公司",
     1200000),
    ("杨磊", "330521", "19850917", 264, "湖州市",
     month_range("2025-10", "2026-04"), "湖州太湖旅游发展有限公司", 700000),
]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    dataset = {}
    ids = []
    for name, region, birth, seq, city, months, employer, base in PEOPLE:
        rid = resident_id(region, birth, seq)
        ids.append(rid)
        dataset[rid] = {"name": name, "id_number": rid, "city": city,
                        "records": history(months, employer, base)}

    unknown = resident_id("330681", "19920404", 555)
    assert unknown not in dataset

    def case(cid, description, subject, months, visibility, kind="equals", weight=1):
        inp = {} if months is None else {"months": months}
        expected = reference(dataset.get(subject), 12 if months is None else months)
        if kind == "equals":
            expect = {"kind": "equals", "value": expected}
        elif kind == "contains":
            expect = {"kind": "contains",
                      "value": {k: expected[k] for k in ("found", "months_paid")}}
        else:
            expect = {"kind": "schema"}
        return {"id": cid, "description": description, "input": inp, "subject": subject,
                "expect": expect, "visibility": visibility, "weight": weight}

    cases = [
        case("sample-continuous-default", "连续缴费两年，默认查询最近 12 个月（跨年）",
             ids[0], None, "sample"),
        case("sample-gap-in-window", "窗口内有断缴月份，连续月数从最近一次断缴后算起",
             ids[1], 12, "sample"),
        case("sample-not-found", "身份证号无缴费记录", unknown, 6, "sample"),
        case("sample-contains", "只核对是否找到与缴费月数", ids[4], 24, "sample", "contains"),
        case("hidden-year-gap", "跨年断缴：2024-12 之后直到 2026-01 才续缴",
             ids[2], 36, "hidden", weight=2),
        case("hidden-empty-history", "参保但从未缴费", ids[3], 12, "hidden"),
        case("hidden-one-month", "只查询最近 1 个月", ids[4], 1, "hidden"),
        case("hidden-36-months", "最长窗口 36 个月，含两次断缴", ids[4], 36, "hidden"),
        case("hidden-short-history", "缴费历史短于窗口", ids[5], 24, "hidden"),
        case("hidden-schema-only", "仅校验输出结构", ids[0], 3, "hidden", "schema"),
    ]

    with open(os.path.join(here, "datasets", "social_insurance.json"), "w") as f:
        json.dump(dataset, f, ensure_ascii=False, indent=1)
        f.write("\n")
    with open(os.path.join(here, "cases.json"), "w") as f:
        json.dump(cases, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
