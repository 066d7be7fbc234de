#!/usr/bin/env python3
"""Summarise GradBench logs (`gradbench run -o LOG`) of two tools on the same evals as a Markdown
table: per evaluate message, the median `evaluate` timing, and whether the eval judged the output
valid. Usage: summarize.py LOGDIR EVAL... (reads LOGDIR/EVAL-backprop.jsonl, LOGDIR/EVAL-manual.jsonl)."""

import json
import statistics
import sys


def read(path):
    msgs, results = {}, {}
    try:
        lines = open(path).read().splitlines()
    except FileNotFoundError:
        return None
    for line in lines:
        if not line.strip():
            continue
        rec = json.loads(line)
        if "message" in rec:
            m = rec["message"]
            if m["kind"] == "evaluate":
                msgs[m["id"]] = (m["function"], m.get("description", ""))
            elif m["kind"] == "analysis":
                key = msgs.get(m["of"])
                if key in results:
                    results[key]["valid"] = m["valid"]
        elif "response" in rec:
            r = rec["response"]
            key = msgs.get(r["id"])
            if key is not None:
                ts = [t["nanoseconds"] for t in r.get("timings", []) if t["name"] == "evaluate"]
                results[key] = {
                    "ok": r.get("success", False),
                    "median": statistics.median(ts) if ts else None,
                    "runs": len(ts),
                    "valid": None,
                }
    return results


def fmt(ns):
    if ns is None:
        return "–"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.0f} ns"


def main():
    logdir, evals = sys.argv[1], sys.argv[2:]
    for e in evals:
        ours, manual = read(f"{logdir}/{e}-backprop.jsonl"), read(f"{logdir}/{e}-manual.jsonl")
        if ours is None:
            continue
        print(f"\n#### {e}\n")
        print("| function | input | backprop | manual | backprop / manual | valid (backprop) |")
        print("|---|---|---:|---:|---:|---|")
        for key, r in ours.items():
            m = (manual or {}).get(key, {})
            ratio = f"{r['median'] / m['median']:.2f}" if r["median"] and m.get("median") else "–"
            valid = {True: "✓", False: "✗", None: "?"}[r["valid"]] if r["ok"] else "✗ (`success: false`)"
            print(f"| {key[0]} | {key[1]} | {fmt(r['median'])} | {fmt(m.get('median'))} | {ratio} | {valid} |")


if __name__ == "__main__":
    main()
