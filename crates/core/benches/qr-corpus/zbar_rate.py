#!/usr/bin/env python3
"""Baseline decode rate of Debian's zbarimg on a corpus written by make_corpus.py.

Usage: python3 zbar_rate.py OUT_DIR [--json] [--test-inverted]

Runs `zbarimg --quiet --raw -Sdisable -Sqrcode.enable FILE` once per image listed
in OUT_DIR/manifest.json and counts an image as decoded only when zbarimg's output
(less the trailing newline) is exactly the expected payload.  Prints, per kind and
overall, decoded/total and the median wall time per image (process start included).
--test-inverted adds zbar's -Stest-inverted (off by default, so the default run
reads no `inverted` image).  If zbarimg is not installed it prints why and exits 0.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

CMD = ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"]


def run_one(cmd, path):
    t0 = time.perf_counter()
    p = subprocess.run(cmd + [path], capture_output=True, timeout=60)
    dt = time.perf_counter() - t0
    out = p.stdout.decode("utf-8", "replace")
    if out.endswith("\n"):
        out = out[:-1]
    return out, dt


def summary(rows):
    times = [r["seconds"] for r in rows]
    return {"decoded": sum(r["ok"] for r in rows), "total": len(rows),
            "median_ms": round(1000 * statistics.median(times), 2) if times else None}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--test-inverted", action="store_true",
                    help="also let zbar try inverted images (-Stest-inverted)")
    args = ap.parse_args()
    if shutil.which("zbarimg") is None:
        print("skipped: zbarimg not found (apt-get install zbar-tools)")
        return 0
    with open(os.path.join(args.out_dir, "manifest.json")) as f:
        manifest = json.load(f)

    cmd = CMD + (["-Stest-inverted"] if args.test_inverted else [])
    rows = []
    for entry in manifest:
        out, dt = run_one(cmd, os.path.join(args.out_dir, entry["file"]))
        rows.append({"file": entry["file"], "kind": entry["kind"],
                     "ok": out == entry["text"], "seconds": dt})

    kinds = list(dict.fromkeys(r["kind"] for r in rows))  # manifest order
    result = {"decoder": " ".join(cmd),
              "kinds": {k: summary([r for r in rows if r["kind"] == k]) for k in kinds},
              "overall": summary(rows),
              "failed": [r["file"] for r in rows if not r["ok"]]}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{'kind':<14}{'decoded':>10}{'rate':>8}{'median ms':>12}")
    for name, s in list(result["kinds"].items()) + [("overall", result["overall"])]:
        rate = 100 * s["decoded"] / s["total"] if s["total"] else 0
        print(f"{name:<14}{s['decoded']:>5}/{s['total']:<4}{rate:>7.0f}%{s['median_ms']:>12}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
