#!/usr/bin/env python3
"""Tables for the benchmark scripts: reads hyperfine exports, peak-RSS logs and each tool's report.

  bench_report.py tree OUTDIR BYTES PLANTED_TSV TOOL...
  bench_report.py history OUTDIR BYTES TOOL...

For each TOOL it reads OUTDIR/hf-TOOL.json (hyperfine --export-json), OUTDIR/rss-TOOL.txt (one
`/usr/bin/time -f %M` line per run, KiB) and OUTDIR/TOOL.out (the tool's own report). Ratios are
throughput ratios: `x` times as fast as the baseline (baseline wall / tool wall).
"""
import json
import os
import statistics
import sys
import time


def median_wall(outdir, tool):
    path = os.path.join(outdir, f"hf-{tool}.json")
    if not os.path.exists(path):
        return None
    res = json.load(open(path))["results"][0]
    return statistics.median(res["times"])


def cpu_seconds(outdir, tool):
    path = os.path.join(outdir, f"hf-{tool}.json")
    if not os.path.exists(path):
        return None
    res = json.load(open(path))["results"][0]
    return res["user"] + res["system"]


def peak_rss_mib(outdir, tool):
    path = os.path.join(outdir, f"rss-{tool}.txt")
    if not os.path.exists(path):
        return None
    vals = [int(line.split()[-1]) for line in open(path) if line.strip() and line.split()[-1].isdigit()]
    return max(vals) / 1024 if vals else None


def load_json(path):
    # A report can still be being flushed when the timed command returns (seen with betterleaks'
    # wrapper): retry briefly before calling it unreadable.
    for _ in range(20):
        try:
            with open(path) as f:
                return json.load(f)
        except (OSError, ValueError):
            time.sleep(0.5)
    return None


def findings(outdir, tool):
    """(number of findings, raw report text, set of (path, line)) as the tool reported them."""
    path = os.path.join(outdir, f"{tool}.out")
    if not os.path.exists(path):
        # betterleaks insists on a .json extension for its report.
        path = os.path.join(outdir, f"{tool}.json")
    if not os.path.exists(path):
        return None, "", set()
    text = open(path, errors="replace").read()
    d = None if tool.startswith("rg") else load_json(path)
    locs = set()
    if tool == "keysweep" and d:
        fs = d.get("findings", [])
        locs = {(f["file"], f["line"]) for f in fs}
        return len(fs), text, locs
    if tool == "kingfisher" and d:
        fs = d.get("findings", [])
        locs = {(f["finding"].get("path", ""), f["finding"].get("line")) for f in fs}
        return len(fs), text, locs
    if tool == "betterleaks" and d:
        fs = d.get("findings", []) or []
        for f in fs:
            loc = f.get("location") or {}
            locs.add((str(loc.get("path", loc.get("file", ""))), loc.get("line", loc.get("start_line"))))
        return len(fs), text, locs
    if tool == "detect-secrets" and d:
        for fname, items in d.get("results", {}).items():
            for it in items:
                locs.add((fname, it.get("line_number")))
        return len(locs), text, locs
    if tool.startswith("rg"):
        n = sum(int(line.rsplit(":", 1)[-1]) for line in text.splitlines() if line.rsplit(":", 1)[-1].isdigit())
        return n, "", set()
    return None, text, set()


def planted_found(planted, text, locs):
    if not planted:
        return None
    found = 0
    for kind, rel, line, tok in planted:
        if tok and tok in text:
            found += 1
        elif any((p == rel or p.endswith("/" + rel)) and int(line) == (ln or -1) for p, ln in locs):
            found += 1
    return found


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def table(outdir, nbytes, tools, planted):
    walls = {t: median_wall(outdir, t) for t in tools}
    kf, rg = walls.get("kingfisher"), walls.get("rg") or walls.get("git-cat-file")
    base_rg = "rg" if "rg" in tools else "git-cat-file"
    head = ["tool", "wall s (median)", "CPU s (mean)", "MB/s", "x Kingfisher", f"x {base_rg}", "peak RSS MiB", "findings"]
    if planted is not None:
        head.append(f"planted found (of {len(planted)})")
    rows = [head]
    for t in tools:
        w = walls[t]
        n, text, locs = findings(outdir, t)
        row = [t, fmt(w, ".2f"), fmt(cpu_seconds(outdir, t), ".2f"), fmt(nbytes / 1e6 / w if w else None, ".1f"),
               fmt(kf / w if (kf and w) else None, ".2f"), fmt(rg / w if (rg and w) else None, ".2f"),
               fmt(peak_rss_mib(outdir, t), ".0f"), fmt(n, "d")]
        if planted is not None:
            pf = planted_found(planted, text, locs) if t not in ("rg", "rg-keywords", "git-cat-file") else None
            row.append(fmt(pf, "d"))
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


# The speed targets: (mode, tool, against, most allowed wall-time ratio tool / against).
TARGETS = [
    ("tree", "keysweep", "rg", 3.0),
    ("tree", "keysweep", "rg-keywords", 1.0),
    ("history", "keysweep", "git-cat-file", 1.0),
]


def targets(mode, outdir, tools):
    """One line per target: the measured wall-time ratio, the limit, met or not; then peak memory
    against each peer scanner for history."""
    walls = {t: median_wall(outdir, t) for t in tools}
    out = []
    for m, tool, base, limit in TARGETS:
        if m != mode or not walls.get(tool) or not walls.get(base):
            continue
        r = walls[tool] / walls[base]
        out.append(f"target: {tool} / {base} wall time = {r:.2f}x (at most {limit:.1f}x): "
                   + ("met" if r <= limit else "NOT met"))
    if mode == "history" and "keysweep" in tools:
        ks = peak_rss_mib(outdir, "keysweep")
        for peer in ("kingfisher", "betterleaks"):
            p = peak_rss_mib(outdir, peer) if peer in tools else None
            if ks and p:
                out.append(f"target: keysweep peak RSS {ks:.0f} MiB below {peer}'s {p:.0f} MiB: "
                           + ("met" if ks < p else "NOT met"))
    return "\n".join(out)


def main():
    mode, outdir, nbytes = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "tree":
        planted_path, tools = sys.argv[4], sys.argv[5:]
        planted = [l.rstrip("\n").split("\t") for l in open(planted_path) if l.strip()]
    else:
        tools, planted = sys.argv[4:], None
    print(table(outdir, nbytes, tools, planted))
    t = targets(mode, outdir, tools)
    if t:
        print()
        print(t)


if __name__ == "__main__":
    main()
