#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Prints "PASSED FAILED" for one meson testlog.json, counting the test cases inside each suite:
doctest's "[doctest] test cases: N | P passed | F failed" and pytest's "N passed, M failed" lines.
A suite whose output has neither counts as one test, by its meson result."""
import json
import re
import sys

DOCTEST = re.compile(r"\[doctest\] test cases:\s*\d+\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed")
PYTEST = re.compile(r"^=*\s*(?:(\d+) failed)?[, ]*(?:(\d+) passed)?.* in [\d.]+s")

passed = failed = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    out = r.get("stdout", "")
    ok = r.get("result") == "OK"
    m = DOCTEST.findall(out)
    if m:
        p, f = map(int, m[-1])
    else:
        p = f = None
        for l in out.splitlines():
            pm = re.search(r"(\d+) passed", l)
            fm = re.search(r"(\d+) (?:failed|error)", l)
            if pm and re.search(r" in [\d.]+s", l):
                p, f = int(pm.group(1)), int(fm.group(1)) if fm else 0
        if p is None:
            p, f = (1, 0) if ok else (0, 1)
    if not ok and f == 0:
        f = 1  # a crash or timeout after the counts were printed still fails the suite
    passed += p
    failed += f
print(passed, failed)
