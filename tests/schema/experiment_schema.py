#!/usr/bin/python3
"""Keeps docs/experiment.schema.json telling the truth about the loader.

Run with Debian's Python (/usr/bin/python3 and python3-jsonschema; the pyenv `python3` on PATH
does not see Debian's modules). RINGFENCE is the built binary.

  experiment_schema.py write RINGFENCE SCHEMA   regenerate the fault part of SCHEMA
  experiment_schema.py check NAME RINGFENCE SCHEMA SCENARIOS_DIR
                                                run one check (ctest runs each):
    fault-params  $defs/faultStep and $defs/faultParams are what `ringfence faults --json`
                  declares (the fault types, which need a target, each fault's parameters with
                  their types, limits, choices and defaults); `write` makes them so.
    keys          every closed object of the schema allows exactly the keys the loader's field
                  tables allow: a probe document with an unknown key in every section is given
                  to `ringfence validate`, whose `unknown key: one of …` errors list the
                  loader's keys per section.
    scenarios     every shipped scenario, placeholders filled the way the loader fills them,
                  and every shipped inventory validate against the schema.
    rejects       documents the loader rejects (unknown keys, bad fault types, bad settings,
                  bad hosts) are rejected by the schema too, and the documents they were made
                  from are accepted by both.

What the schema cannot say (the loader checks it; see the schema's description) is not checked.
"""

import copy
import json
import pathlib
import re
import subprocess
import sys
import tempfile

import jsonschema

# ---- Formatting: an object or array on one line when it fits, otherwise one member a line ----

WIDTH = 100


def _compact(value):
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def format_json(value, indent=0, prefix=""):
    """`value` as the schema file writes it; `prefix` is what precedes it on its line."""
    one_line = _compact(value)
    if not isinstance(value, (dict, list)) or not value or \
            indent + len(prefix) + len(one_line) + 1 <= WIDTH:
        return prefix + one_line
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        items = [format_json(v, indent + 2, pad + _compact(k) + ": ")
                 for k, v in value.items()]
        open_, close = "{", "}"
    else:
        items = [format_json(v, indent + 2, pad) for v in value]
        open_, close = "[", "]"
    return prefix + open_ + "\n" + ",\n".join(items) + "\n" + " " * indent + close


# ---- The fault part, generated from `ringfence faults --json` -------------------------------

def fault_declarations(ringfence):
    out = subprocess.run([ringfence, "faults", "--json"], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out)


def _number(x):
    return int(x) if isinstance(x, float) and x.is_integer() else x


def param_schema(param):
    kind = param["type"]
    doc = param.get("doc", "")
    lo, hi = param.get("min"), param.get("max")
    if kind == "string":
        s = {"type": "string"}
    elif kind in ("integer", "number"):
        s = {"type": kind}
        if lo is not None:
            s["minimum"] = _number(lo)
        if hi is not None:
            s["maximum"] = _number(hi)
    elif kind == "boolean":
        s = {"type": "boolean"}
    elif kind == "duration":
        s = {"$ref": "#/$defs/duration"}
        # Duration limits are checked by the loader (a pattern cannot compare durations).
        if lo is not None and hi is not None:
            doc += f" (from {lo} to {hi})"
        elif lo is not None:
            doc += f" (at least {lo})"
        elif hi is not None:
            doc += f" (at most {hi})"
    elif kind == "signal":
        s = {"$ref": "#/$defs/signal"}
    elif kind == "string_list":
        s = {"type": "array", "items": {"type": "string"}}
    elif kind == "enum":
        s = {"enum": param["choices"]}
    elif kind == "count_list":
        s = {"type": "array", "items": {"type": ["integer", "string"]}}
    else:
        raise SystemExit(f"experiment_schema.py: parameter type {kind!r} has no schema form")
    out = {}
    if doc:
        out["description"] = doc.strip()
    out.update(s)
    if "default" in param:
        out["default"] = param["default"]
    return out


def fault_params(decl):
    s = {"type": "object", "additionalProperties": False,
         "properties": {p["name"]: param_schema(p) for p in decl["params"]}}
    required = [p["name"] for p in decl["params"] if p["required"]]
    if required:
        s["required"] = required
    return s


