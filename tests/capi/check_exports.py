#!/usr/bin/env python3
"""libloom.so must export exactly the functions loom.h declares (LOOM_API)."""
import re
import subprocess
import sys

lib, header = sys.argv[1], sys.argv[2]
text = open(header).read()
declared = set(re.findall(r"LOOM_API\s+[^;(]*?\b(loom_\w+)\s*\(", text, re.S))
out = subprocess.run(["nm", "-D", "--defined-only", lib], capture_output=True, text=True, check=True).stdout
exported = set()
for line in out.splitlines():
    parts = line.split()
    if len(parts) == 3 and parts[1] in ("T", "W", "D", "B", "R"):
        exported.add(parts[2].split("@")[0])
extra = sorted(exported - declared)
missing = sorted(declared - exported)
if extra:
    print("exported but not declared in loom.h:", ", ".join(extra))
if missing:
    print("declared in loom.h but not exported:", ", ".join(missing))
print(f"{len(declared)} declared, {len(exported)} exported")
sys.exit(1 if extra or missing else 0)
