#!/usr/bin/python3
"""Keeps docs/dependency-map.schema.json honest: it is a valid draft 2020-12 schema (its guards,
probes and process selectors are the experiment schema's), every map under scenarios/maps/ and
the examples of docs/dependency-map.md match it, and maps the loader refuses for a schema-visible
reason are refused by the schema too.

Usage: map_schema.py MAP_SCHEMA EXPERIMENT_SCHEMA SCENARIOS_DIR DOCS_PAGE
"""
import json
import pathlib
import re
import sys

import jsonschema


def main(schema_path, experiment_schema_path, scenarios, page):
    schema = json.load(open(schema_path))
    experiment = json.load(open(experiment_schema_path))
    jsonschema.Draft202012Validator.check_schema(schema)
    resolver = jsonschema.RefResolver.from_schema(schema, store={experiment["$id"]: experiment})
    validator = jsonschema.Draft202012Validator(schema, resolver=resolver)
    failures = []
    docs = [(str(f), json.load(open(f))) for f in sorted(pathlib.Path(scenarios).glob("maps/*.json"))]
    # The page's examples: the ```json blocks that hold a whole map.
    for i, block in enumerate(re.findall(r"```json\n(.*?)```", open(page).read(), re.S)):
        doc = json.loads(block)
        if isinstance(doc, dict) and "dependencies" in doc:
            docs.append((f"{page} example {i}", doc))
    if not docs:
        failures.append("no maps to check")
    for name, doc in docs:
        for e in validator.iter_errors(doc):
            failures.append(f"{name}: {e.json_path}: {e.message}")
    good = docs[0][1] if docs else {}
    bad = []
    for change in [
        lambda d: d["service"].__setitem__("slos", []),
        lambda d: d["service"].pop("slos"),
        lambda d: d["dependencies"][0]["faults"][0].__setitem__("kind", "stall"),
        lambda d: d["dependencies"][0]["faults"][0].__setitem__("port", 1),
        lambda d: d["dependencies"][0].__setitem__("expect", "maybe"),
        lambda d: d["dependencies"][0].__setitem__("endpoint", "db:5432"),
        lambda d: d.__setitem__("version", 2),
        lambda d: d.__setitem__("discover", "yes"),
    ]:
        doc = json.loads(json.dumps(good))
        change(doc)
        bad.append(doc)
    for doc in bad:
        if validator.is_valid(doc):
            failures.append(f"the schema accepts {json.dumps(doc)[:200]}")
    for f in failures:
        print(f)
    print(f"{len(docs)} maps checked, {len(bad)} refused; {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
