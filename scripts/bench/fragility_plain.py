#!/usr/bin/env python3
"""The bare part of the import + export benchmark (docs/benchmarks.md,
"Reads (issue 14)"): a plain single-threaded script that reads an inventory
CSV set and prints the fragility index of every structure in the CSV
contract of `vigie inventory fragility --format csv`, computed as
../shared/design/FRAGILITY.md specifies, with its defaults. No validation,
no storage, no events: what any federation could write in an afternoon.

    python3 scripts/bench/fragility_plain.py SET_DIR --today 2026-11-28 > out.csv
"""

import csv
import datetime as dt
import math
import sys
from collections import defaultdict

CRITICALITY = {
    "funding_applications": 3, "funder_reporting": 2, "scheduling": 3, "payroll": 3,
    "invoicing": 2, "accounting": 2, "accounts_access": 3, "collaboration_suite": 2,
    "beneficiary_records": 2, "communication": 1, "data_protection": 1, "equipment_backups": 1,
}
RECENCY_DAYS = 365
HORIZON_DAYS = 365
VOLUNTEER_LIKE = {"volunteer", "board_member", "contractor"}


def date(text):
    return dt.date.fromisoformat(text) if text else None


def rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        yield from csv.DictReader(f)


def assess(functions, people, holdings, today):
    """(score, band, truck factor, orphans, spofs, director dependency)."""
    if not functions:
        return None, "unknown", None, [], [], 0.0
    holders = {code: set() for code in functions}
    for person_id, code, level, last in holdings:
        person = people.get(person_id)
        if code not in holders or person is None:
            continue
        role, end = person
        active = end is None or end >= today
        recent = last is None or (today - last).days <= RECENCY_DAYS
        if active and level >= 3 and recent:
            holders[code].add(person_id)

    def q(person_id):
        role, end = people[person_id]
        if end is not None and end >= today and (end - today).days <= HORIZON_DAYS:
            return 1.0
        return 0.30 if role in VOLUNTEER_LIKE else 0.15

    total = sum(functions.values())
    risks = {}
    for code in sorted(functions):
        risk = 1.0
        for person_id in sorted(holders[code]):
            risk *= q(person_id)
        risks[code] = risk
    weighted = sum(functions[c] * risks[c] for c in sorted(functions))
    score = min(100, math.floor(100.0 * weighted / total + 0.5 + 1e-9))
    orphans = sorted(c for c in functions if not holders[c])
    spofs = sorted(c for c in functions if len(holders[c]) == 1)
    director = sum(functions[c] for c in spofs if people[next(iter(holders[c]))][0] == "director")

    removed, truck = set(), 0
    while True:
        covered = [c for c in functions if holders[c] - removed]
        if not covered or sum(functions[c] for c in covered) < 0.5 * total:
            break
        tally = defaultdict(lambda: [0, 0])
        for c in covered:
            for p in holders[c] - removed:
                tally[p][0] += functions[c]
                tally[p][1] += 1
        best = min(tally, key=lambda p: (-tally[p][0], -tally[p][1], p.encode()))
        removed.add(best)
        truck += 1

    if any(functions[c] == 3 and risks[c] >= 1.0 - 1e-12 for c in functions):
        band = "critical"
    elif any(functions[c] == 3 and len(holders[c]) == 1 for c in functions) or score >= 40:
        band = "high"
    elif orphans or spofs or score >= 15:
        band = "moderate"
    else:
        band = "low"
    return score, band, truck, orphans, spofs, director / total


def main():
    folder = sys.argv[1]
    today = date(sys.argv[sys.argv.index("--today") + 1]) if "--today" in sys.argv else dt.date.today()
    structures = [r["structure_id"] for r in rows(f"{folder}/structures.csv")]
    functions = defaultdict(dict)
    for r in rows(f"{folder}/functions.csv"):
        w = int(r["criticality"]) if r["criticality"] else CRITICALITY[r["function"]]
        current = functions[r["structure_id"]].get(r["function"], 0)
        functions[r["structure_id"]][r["function"]] = max(current, w)
    people, owner = defaultdict(dict), {}
    for r in rows(f"{folder}/people.csv"):
        people[r["structure_id"]][r["person_id"]] = (r["role"], date(r["end_date"]))
        owner[r["person_id"]] = r["structure_id"]
    holdings = defaultdict(list)
    for r in rows(f"{folder}/holdings.csv"):
        structure = owner.get(r["person_id"])
        if structure is not None:
            holdings[structure].append((r["person_id"], r["function"], int(r["level"]), date(r["last_practised"])))

    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["structure_id", "score", "band", "truck_factor", "orphan_functions", "spof_functions",
                  "director_dependency"])
    for s in sorted(structures):
        score, band, truck, orphans, spofs, director = assess(functions[s], people[s], holdings[s], today)
        out.writerow([s, "" if score is None else score, band, "" if truck is None else truck,
                      ";".join(orphans), ";".join(spofs), f"{director:.4f}"])


if __name__ == "__main__":
    main()
