#!/usr/bin/env python3
"""The real-world regression corpus in tests/wild/: token samples harvested from public code, each
with the line it sat on. Records are stored reversed and base64-encoded, so the repository neither
republishes the tokens nor trips a scanner (GitHub's push protection included) on them.

    scripts/wild.py add FILE RULE SECRET [--source S] < line.txt   append a record to tests/wild/FILE
    scripts/wild.py show FILE                                       print FILE's records in clear
    scripts/wild.py stats                                           samples per rule

A record: {"rule": id, "line_b64r": ..., "secret_b64r": ..., "source": "public code"}; a negative
record (tests/wild/negatives.jsonl) has no rule: its secret must not be reported by any rule.
Standard library only.
"""
import base64
import collections
import glob
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WILD = os.path.join(ROOT, "tests", "wild")


def enc(text):
    return base64.b64encode(text[::-1].encode()).decode()


def dec(text):
    return base64.b64decode(text).decode()[::-1]


def record(rule, line, secret, source="public code"):
    if secret not in line:
        raise SystemExit("the secret is not in the line")
    rec = {"line_b64r": enc(line), "secret_b64r": enc(secret), "source": source}
    if rule:
        rec = {"rule": rule, **rec}
    return rec


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    if argv[0] == "add" and len(argv) >= 4:
        source = argv[argv.index("--source") + 1] if "--source" in argv else "public code"
        rec = record(argv[2], sys.stdin.read().rstrip("\n"), argv[3], source)
        with open(os.path.join(WILD, argv[1]), "a") as f:
            f.write(json.dumps(rec) + "\n")
        return 0
    if argv[0] == "show" and len(argv) == 2:
        for line in open(os.path.join(WILD, argv[1])):
            r = json.loads(line)
            print(r.get("rule", "(negative)"), "|", dec(r["line_b64r"]))
        return 0
    if argv[0] == "stats":
        count = collections.Counter()
        for path in glob.glob(os.path.join(WILD, "*.jsonl")):
            for line in open(path):
                count[json.loads(line).get("rule", "(negative)")] += 1
        for rule, n in sorted(count.items()):
            print(f"{n:4} {rule}")
        print(f"{sum(v for k, v in count.items() if k != '(negative)')} samples")
        return 0
    print(__doc__.strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
