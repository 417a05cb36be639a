#!/usr/bin/python3
"""The rooms test: the allowed arrows between rooms form no cycle, every #include of a room's source points to the room itself or to a room it
may use (the ROOMS of its ringfence_room() in CMakeLists.txt, written to <build>/rooms.txt), no
two units (x.h + x.cc) include each other through any chain, core/ holds no source file outside
a room, nothing in core/ or faults/ knows the demo, and no side effect bypasses the Env: outside
core/sys (and demo/), no source of core/, faults/ or runner/ calls RunCommand*, HttpGet, HttpPost,
HttpFetch, std::chrono::system_clock::now, fork or std::random_device (tests are exempt). Prints
every violation; exit 1 if any.

Usage: rooms_check.py SOURCE_DIR ROOMS_TXT
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

# Side effects that only core/sys may make directly; everything else goes through an Env
# (core/base/env.h) or core/sys/child_launcher.h.
DIRECT_SIDE_EFFECT = re.compile(
    r"(?<![\w.>])(RunCommand|RunCommandWithInput|RunControlledCommand|HttpGet|HttpPost|HttpFetch)"
    r"\s*\(|system_clock::now\b|(?<![\w.>])v?fork\s*\(|\brandom_device\b")
SIDE_EFFECT_ROOMS = ("core", "faults", "runner")
SIDE_EFFECT_EXEMPT = ("core/sys/",)
COMMENT_OR_STRING = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"', re.S)


def direct_side_effects(path, text):
    """Lines of `text` (comments and string literals ignored) that make a side effect directly."""
    code = COMMENT_OR_STRING.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    found = []
    for number, line in enumerate(code.split("\n"), 1):
        for m in DIRECT_SIDE_EFFECT.finditer(line):
            found.append(f"{path}:{number}: calls {m.group(0).rstrip('(').strip()} directly "
                         "(only core/sys may; go through the Env)")
    return found


def load_rooms(path):
    rooms = {}  # dir -> (room name, allowed room names)
    for line in open(path):
        line = line.strip()
        if not line:
            continue
        directory, rest = line.split("=", 1)
        name, allowed = rest.split(":", 1)
        rooms[directory] = (name, set(a for a in allowed.split(",") if a))
    return rooms


def room_of(path, rooms):
    best = None
    for directory in rooms:
        if path == directory or path.startswith(directory + "/"):
            if best is None or len(directory) > len(best):
                best = directory
    return best


def sources(root, top):
    for base, _, files in os.walk(os.path.join(root, top)):
        for f in files:
            if f.endswith((".h", ".cc")):
                yield os.path.relpath(os.path.join(base, f), root)


def unit(path):
    return re.sub(r"\.(h|cc)$", "", path)


def cycles(graph):
    """Strongly connected components of more than one unit (Tarjan, iterative)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    advanced = True
                    break
                if child in on:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def main():
    root, rooms_txt = sys.argv[1], sys.argv[2]
    rooms = load_rooms(rooms_txt)
    problems = []
    for f in sorted(os.listdir(os.path.join(root, "core"))):
        if os.path.isfile(os.path.join(root, "core", f)):
            problems.append(f"core/{f}: a file outside the rooms of core/")
    graph = {}
    for top in sorted({d.split("/")[0] for d in rooms}):
        for path in sorted(sources(root, top)):
            if path.endswith("_test.cc"):
                continue  # tests may use anything
            directory = room_of(path, rooms)
            if directory is None:
                continue
            text = open(os.path.join(root, path), encoding="utf-8").read()
            if top in SIDE_EFFECT_ROOMS and not path.startswith(SIDE_EFFECT_EXEMPT):
                problems.extend(direct_side_effects(path, text))
            if top in ("core", "faults") and re.search("demo", text, re.I):
                problems.append(f"{path}: mentions the demo (only demo/ knows it)")
            name, allowed = rooms[directory]
            for included in INCLUDE.findall(text):
                target_dir = room_of(included, rooms)
                if target_dir is None:
                    continue
                graph.setdefault(unit(path), set())
                if unit(included) != unit(path):
                    graph[unit(path)].add(unit(included))
                target = rooms[target_dir][0]
                if target != name and target not in allowed:
                    problems.append(f"{path}: includes {included}: {name} may not use {target}"
                                    f" (it may use: {', '.join(sorted(allowed)) or 'nothing'})")
    for component in cycles(graph):
        problems.append("a cycle between units: " + " <-> ".join(component))
    # The rooms themselves, by the arrows CMakeLists.txt allows.
    room_graph = {name: allowed for name, allowed in rooms.values()}
    for component in cycles(room_graph):
        problems.append("a cycle between rooms: " + " <-> ".join(component))
    for p in problems:
        print(p)
    print(f"{len(graph)} units in {len(rooms)} rooms: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