def fault_step(decls):
    rules = []
    for d in decls:
        then = {"properties": {"params": {"$ref": "#/$defs/faultParams/" + d["name"]}}}
        if d["target_kind"] == "process":
            then["required"] = ["target"]
        rules.append({"if": {"required": ["type"], "properties": {"type": {"const": d["name"]}}},
                      "then": then})
    return {
        "description": "A fault step (generated from `ringfence faults --json` by "
                       "tests/schema/experiment_schema.py write). Process faults need a target "
                       "with a process selector; host faults take none, or a target that names "
                       "inventory hosts and no process (the loader checks which).",
        "type": "object",
        "additionalProperties": False,
        "required": ["type", "duration"],
        "properties": {
            "type": {"enum": [d["name"] for d in decls]},
            "name": {"description": "Unique among the fault steps; default <type>-<index>.",
                     "type": "string", "minLength": 1},
            "target": {"description": "A key of /targets.", "type": "string"},
            "params": {"type": "object", "default": {}},
            "duration": {"description": "At most settings.max_fault_lifetime.",
                         "$ref": "#/$defs/positiveDuration"},
            "start_after": {"$ref": "#/$defs/duration", "default": "0s"},
        },
        "allOf": rules,
    }


def with_faults(schema, decls):
    out = copy.deepcopy(schema)
    out["$defs"]["faultStep"] = fault_step(decls)
    out["$defs"]["faultParams"] = {d["name"]: fault_params(d) for d in decls}
    return out


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write(ringfence, schema_path):
    schema = with_faults(load(schema_path), fault_declarations(ringfence))
    jsonschema.Draft202012Validator.check_schema(schema)
    pathlib.Path(schema_path).write_text(format_json(schema) + "\n", encoding="utf-8")


# ---- Helpers for the checks ----------------------------------------------------------------

class Failures:
    def __init__(self):
        self.lines = []

    def add(self, text):
        self.lines.append(text)

    def exit(self, what):
        if self.lines:
            print("\n".join(self.lines), file=sys.stderr)
            print(f"FAILED: {what}: {len(self.lines)} problem(s)", file=sys.stderr)
            return 1
        print(f"ok: {what}")
        return 0


def validator(schema, ref=None):
    if ref is not None:
        schema = {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": ref}
    return jsonschema.Draft202012Validator(schema)


def schema_errors(v, doc):
    return ["{}: {}".format("/" + "/".join(str(p) for p in e.absolute_path), e.message)
            for e in v.iter_errors(doc)]


def validate_with_loader(ringfence, doc):
    """(exit code, stderr) of `ringfence validate` on `doc` written to a temporary file."""
    with tempfile.TemporaryDirectory(prefix="rf-schema-") as tmp:
        path = pathlib.Path(tmp) / "exp.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        run = subprocess.run([ringfence, "validate", str(path)], capture_output=True, text=True,
                             cwd=tmp, timeout=60)
        return run.returncode, run.stderr


# ---- fault-params ----------------------------------------------------------------------------

def check_fault_params(ringfence, schema_path, _scenarios):
    failures = Failures()
    schema = load(schema_path)
    jsonschema.Draft202012Validator.check_schema(schema)
    expected = with_faults(schema, fault_declarations(ringfence))
    if schema["$defs"].get("faultStep") != expected["$defs"]["faultStep"]:
        failures.add("$defs/faultStep differs from `ringfence faults --json`")
    have, want = schema["$defs"].get("faultParams", {}), expected["$defs"]["faultParams"]
    for name in sorted(set(have) | set(want)):
        if have.get(name) != want.get(name):
            failures.add(f"$defs/faultParams/{name} differs from `ringfence faults --json`")
    if failures.lines:
        failures.add("regenerate them: /usr/bin/python3 tests/schema/experiment_schema.py write "
                     "build/ringfence docs/experiment.schema.json")
    return failures.exit("the schema's fault steps and parameters match the declarations")


# ---- keys ------------------------------------------------------------------------------------

def props(s):
    return s.get("properties", {})


def branch(one_of, type_name):
    for b in one_of:
        if props(b).get("type", {}).get("const") == type_name:
            return b
    raise KeyError(type_name)


