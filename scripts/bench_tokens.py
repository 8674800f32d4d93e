#!/usr/bin/env python3
"""Fake credentials of real shape for the benchmarks, and planting them into a tree.

Every token is drawn from a random source at run time (checksummed kinds get a correct CRC-32), so no
token text lives in this repository. Tokens that trip the scanners' placeholder filters (runs of one
character, counting sequences, placeholder words) are redrawn.

  bench_tokens.py plant TREE PLANTED_TSV [--count N] [--seed S]
      inserts N tokens at random lines of random text files of TREE; writes kind, file, line, token.
  bench_tokens.py lines N
      prints N lines `KIND<TAB>assignment line` (used for the staged benchmark).
"""
import argparse
import os
import random
import secrets
import string
import sys
import zlib

UPPER = string.ascii_uppercase
LOWER = string.ascii_lowercase
DIGITS = string.digits
ALNUM = DIGITS + UPPER + LOWER
URLSAFE = ALNUM + "-_"
HEX = "0123456789abcdef"
B32 = UPPER + "234567"
B62 = DIGITS + UPPER + LOWER
BAD_WORDS = ("example", "your", "sample", "dummy", "placeholder", "redacted", "changeme",
             "0123456789", "123456789", "abcdefghij", "test", "fake", "xxxx")


def rnd(alphabet, n):
    return "".join(secrets.choice(alphabet) for _ in range(n))


def base62(n, width):
    out = ""
    while n:
        out = B62[n % 62] + out
        n //= 62
    return out.rjust(width, "0")


def crc_token(prefix):
    body = rnd(ALNUM, 30)
    return f"{prefix}_{body}{base62(zlib.crc32(body.encode()), 6)}"


def plausible(tok):
    low = tok.lower()
    if any(w in low for w in BAD_WORDS):
        return False
    run = 1
    for a, b in zip(tok, tok[1:]):
        run = run + 1 if a == b and a.isalnum() else 1
        if run >= 6:
            return False
    return True


# kind -> (token maker, line template). `{t}` is the token; AWS also gets `{s}`, its secret key.
KINDS = {
    "slack-bot": (lambda: f"xoxb-{rnd(DIGITS[1:], 1)}{rnd(DIGITS, 10)}-{rnd(DIGITS[1:], 1)}{rnd(DIGITS, 12)}-{rnd(ALNUM, 24)}",
                  'SLACK_BOT_TOKEN = "{t}"'),
    "slack-webhook": (lambda: f"https://hooks.slack.com/services/T{rnd(UPPER + DIGITS, 10)}/B{rnd(UPPER + DIGITS, 10)}/{rnd(ALNUM, 24)}",
                      'notify_url: "{t}"'),
    "github-pat": (lambda: crc_token("ghp"), 'GITHUB_TOKEN={t}'),
    "gitlab-pat": (lambda: "glpat-" + rnd(ALNUM, 20), 'gitlab_token = "{t}"'),
    "aws-key-pair": (lambda: "AKIA" + rnd(B32, 16),
                     'aws_access_key_id = "{t}"\naws_secret_access_key = "{s}"'),
    "stripe-live": (lambda: "sk_live_" + rnd(ALNUM, 99), 'stripe.api_key = "{t}"'),
    "openai": (lambda: "sk-proj-" + rnd(URLSAFE, 74) + "T3BlbkFJ" + rnd(URLSAFE, 74), 'OPENAI_API_KEY="{t}"'),
    "anthropic": (lambda: "sk-ant-api03-" + rnd(URLSAFE, 93) + "AA", 'ANTHROPIC_API_KEY="{t}"'),
    "npm": (lambda: crc_token("npm"), '//registry.npmjs.org/:_authToken={t}'),
    "sendgrid": (lambda: f"SG.{rnd(URLSAFE, 22)}.{rnd(URLSAFE, 43)}", 'SENDGRID_API_KEY = "{t}"'),
    "google-api": (lambda: "AIza" + rnd(URLSAFE, 35), 'google_maps_key: "{t}"'),
}


def draw(kind):
    make, template = KINDS[kind]
    while True:
        tok = make()
        if not plausible(tok):
            continue
        sec = ""
        if kind == "aws-key-pair":
            sec = rnd(ALNUM + "/+", 40)
            if not plausible(sec):
                continue
        return tok, template.format(t=tok, s=sec)


TEXT_EXT = {".rs", ".php", ".c", ".h", ".py", ".js", ".ts", ".md", ".txt", ".toml", ".yml", ".yaml",
            ".json", ".sh", ".go", ".java", ".rb", ".xml", ".html", ".css", ".twig", ".xlf", ".src", ""}


def plant(tree, out, count, seed):
    rng = random.Random(seed)
    files = []
    for root, dirs, names in os.walk(tree):
        dirs.sort()
        for n in sorted(names):
            p = os.path.join(root, n)
            if os.path.splitext(n)[1] in TEXT_EXT and os.path.isfile(p) and not os.path.islink(p):
                size = os.path.getsize(p)
                if 200 < size < 2_000_000:
                    files.append(p)
    if not files:
        sys.exit("no text files to plant into")
    kinds = sorted(KINDS)
    chosen = rng.sample(files, min(count, len(files)))
    with open(out, "w") as f:
        for i, path in enumerate(chosen):
            kind = kinds[i % len(kinds)]
            tok, line = draw(kind)
            with open(path, "rb") as fh:
                data = fh.read()
            if b"\0" in data[:8192]:
                continue
            lines = data.split(b"\n")
            at = rng.randrange(0, len(lines))
            lines.insert(at, line.encode())
            with open(path, "wb") as fh:
                fh.write(b"\n".join(lines))
            f.write(f"{kind}\t{os.path.relpath(path, tree)}\t{at + 1}\t{tok}\n")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("plant")
    p.add_argument("tree")
    p.add_argument("out")
    p.add_argument("--count", type=int, default=110)
    p.add_argument("--seed", type=int, default=None)
    q = sub.add_parser("lines")
    q.add_argument("n", type=int)
    a = ap.parse_args()
    if a.cmd == "plant":
        plant(a.tree, a.out, a.count, a.seed if a.seed is not None else secrets.randbits(32))
    else:
        kinds = sorted(KINDS)
        for i in range(a.n):
            kind = kinds[i % len(kinds)]
            print(f"{kind}\t{draw(kind)[1]}".replace("\n", "\\n"))


if __name__ == "__main__":
    main()
