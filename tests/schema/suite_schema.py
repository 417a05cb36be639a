#!/usr/bin/python3
"""Keeps docs/suite.schema.json telling the truth about the suite loader (runner/run/suite_file.cc).

  suite_schema.py RINGFENCE SCHEMA SUITES_DIR

- every shipped suite file (SUITES_DIR/*.json) validates against the schema;
- the keys the schema allows at the top and in an experiment are the ones the loader lists in
  its `unknown key: one of …` errors (a suite file with an unknown key in both places is given to
  `ringfence suite`, which refuses it before anything runs);
- documents the loader rejects are rejected by the schema too.

Run with Debian's Python (/usr/bin/python3 with python3-jsonschema).
"""

import json
import pathlib
import re
import subprocess
import sys
import tempfile

import jsonschema


def loader_errors(ringfence, doc):
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "suite.json"
        path.write_text(json.dumps(doc))
        result = subprocess.run([ringfence, "suite", str(path), "--state-dir", tmp + "/state"],
                                capture_output=True, text=True, timeout=60, check=False)
        if result.returncode != 2:
            raise SystemExit(f"expected exit 2 for {doc}, got {result.returncode}: "
                             f"{result.stderr}")
        return result.stderr


def main():
    ringfence, schema_path, suites = sys.argv[1:4]
    schema = json.loads(pathlib.Path(schema_path).read_text())
    validator = jsonschema.Draft202012Validator(schema)
    failures = []

    files = sorted(pathlib.Path(suites).glob("*.json"))
    if not files:
        failures.append(f"no suite files under {suites}")
    for f in files:
        for e in validator.iter_errors(json.loads(f.read_text())):
            failures.append(f"{f}: {e.message}")

    stderr = loader_errors(ringfence, {"version": 1, "bogus": 1,
                                       "experiments": [{"file": "a.json", "bogus": 1}]})
    listed = dict(re.findall(r": (/bogus|/experiments/0/bogus): unknown key: one of (.*)",
                             stderr))
    top = set(schema["properties"])
    member = set(schema["properties"]["experiments"]["items"]["properties"])
    for pointer, keys in (("/bogus", top), ("/experiments/0/bogus", member)):
        loader = set(listed.get(pointer, "").split(", "))
        if loader != keys:
            failures.append(f"{pointer}: the loader allows {sorted(loader)}, "
                            f"the schema {sorted(keys)}")

    rejects = [
        {"version": 2, "experiments": [{"file": "a.json"}]},
        {"version": 1, "experiments": []},
        {"version": 1, "experiments": [{"vars": {}}]},
        {"version": 1, "fail_fast": "yes", "experiments": [{"file": "a.json"}]},
        {"version": 1, "vars": {"a": [1]}, "experiments": [{"file": "a.json"}]},
        {"version": 1, "vars": {"1st": 1}, "experiments": [{"file": "a.json"}]},
        {"version": 1, "tags": [""], "experiments": [{"file": "a.json"}]},
    ]
    for doc in rejects:
        loader_errors(ringfence, doc)
        if validator.is_valid(doc):
            failures.append(f"the schema accepts what the loader rejects: {doc}")

    for f in failures:
        print(f, file=sys.stderr)
    if failures:
        return 1
    print(f"{len(files)} suite files, the keys and {len(rejects)} rejects agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
