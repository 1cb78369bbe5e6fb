#!/usr/bin/env python3
"""calls.py ARCHIVE: no two files of libenter/ call each other.

Reads the defined and undefined symbols of each object of ARCHIVE (the
library's objects, libenter-internal.a) with nm: file A calls file B when
A uses a symbol B defines. A pair that calls both ways is a cycle, a sign
that one concern is split over two files, or two are mixed in both.
"""
import collections
import subprocess
import sys

if len(sys.argv) != 2:
    sys.exit("usage: calls.py ARCHIVE")
out = subprocess.run(["nm", "-A", sys.argv[1]], check=True, capture_output=True, text=True).stdout
defined, used = {}, collections.defaultdict(set)
for line in out.splitlines():
    parts = line.split(":", 2)  # ARCHIVE:MEMBER:ADDRESS TYPE SYMBOL
    if len(parts) != 3:
        continue
    member = parts[1].rsplit("/", 1)[-1].removeprefix("libenter_").removesuffix(".o")
    words = parts[2].split()
    if len(words) == 3 and words[1] in "TDRB":
        defined[words[2]] = member
    elif len(words) == 2 and words[0] == "U":
        used[member].add(words[1])
calls = collections.defaultdict(set)
for member, symbols in used.items():
    for sym in symbols:
        if sym in defined and defined[sym] != member:
            calls[member].add(defined[sym])
cycles = sorted((a, b) for a in calls for b in calls[a] if a < b and a in calls.get(b, ()))
for a, b in cycles:
    print(f"calls.py: {a} and {b} call each other", file=sys.stderr)
print(f"calls.py: {len(calls)} files, {sum(map(len, calls.values()))} calls between them, "
      f"{len(cycles)} pairs calling each other")
if not calls:
    sys.exit("calls.py: no calls between files found: nm's output not understood")
sys.exit(1 if cycles else 0)
