#!/usr/bin/env python3
"""Tables of tools/bench/fleet.sh from its CSV (docs/benchmarks.md, "Fleet").

Scores as tools/bench/sparse_report.py computes them (geometric mean over sizes of
mean total time, against the kernel default's; 95% bootstrap intervals over
connections).  Arms: a (host A's warm-up rounds), default, static<IW> (the sweep
beside A), b and c (the first 25 of the cold hosts B, on the fleet, and C, alone),
best (the sweep's best static value beside them); b0 and c0: the same with
PostgreSQL stopped.  --best prints the sweep's best value per path ("path iw")."""
import argparse
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sparse_report as sr  # noqa: E402

M1, M2 = 1000, 2000  # fleet.sh's rounds of the first-25 phases


def arms_of(rows):
    out = {}
    for r in rows:
        out.setdefault(r["path"], {}).setdefault(r["arm"], []).append(r)
    return out


def best_static(arm):
    """the sweep's best static value beside A (paired with the default blocks of the same
    rounds): (iw or None for the default, its score)"""
    best_v, best_s = None, 1.0
    warm_default = [r for r in arm.get("default", []) if r["round"] < M1]
    for a, v in sorted(arm.items()):
        if not a.startswith("static"):
            continue
        rounds = {r["round"] for r in v}
        s = sr.score(sr.by_size(v), sr.by_size([r for r in warm_default if r["round"] in rounds]))
        if s < best_s:
            best_v, best_s = int(a[6:]), s
    return best_v, best_s


def path_order(paths):
    f = os.environ.get("FLEET_PATHS_FILE")
    order, loss = [], {}
    if f:
        for ln in open(f):
            p = ln.split()
            if p and not p[0].startswith("#"):
                order.append(p[0])
                loss[p[0]] = len(p) > 4 and float(p[4]) > 0
    return sorted(paths, key=lambda p: order.index(p) if p in order else len(order)), loss


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", required=True)
    ap.add_argument("--block", type=int, default=25)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--best", action="store_true", help="print the best static IW per path and exit")
    a = ap.parse_args()
    rows = sr.load(os.path.join(a.out, "srv", "conns.csv"))
    by_path = arms_of(rows)
    if a.best:
        for p, arm in sorted(by_path.items()):
            v, _ = best_static(arm)
            print(p, v if v is not None else 10)
        return 0
    rng = random.Random(a.seed)
    paths, loss = path_order(list(by_path))
    summary, missed, fault = [], [], []
    print("== Fleet: the first 25 connections of a cold host on the fleet (B) and of one alone (C), "
          "against the kernel default and the best static value measured beside them; "
          "score = geomean over sizes of mean time / the default's [95% interval, bootstrap]")
    print(f"{'path':8} {'best static':>18} {'A >' + str(100):>7} {'B first 25':>18} {'B / best':>18} "
          f"{'C first 25':>18} {'C / best':>18}")
    for p in paths:
        arm = by_path[p]
        bv, bs = best_static(arm)
        d1 = sr.by_size([r for r in arm.get("default", []) if r["round"] == M1])
        best = sr.by_size(arm.get("best", [])) if bv is not None else d1
        sbest = sr.score(best, d1)
        cbest = sr.boot(best, d1, rng) if bv is not None else (1.0, 1.0)
        res = {"path": p, "best_static": bv if bv is not None else "default", "best_sweep_score": bs,
               "best_score": sbest, "best_ci": cbest}
        # A after its first 100, paired with the default blocks of the same rounds
        la = [r for r in arm.get("a", [])]
        la_rounds = {r["round"] for r in la[100:]}
        sa = sr.score(sr.by_size(la[100:]),
                      sr.by_size([r for r in arm.get("default", []) if r["round"] in la_rounds]))
        res["a_after100"] = sa
        cols = []
        for h in ("b", "c"):
            v = sr.by_size(arm.get(h, []))
            s, ci = sr.score(v, d1), sr.boot(v, d1, rng) if v else None
            rel = s / sbest if v else float("nan")
            rci = sr.boot(v, d1, rng, best, d1) if v and bv is not None else ci
            cols += [sr.fmt(s, ci), sr.fmt(rel, rci)]
            res.update({h + "_first25": s, h + "_ci": ci, h + "_rel_best": rel, h + "_rel_ci": rci,
                        h + "_n": len(arm.get(h, []))})
        bl = f"IW{bv}" if bv is not None else "default"
        print(f"{p:8} {bl + ' ' + sr.fmt(sbest):>18} {sr.fmt(sa):>7} {cols[0]:>18} {cols[1]:>18} "
              f"{cols[2]:>18} {cols[3]:>18}")
        if not loss.get(p, False) and not res["b_rel_best"] <= 1.05:
            missed.append(f"{p} {res['b_rel_best']:.3f}")
        d2 = sr.by_size([r for r in arm.get("default", []) if r["round"] == M2])
        b0, c0 = sr.by_size(arm.get("b0", [])), sr.by_size(arm.get("c0", []))
        if b0 and c0 and d2:
            f = (p, sr.score(b0, d2), sr.boot(b0, d2, rng), sr.score(c0, d2), sr.boot(c0, d2, rng),
                 sr.score(b0, d2) / sr.score(c0, d2), sr.boot(b0, d2, rng, c0, d2))
            fault.append(f)
            res.update({"fault_b": f[1], "fault_b_ci": f[2], "fault_c": f[3], "fault_c_ci": f[4],
                        "fault_b_over_c": f[5], "fault_ci": f[6]})
        summary.append(res)
    print("(best static: the lowest score of the sweep beside A's warm-up, scored here beside B and C; "
          "A >100: host A after its first 100 warm-up connections; B / best, C / best: their first 25 "
          "over the best static value's score)")
    print("Target: B's first 25 within 5% of the best static value on every path without random loss: " +
          ("met" if not missed else "not met on " + ", ".join(missed)))
    if fault:
        print()
        print("== PostgreSQL stopped: a cold B (with [fleet]) and a cold C, their first 25 against the default")
        print(f"{'path':8} {'B first 25':>18} {'C first 25':>18} {'B / C':>18}")
        for p, sb, cb, sc, cc, rel, rc in fault:
            print(f"{p:8} {sr.fmt(sb, cb):>18} {sr.fmt(sc, cc):>18} {sr.fmt(rel, rc):>18}")
        off = [p for p, *_, rc in fault if not rc[0] <= 1.0 <= rc[1]]
        print("B's scores within noise of C's (B / C's interval holds 1): " +
              ("on every path" if not off else "not on " + ", ".join(off)))
    print()
    for h in ("a", "b", "c", "b0", "c0"):
        f = os.path.join(a.out, "srv", f"report.{h}.txt")
        if os.path.exists(f):
            print(f"host {h} at the end (learnctl report):")
            with open(f) as fh:
                print(fh.read().rstrip())
    with open(os.path.join(a.out, "scores.json"), "w") as f:
        json.dump(summary, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
