#!/usr/bin/env python3
"""The layering rules of ARCHITECTURE.md section 2, checked on the sources:
plugins/ (and the conformance kit, tools/conformance) include no runtime/ header; bindings/ include no runtime/ or plugin
header; public headers include no C++ or protobuf header."""
import os
import re
import sys

root = sys.argv[1]
include = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)
bad = []


def scan(folder, forbidden):
    for dirpath, _, files in os.walk(os.path.join(root, folder)):
        for f in files:
            if not f.endswith((".c", ".cc", ".cpp", ".h", ".hpp", ".cu", ".cl", ".go")):
                continue
            path = os.path.join(dirpath, f)
            for inc in include.findall(open(path, errors="replace").read()):
                if any(re.search(p, inc) for p in forbidden):
                    bad.append(f"{os.path.relpath(path, root)}: includes {inc}")


scan("plugins", [r"(^|/)runtime/", r"(^|/)capi/src/"])
# The conformance kit ships with the SDK and drives plugins as any host would.
scan("tools/conformance", [r"(^|/)runtime/", r"(^|/)capi/src/", r"(^|/)plugins/"])
scan("bindings", [r"(^|/)runtime/", r"(^|/)plugins/", r"loom_plugin\.h"])
scan("capi/include", [r"\.pb\.h$", r"^(string|vector|memory|map)$"])
for b in bad:
    print(b)
print(f"{len(bad)} layering violations")
sys.exit(1 if bad else 0)
