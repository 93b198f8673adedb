#!/usr/bin/env python3
"""capi/src/c_api_io.cc repeats c_api.cc's definition of struct loom_session
(C++ allows identical definitions in two files, and only identical ones).
Fails if the two drift apart. Usage: check_session_struct.py <repo root>"""
import re
import sys

root = sys.argv[1]


def definition(path):
    text = open(path).read()
    m = re.search(r"struct loom_session \{.*?\n\};", text, re.S)
    if not m:
        sys.exit("%s: no definition of struct loom_session" % path)
    return [l.strip() for l in m.group(0).splitlines() if l.strip() and not l.strip().startswith("//")]


a = definition(root + "/capi/src/c_api.cc")
b = definition(root + "/capi/src/c_api_io.cc")
if a != b:
    sys.exit("struct loom_session differs between c_api.cc and c_api_io.cc:\n%s\n---\n%s" % ("\n".join(a), "\n".join(b)))
print("struct loom_session: the two definitions agree")
