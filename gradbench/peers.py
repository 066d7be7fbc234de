#!/usr/bin/env python3
"""Published GradBench figures next to ours: reads GradBench's nightly `summary.json` files (the
`ci/refs/heads/nightly` branch of github.com/gradbench/gradbench, which the website plots; the
branch's top-level summary.json names its date and commit) and prints, per eval, a Markdown table
of the derivative's time for `manual`, Enzyme, Tapenade, JAX and PyTorch (– where the tool has no
entry). Usage: peers.py NIGHTLY_DIR EVAL... (reads NIGHTLY_DIR/evals/EVAL/summary.json)."""

import json
import sys

TOOLS = ["manual", "enzyme", "tapenade", "jax", "pytorch"]


def fmt(t):
    if t is None:
        return "–"
    ns = t["secs"] * 1e9 + t["nanos"]
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.0f} ns"


def main():
    root, evals = sys.argv[1], sys.argv[2:]
    top = json.load(open(f"{root}/summary.json"))
    print(f"GradBench nightly of {top['date']} (commit {top['commit'][:7]}), derivative times:")
    for e in evals:
        try:
            s = json.load(open(f"{root}/evals/{e}/summary.json"))
        except FileNotFoundError:
            continue
        tools = s["tools"]
        inputs = []
        for t in tools.values():
            for k in t:
                if k not in inputs:
                    inputs.append(k)
        if "derivative" in s:
            # Inputs of the eval, each with a primal and a derivative time.
            print(f"\n#### {e} (published, `{s['derivative']}`)\n")
            print("| input | " + " | ".join(TOOLS) + " |")
            print("|---|" + "---:|" * len(TOOLS))
            for k in inputs:
                cells = [fmt(tools.get(t, {}).get(k, {}).get("derivative")) for t in TOOLS]
                print(f"| {k} | " + " | ".join(cells) + " |")
        else:
            # particle, saddle: one time per function variant.
            names = sorted(tools)
            print(f"\n#### {e} (published, whole `evaluate`)\n")
            print("| variant | " + " | ".join(names) + " |")
            print("|---|" + "---:|" * len(names))
            for k in inputs:
                print(f"| {k} | " + " | ".join(fmt(tools[t].get(k)) for t in names) + " |")


if __name__ == "__main__":
    main()
