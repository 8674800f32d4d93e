#!/usr/bin/env python3
"""Deterministic code-like text for the tree benchmark when no real sources are given.

  bench_synth.py TREE MB

Writes about MB megabytes of files (Rust-, Python-, PHP-, JS-, C- and YAML-flavoured lines built from
random identifiers, string literals, numbers and comments) in nested directories. The seed is fixed, so
two runs produce the same tree.
"""
import os
import random
import sys

rng = random.Random(20261128)
SYL = ["ka", "lo", "mi", "ten", "bar", "qu", "ux", "zor", "pel", "vin", "dra", "sto", "re", "fa", "gi",
       "hon", "jet", "cle", "ma", "nor", "ost", "pri", "sen", "tur", "wa", "yel", "bro", "cha", "del"]
WORDS = ["the", "value", "when", "return", "error", "buffer", "config", "request", "handler", "cache",
         "token", "user", "client", "server", "parse", "index", "state", "update", "read", "write",
         "session", "key", "api", "path", "file", "stream", "options", "result", "default", "retry"]


def ident():
    n = rng.randint(1, 3)
    parts = ["".join(rng.choice(SYL) for _ in range(rng.randint(1, 3))) for _ in range(n)]
    return "_".join(parts)


def camel():
    return "".join(p.capitalize() for p in ident().split("_"))


def text(n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def line(lang, depth):
    pad = "    " * depth
    r = rng.random()
    if r < 0.12:
        c = {"rs": "//", "py": "#", "php": "//", "js": "//", "c": "/*", "yml": "#"}[lang]
        return f"{pad}{c} {text(rng.randint(3, 12))}"
    if lang == "rs":
        forms = [f"let {ident()} = {ident()}.{ident()}({ident()}, {rng.randint(0, 9999)});",
                 f"fn {ident()}(&self, {ident()}: &{camel()}) -> Result<{camel()}> {{",
                 f"if {ident()}.is_empty() {{ return Err(anyhow!(\"{text(5)}\")); }}",
                 f"{ident()}.push({camel()}::{camel()}({ident()}));", "}"]
    elif lang == "py":
        forms = [f"{ident()} = {ident()}.{ident()}({ident()}, {rng.randint(0, 9999)})",
                 f"def {ident()}(self, {ident()}, {ident()}=None):",
                 f"raise {camel()}Error(\"{text(6)}\")", f"return {ident()}[{rng.randint(0, 64)}]"]
    elif lang == "php":
        forms = [f"${ident()} = $this->{ident()}(${ident()}, '{text(3)}');",
                 f"public function {ident()}({camel()} ${ident()}): {camel()}",
                 f"throw new \\{camel()}Exception(sprintf('{text(5)} \"%s\".', ${ident()}));", "}"]
    elif lang == "js":
        forms = [f"const {ident()} = await {ident()}.{ident()}({{ {ident()}: {rng.randint(0, 999)} }});",
                 f"export function {camel()}({ident()}, {ident()}) {{",
                 f"if (!{ident()}) throw new Error('{text(5)}');", "});"]
    elif lang == "c":
        forms = [f"static int {ident()}(struct {ident()} *{ident()}, size_t {ident()})",
                 f"{ident()} = {ident()}->{ident()} + {rng.randint(0, 4096)};",
                 f"if ({ident()} < 0) return error(_(\"{text(5)}\"));", "}"]
    else:
        forms = [f"{ident()}: {rng.choice(['true', 'false', str(rng.randint(0, 9999)), text(3)])}",
                 f"- name: {ident()}", f"  {ident()}: \"{text(4)}\""]
    return pad + rng.choice(forms)


def main():
    tree, mb = sys.argv[1], int(sys.argv[2])
    target = mb * 1_000_000
    written = 0
    langs = ["rs", "py", "php", "js", "c", "yml"]
    n = 0
    while written < target:
        d = os.path.join(tree, f"pkg{n // 400:03d}", ident()[:12], ident()[:12])
        os.makedirs(d, exist_ok=True)
        lang = rng.choice(langs)
        size = int(rng.lognormvariate(9.5, 1.0))  # median ~13 KB, long tail
        out, have = [], 0
        while have < size:
            s = line(lang, rng.randint(0, 3))
            out.append(s)
            have += len(s) + 1
        data = ("\n".join(out) + "\n").encode()
        with open(os.path.join(d, f"{ident()[:20]}_{n}.{lang}"), "wb") as f:
            f.write(data)
        written += len(data)
        n += 1


if __name__ == "__main__":
    main()
