#!/usr/bin/python3
"""Keeps docs/schedule.schema.json and the shipped schedules honest: the schema is a valid draft
2020-12 schema, every schedule under scenarios/schedules/ matches it and passes `ringfence
schedule check`, and a schedule the loader refuses for a schema-visible reason is refused by the
schema too.

Usage: schedule_schema.py RINGFENCE SCHEMA SCENARIOS_DIR
"""
import json
import pathlib
import subprocess
import sys

import jsonschema


def main(ringfence, schema_path, scenarios):
    schema = json.load(open(schema_path))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    failures = []
    files = sorted(pathlib.Path(scenarios).glob("schedules/*.json"))
    if not files:
        failures.append(f"no schedules under {scenarios}/schedules")
    for f in files:
        for e in validator.iter_errors(json.load(open(f))):
            failures.append(f"{f}: {e.json_path}: {e.message}")
        r = subprocess.run([ringfence, "schedule", "check", str(f), "--from",
                            "2026-12-07T00:00:00Z"], capture_output=True, text=True)
        if r.returncode != 0:
            failures.append(f"{f}: ringfence schedule check exited {r.returncode}: {r.stderr}")
    bad = [
        {"version": 1, "entries": []},
        {"version": 1, "entries": [{"name": "x", "experiment": "e.json"}]},
        {"version": 1, "entries": [{"name": "x", "experiment": "e.json", "calendar": "daily",
                                    "on_missed": "later"}]},
        {"version": 1, "entries": [{"name": "x", "experiment": "e.json", "calendar": "daily",
                                    "jiter": "1s"}]},
        {"version": 2, "entries": [{"name": "x", "experiment": "e.json", "calendar": "daily"}]},
    ]
    for doc in bad:
        if validator.is_valid(doc):
            failures.append(f"the schema accepts {json.dumps(doc)}")
    for f in failures:
        print(f)
    print(f"{len(files)} schedules checked; {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