def key_probe(decls):
    """A document with the unknown key "zz" in every closed object the loader reads, and for
    each such object (by the loader's pointer) the schema objects that must allow its keys."""
    d = {"zz": 1}
    http = {"type": "http", "url": "http://127.0.0.1:9/", "status": {"min": 1, "zz": 1}, "zz": 1}
    probes = [http,
              {"type": "tcp", "port": 9, "zz": 1},
              {"type": "command", "argv": ["true"], "zz": 1},
              {"type": "process_alive", "target": "p", "zz": 1}]
    sources = [{"type": "promql", "url": "http://127.0.0.1:9", "query": "up", "zz": 1},
               {"type": "scrape", "url": "http://127.0.0.1:9", "metric": "up", "zz": 1},
               {"type": "probe_stats", "probe": {"type": "tcp", "port": 9}, "stat": "mean",
                "zz": 1},
               {"type": "probe", "probe": {"type": "tcp", "port": 9}, "zz": 1},
               {"type": "affected_fraction", "target": "p", "zz": 1}]
    faults = [{"type": f["name"], "duration": "1s", "zz": 1} for f in decls]
    doc = {
        "version": 1, "title": "keys", **d,
        "inventory": {"hosts": [{"name": "h", "address": "127.0.0.1", **d}], "defaults": d,
                      "ssh": d, **d},
        "targets": {"p": {"process": {"pid": 5, **d}, "select": d, **d},
                    "h": {"hosts": {"select": d, **d}}},
        "steady_state": probes,
        "method": [{"type": "wait", "duration": "1s", **d},
                   {"type": "probe", "probe": {"type": "tcp", "port": 9}, **d}] + faults,
        "guards": [{"source": s, "condition": {"max": 1, **d}, **d} for s in sources],
        "rollbacks": [{"argv": ["true"], **d}],
        "settings": d,
    }

    def sections(schema):
        defs = schema["$defs"]
        select = [b for b in defs["select"]["oneOf"] if b.get("type") == "object"]
        tolerance = [b for b in defs["tolerance"]["oneOf"] if b.get("type") == "object"]
        out = {
            "": [schema],
            "/inventory": [defs["inventory"]],
            "/inventory/hosts/0": [defs["inventoryHost"]],
            "/inventory/defaults": [defs["inventoryDefaults"]],
            "/inventory/ssh": [defs["inventorySsh"]],
            "/targets/p": [defs["target"]],
            "/targets/p/process": [props(defs["target"])["process"]],
            "/targets/p/select": select,
            "/targets/h/hosts": [defs["hosts"]],
            "/targets/h/hosts/select": select,
            "/steady_state/0/status": tolerance,
            "/method/0": [defs["step"]["then"]],
            "/method/1": [defs["step"]["else"]["then"]],
            "/rollbacks/0": [defs["rollback"]],
            "/settings": [defs["settings"]],
        }
        for i, p in enumerate(probes):
            out[f"/steady_state/{i}"] = [branch(defs["probe"]["oneOf"], p["type"])]
        for i, s in enumerate(sources):
            out[f"/guards/{i}"] = [defs["guard"]]
            out[f"/guards/{i}/condition"] = [props(defs["guard"])["condition"]]
            out[f"/guards/{i}/source"] = [branch(defs["guardSource"]["oneOf"], s["type"])]
        for i in range(len(faults)):
            out[f"/method/{i + 2}"] = [defs["faultStep"]]
        return out

    return doc, sections


def check_keys(ringfence, schema_path, _scenarios):
    failures = Failures()
    schema = load(schema_path)
    doc, sections = key_probe(fault_declarations(ringfence))
    code, err = validate_with_loader(ringfence, doc)
    if code != 2:
        failures.add(f"ringfence validate exited {code} on the key probe (expected 2):\n{err}")
    loader = {}
    for line in err.splitlines():
        m = re.match(r"^.*?: (\S*)/zz: unknown key: one of (.*)$", line)
        if m:
            loader[m.group(1)] = set(m.group(2).split(", "))
    for pointer, objects in sections(schema).items():
        if pointer not in loader:
            failures.add(f"{pointer or '/'}: the loader did not report the unknown key zz")
            continue
        allowed = set()
        for o in objects:
            if o.get("additionalProperties") is not False:
                failures.add(f"{pointer or '/'}: a schema object here is open "
                             f"(additionalProperties is not false)")
            allowed |= set(props(o))
        if allowed != loader[pointer]:
            failures.add(f"{pointer or '/'}: the schema allows {sorted(allowed)}, "
                         f"the loader {sorted(loader[pointer])}")
    for pointer in sorted(set(loader) - set(sections(schema))):
        failures.add(f"{pointer or '/'}: the loader has a field table here that this check "
                     f"does not compare ({sorted(loader[pointer])}); add it to key_probe")
    return failures.exit(f"the keys of {len(loader)} closed objects match the loader's tables")


# ---- scenarios ------------------------------------------------------------------------------

