#!/usr/bin/python3
"""Reads a JUnit XML file with junitparser (a real JUnit consumer, Debian's python3-junitparser)
and prints what it understood as JSON: per test suite its name, counts, time and properties, and
per test case its name, time and result (passed, failure, error, skipped) with the message and
the text.

Usage: junit_read.py FILE.xml
"""
import json
import sys

from junitparser import Error, Failure, JUnitXml, Skipped, TestSuite


def result_of(case):
    for r in case.result:
        if isinstance(r, Failure):
            return "failure", r.message, r.text
        if isinstance(r, Error):
            return "error", r.message, r.text
        if isinstance(r, Skipped):
            return "skipped", r.message, r.text
    return "passed", None, None


def main():
    xml = JUnitXml.fromfile(sys.argv[1])
    suites = [xml] if isinstance(xml, TestSuite) else list(xml)
    out = []
    for suite in suites:
        cases = []
        for case in suite:
            result, message, text = result_of(case)
            cases.append({"name": case.name, "time": case.time, "result": result,
                          "message": message, "text": text})
        out.append({"name": suite.name, "tests": suite.tests, "failures": suite.failures,
                    "errors": suite.errors, "skipped": suite.skipped, "time": suite.time,
                    "properties": {p.name: p.value for p in suite.properties()},
                    "cases": cases})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
