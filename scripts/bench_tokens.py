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
import importlib.util
import os
import random
import secrets
import sys

# The token makers are fake-token.py's (the same generator the fixtures use): one definition of each
# format, its checksum and the placeholder patterns to avoid.
_spec = importlib.util.spec_from_file_location(
    "fake_token", os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake-token.py"))
ft = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ft)

# kind -> (fake-token.py kind, line template). `{t}` is the token; AWS also gets `{s}`, its secret key.
KINDS = {
    "slack-bot": ("slack-bot", 'SLACK_BOT_TOKEN = "{t}"'),
    "slack-webhook": ("slack-webhook", 'notify_url: "{t}"'),
    "github-pat": ("github-pat", 'GITHUB_TOKEN={t}'),
    "gitlab-pat": ("gitlab-pat", 'gitlab_token = "{t}"'),
    "aws-key-pair": ("aws-key-id", 'aws_access_key_id = "{t}"\naws_secret_access_key = "{s}"'),
    "stripe-live": ("stripe-secret", 'stripe.api_key = "{t}"'),
    "openai": ("openai-project", 'OPENAI_API_KEY="{t}"'),
    "anthropic": ("anthropic-api", 'ANTHROPIC_API_KEY="{t}"'),
    "npm": ("npm", '//registry.npmjs.org/:_authToken={t}'),
    "sendgrid": ("sendgrid", 'SENDGRID_API_KEY = "{t}"'),
    "google-api": ("google-api-key", 'google_maps_key: "{t}"'),
}


def draw(kind):
    maker, template = KINDS[kind]
    tok = ft.make(maker)
    sec = ft.make("aws-secret") if kind == "aws-key-pair" else ""
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