# The placeholder values tests/integration/scenarios_test.cc validates the scenarios with.
SCENARIO_VARS = {
    "demo_hosts_file": "/tmp/hosts.json", "demo_good_content": "/tmp/good.txt",
    "demo_fleet_id": "f1", "demo_fleet_size": "5", "demo_fleet_min_alive": "4",
    "demo_port_0": "8080", "demo_port_last": "8084", "port": "8080", "data_dir": "/mnt/data",
    "address": "127.0.0.1", "upstream": "127.0.0.1:8080", "listen": "127.0.0.1:18080",
}

PLACEHOLDER = re.compile(r"\$\$\{|\$\{([^}]*)\}")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def fill_string(text, lookup):
    """core/base/placeholders.h FillPlaceholdersInString for values that all exist."""
    parts, tokens, pos = [], 0, 0
    for m in PLACEHOLDER.finditer(text):
        parts.append(text[pos:m.start()])
        pos = m.end()
        if m.group(0) == "$${":
            parts.append("${")
            continue
        if not NAME.match(m.group(1)):
            raise ValueError(f"malformed placeholder in {text!r}")
        tokens += 1
        parts.append(lookup[m.group(1)])
    parts.append(text[pos:])
    whole = re.fullmatch(r"\$\{([^}]*)\}", text)
    if whole and tokens == 1:
        try:
            typed = json.loads(lookup[whole.group(1)])
            if isinstance(typed, (bool, int, float)):
                return typed
        except json.JSONDecodeError:
            pass
    return "".join(parts)


def fill(value, lookup):
    if isinstance(value, str):
        return fill_string(value, lookup)
    if isinstance(value, list):
        return [fill(v, lookup) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, lookup) for k, v in value.items()}
    return value


def check_scenarios(_ringfence, schema_path, scenarios):
    failures = Failures()
    schema = load(schema_path)
    experiment, inventory = validator(schema), validator(schema, "#/$defs/inventory")
    files = sorted(pathlib.Path(scenarios).glob("*.json"))
    inventories = sorted(pathlib.Path(scenarios).glob("inventories/*.json"))
    if not files or not inventories:
        failures.add(f"no scenarios or inventories under {scenarios}")
    for path in files:
        for e in schema_errors(experiment, fill(load(path), SCENARIO_VARS)):
            failures.add(f"{path.name}: {e}")
    for path in inventories:
        for e in schema_errors(inventory, load(path)):
            failures.add(f"inventories/{path.name}: {e}")
    return failures.exit(f"{len(files)} scenarios and {len(inventories)} inventories "
                         f"validate against the schema")


# ---- rejects ---------------------------------------------------------------------------------

BASE = {"version": 1, "title": "t", "method": [{"type": "wait", "duration": "1s"}],
        "guards": []}


def variant(change):
    doc = copy.deepcopy(BASE)
    change(doc)
    return doc


def fleet(doc):
    doc["inventory"] = {"hosts": [{"name": "h1", "address": "127.0.0.1",
                                   "tags": {"role": "web"}}]}
    doc["targets"] = {"web": {"hosts": {"tags": {"role": "web"}}}}
    doc["method"] = [{"type": "network_loss", "target": "web", "params": {"percent": 5},
                      "duration": "1s"}]


def process(doc):
    doc["targets"] = {"w": {"process": {"name": "sleep"}}}
    doc["method"] = [{"type": "process_kill", "target": "w", "params": {"signal": "KILL"},
                      "duration": "1s"}]


