#!/usr/bin/env python3
"""The layering rules of ARCHITECTURE.md section 2, checked on the sources:
plugins/ (and the conformance kit, tools/conformance) include no runtime/ header; bindings/
include no runtime/ or plugin header; the C headers of the ABI include no C++ or protobuf
header. The plugin kit (capi/include/loom/plugin/*.hpp) is C++ by design — header-only, over
loom_plugin.h — and may use the standard library, but includes nothing of the runtime and no
protobuf, since plugins and the runtime's shape functions both include it."""
import os
import re
import sys

root = sys.argv[1]
include = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)
bad = []


def scan(folder, forbidden, skip=()):
    for dirpath, _, files in os.walk(os.path.join(root, folder)):
        if os.path.relpath(dirpath, root) in skip:
            continue
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
scan("capi/include", [r"\.pb\.h$", r"^(string|vector|memory|map)$"], skip=("capi/include/loom/plugin",))
scan("capi/include/loom/plugin", [r"\.pb\.h$", r"(^|/)runtime/", r"(^|/)capi/src/", r"(^|/)plugins/"])
for b in bad:
    print(b)
print(f"{len(bad)} layering violations")
sys.exit(1 if bad else 0)
