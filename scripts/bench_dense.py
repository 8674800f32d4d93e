#!/usr/bin/env python3
"""Writes the worst inputs for the matching engine that bench-dense.sh measures: every file is SIZE
bytes of text dense with the rule pack's keywords (each keyword repeated, all keywords interleaved,
keywords followed by token-shaped bodies, inline-allow markers between secrets, one long line, a
UTF-16 file), so a keyword hit, a window or a regex attempt happens at nearly every byte.

usage: bench_dense.py OUTDIR SIZE_BYTES KEYWORD...
"""
import os
import random
import sys


def fill(unit: str, size: int) -> str:
    return (unit * (size // max(len(unit), 1) + 1))[:size]


def main() -> None:
    out, size, keywords = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    os.makedirs(out, exist_ok=True)
    rnd = random.Random(7)
    alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    files = {}
    # Each keyword alone, back to back (its longest overlapping self-repetition: `xoxo…` for `xox`).
    for i, kw in enumerate(keywords):
        files[f"kw{i:03d}.txt"] = fill(kw, size)
    # The case: two letters that start a keyword, overlapping hits at every other byte.
    files["xo.txt"] = fill("xo", size)
    # All keywords interleaved, on one line and one per line.
    files["interleaved-line.txt"] = fill("".join(keywords), size)
    files["interleaved-lines.txt"] = fill("\n".join(keywords) + "\n", size)
    # Keywords each followed by a token-shaped body: the regexes match and confirm all the time.
    bodies = "".join(
        f"{kw}{''.join(rnd.choice(alnum) for _ in range(40))} " for kw in keywords
    )
    files["keyword-bodies.txt"] = fill(bodies, size)
    # Secrets with an inline-allow marker between each: the allow logic on a huge minified line.
    marked = "".join(
        f"{kw}{''.join(rnd.choice(alnum) for _ in range(40))} /*keysweep:allow*/ "
        for kw in keywords
    )
    files["allow-markers.txt"] = fill(marked, size)
    # Keywords in one unbroken token run, so window edges stretch as far as they may.
    files["token-run.txt"] = fill("".join(k.replace(" ", "_") for k in keywords) + "A1", size)
    for name, text in files.items():
        with open(os.path.join(out, name), "w", encoding="utf-8", errors="replace") as f:
            f.write(text)
    # The same dense text as a Windows editor would save it (decoded before scanning).
    with open(os.path.join(out, "utf16.txt"), "wb") as f:
        f.write(b"\xff\xfe" + fill("".join(keywords), size // 2).encode("utf-16-le"))


if __name__ == "__main__":
    main()