# What each change is, and the change; every one makes BASE (or its fleet or process form)
# something the loader rejects.
REJECTS = [
    ("an unknown top-level key", lambda d: d.update(tiltle="t")),
    ("an unknown settings key", lambda d: d.update(settings={"max_concurency": 4})),
    ("a fault type that is not registered",
     lambda d: d["method"].append({"type": "process_kil", "duration": "1s"})),
    ("an unknown fault parameter",
     lambda d: (process(d), d["method"][0]["params"].update(sgnal="KILL"))),
    ("a process fault without a target",
     lambda d: (process(d), d["method"][0].pop("target"))),
    ("a missing required fault parameter",
     lambda d: (fleet(d), d["method"][0]["params"].pop("percent"))),
    ("a fault parameter above its maximum",
     lambda d: (fleet(d), d["method"][0]["params"].update(percent=101))),
    ("a fault parameter outside its choices",
     lambda d: (fleet(d), d["method"][0]["params"].update(direction="sideways"))),
    ("a bad signal", lambda d: (process(d), d["method"][0]["params"].update(signal="SIGFOO"))),
    ("a target with neither process nor hosts",
     lambda d: (process(d), d["targets"]["w"].pop("process"))),
    ("hosts by tags and names at once",
     lambda d: (fleet(d), d["targets"]["web"]["hosts"].update(names=["h1"]))),
    ("hosts by groups and names at once",
     lambda d: (fleet(d), d["targets"]["web"].update(hosts={"groups": ["web"], "names": ["h1"]}))),
    ("an empty groups list",
     lambda d: (fleet(d), d["targets"]["web"].update(hosts={"groups": []}))),
    ("an unknown hosts key",
     lambda d: (fleet(d), d["targets"]["web"]["hosts"].update(tag={"role": "web"}))),
    ("an empty names list", lambda d: (fleet(d), d["targets"]["web"].update(hosts={"names": []}))),
    ("max_concurrency 0", lambda d: d.update(settings={"max_concurrency": 0})),
    ("max_concurrency 1025", lambda d: d.update(settings={"max_concurrency": 1025})),
    ("on_unreachable neither abort nor skip",
     lambda d: d.update(settings={"on_unreachable": "retry"})),
    ("max_targets 0", lambda d: d.update(settings={"max_targets": 0})),
    ("an empty inventory path", lambda d: d.update(inventory="")),
    ("an inventory without hosts", lambda d: d.update(inventory={"defaults": {"port": 22}})),
    ("an inventory host without an address",
     lambda d: (fleet(d), d["inventory"]["hosts"][0].pop("address"))),
    ("an inventory host name starting with -",
     lambda d: (fleet(d), d["inventory"]["hosts"][0].update(name="-oProxyCommand=x"))),
    ("an unknown inventory ssh key",
     lambda d: (fleet(d), d["inventory"].update(ssh={"multiplx": True}))),
    ("a scrape quantile without stat quantile",
     lambda d: d["guards"].append({"source": {"type": "scrape", "url": "http://127.0.0.1:9",
                                              "metric": "up", "quantile": 0.5},
                                   "condition": {"max": 1}})),
    ("a scrape window with stat value",
     lambda d: d["guards"].append({"source": {"type": "scrape", "url": "http://127.0.0.1:9",
                                              "metric": "up", "window": "5s"},
                                   "condition": {"max": 1}})),
    ("a process name with a NUL", lambda d: (process(d), d["targets"]["w"]["process"].update(
        name="sl\u0000eep"))),
]

# Forms of BASE both must accept (the rejects above are made from them).
ACCEPTS = [
    ("the base document", lambda d: None),
    ("a host fault on inventory hosts", fleet),
    ("a process fault", process),
    ("fleet settings", lambda d: d.update(settings={"max_concurrency": 1024,
                                                    "on_unreachable": "skip",
                                                    "max_targets": 1000000})),
    ("a signal by number", lambda d: (process(d), d["method"][0]["params"].update(signal=9))),
    ("a scrape quantile", lambda d: d["guards"].append(
        {"source": {"type": "scrape", "url": "http://127.0.0.1:9", "metric": "up",
                    "stat": "quantile", "quantile": 0.5, "window": "5s"},
         "condition": {"max": 1}})),
]


def check_rejects(ringfence, schema_path, _scenarios):
    failures = Failures()
    v = validator(load(schema_path))
    for what, change in ACCEPTS:
        doc = variant(change)
        code, err = validate_with_loader(ringfence, doc)
        if code != 0:
            failures.add(f"{what}: the loader rejects it (exit {code}):\n{err}")
        for e in schema_errors(v, doc):
            failures.add(f"{what}: the schema rejects it: {e}")
    for what, change in REJECTS:
        doc = variant(change)
        code, err = validate_with_loader(ringfence, doc)
        if code != 2:
            failures.add(f"{what}: the loader exits {code}, not 2:\n{err}")
        if v.is_valid(doc):
            failures.add(f"{what}: the schema accepts it, the loader says:\n{err}")
    return failures.exit(f"{len(ACCEPTS)} documents accepted and {len(REJECTS)} rejected by both")


CHECKS = {"fault-params": check_fault_params, "keys": check_keys, "scenarios": check_scenarios,
          "rejects": check_rejects}


def main(argv):
    if len(argv) == 4 and argv[1] == "write":
        write(argv[2], argv[3])
        return 0
    if len(argv) == 6 and argv[1] == "check" and argv[2] in CHECKS:
        return CHECKS[argv[2]](str(pathlib.Path(argv[3]).resolve()), argv[4], argv[5])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
