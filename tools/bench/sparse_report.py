#!/usr/bin/env python3
"""Tables of tools/bench/sparse.sh from its CSVs (docs/benchmarks.md, "Sparse traffic").

score(A) = geometric mean over sizes of mean total time (connect to last byte) of arm A
divided by that of the kernel default; 95% intervals by bootstrap over connections
(resampled within each arm and size, the default's too)."""
import argparse
import csv
import json
import math
import os
import random
import sys

REPS = 400


def load(path):
    rows = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if r.get("arm") == "arm":
                continue
            try:
                r["size"] = int(r["size"])
                r["round"] = int(r["round"])
                r["fct"] = int(r["fct_us"]) / 1000.0
                r["conn"] = int(r["connect_us"]) / 1000.0
                r["ok"] = r["ok"] == "1"
                r["id"] = int(r["id"])
                r["srtx"] = int(r["srv_retrans"] or 0)
                r["ssegs"] = int(r["srv_segs"] or 0)
            except (KeyError, ValueError):
                continue
            rows.append(r)
    # request order within an arm: round, then flow id
    rows.sort(key=lambda r: (r["path"], r["arm"], r["round"], r["id"]))
    return rows


def by_size(rows):
    d = {}
    for r in rows:
        if r["ok"]:
            d.setdefault(r["size"], []).append(r["fct"])
    return d


def mean(v):
    return sum(v) / len(v) if v else float("nan")


def score(num, den):
    """geometric mean over the sizes both have of mean(num)/mean(den)"""
    logs = [math.log(mean(num[s]) / mean(den[s])) for s in num if s in den and num[s] and den[s]]
    return math.exp(sum(logs) / len(logs)) if logs else float("nan")


def resample(d, rng):
    return {s: rng.choices(v, k=len(v)) for s, v in d.items()}


def boot(num, den, rng, num2=None, den2=None):
    """95% interval of score(num, den), or of score(num, den) / score(num2, den2)"""
    out = []
    for _ in range(REPS):
        x = score(resample(num, rng), resample(den, rng))
        if num2 is not None:
            x /= score(resample(num2, rng), resample(den2, rng))
        out.append(x)
    out.sort()
    return out[int(0.025 * REPS)], out[int(0.975 * REPS) - 1]


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(math.ceil(q * len(v))) - 1)] if v else float("nan")


def fmt(x, ci=None):
    if x != x:
        return "-"
    return f"{x:.3f}" + (f" [{ci[0]:.2f},{ci[1]:.2f}]" if ci else "")


def rtx(rows):
    segs = sum(r["ssegs"] for r in rows)
    return 100.0 * sum(r["srtx"] for r in rows) / segs if segs else float("nan")


def report_rows(out):
    """learnctl report lines by prefix"""
    rows = {}
    try:
        with open(os.path.join(out, "report.txt")) as f:
            lines = f.read().splitlines()
    except OSError:
        return rows
    for ln in lines[1:]:
        if ln.split():
            rows[ln.split()[0]] = ln
    if lines:
        rows["_header"] = lines[0]
    return rows


def server(out, block, rng):
    path = os.path.join(out, "conns.csv")
    if not os.path.exists(path):
        return
    rows = load(path)
    probes = {}
    try:
        with open(os.path.join(out, "probes.csv")) as f:
            for ln in f:
                p = ln.strip().split(",")
                if len(p) >= 6:
                    probes.setdefault(p[0], []).append((int(p[1]), int(p[2]), int(p[3]), p[4], float(p[5])))
    except OSError:
        pass
    rep = report_rows(out)
    paths = []
    for r in rows:
        if r["path"] not in paths:
            paths.append(r["path"])
    order = [ln.split()[0] for ln in open(os.environ.get("SPARSE_PATHS_FILE", "/dev/null"))
             if ln.split() and not ln.startswith("#")] if os.environ.get("SPARSE_PATHS_FILE") else []
    paths.sort(key=lambda p: order.index(p) if p in order else len(order))
    summary = []
    print("== Server mode: score = geomean over sizes of mean time / kernel default's; "
          "[95% interval, bootstrap over connections]")
    print(f"{'path':8} {'n':>4} {'1-100':>6} {'learnd >100':>17} {'learnd >300':>17} "
          f"{'best static':>25} {'>100 / best':>17} {'>300 / best':>17} {'cum300':>7} {'paired':>7} {'worst blk':>9} "
          f"{'paired':>6} {'probe%':>7} "
          f"{'rtx% l/d':>11}")
    detail = []
    for p in paths:
        pr = [r for r in rows if r["path"] == p]
        arm = {}
        for r in pr:
            arm.setdefault(r["arm"], []).append(r)
        learn = arm.get("learnd", [])
        dflt = by_size(arm.get("default", []))
        for i, r in enumerate(learn):
            r["idx"] = i + 1
        first = by_size([r for r in learn if r["idx"] <= 100])
        after = by_size([r for r in learn if r["idx"] > 100])
        after3 = by_size([r for r in learn if r["idx"] > 300])
        # a static value against the default blocks of the same rounds (paired: the
        # same sizes, the same moment of the run)
        statics = {}
        for a, v in arm.items():
            if a.startswith("static"):
                rounds = {r["round"] for r in v}
                den = by_size([r for r in arm.get("default", []) if r["round"] in rounds])
                statics[int(a[6:])] = (by_size(v), den)
        best_v, best_s = "default", 1.0
        sscores = {}
        for v, (d, den) in sorted(statics.items()):
            sscores[v] = score(d, den)
            if sscores[v] < best_s:
                best_v, best_s = v, sscores[v]
        best_d, best_den = statics[best_v] if best_v != "default" else (dflt, dflt)
        best_ci = boot(best_d, best_den, rng) if best_v != "default" else (1.0, 1.0)
        s1 = score(first, dflt)
        s2 = score(after, dflt)
        s3 = score(after3, dflt)
        s2ci = boot(after, dflt, rng) if after else None
        s3ci = boot(after3, dflt, rng) if after3 else None
        rel = s2 / best_s if after else float("nan")
        relci = boot(after, dflt, rng, best_d, best_den) if after and best_v != "default" else s2ci
        rel3 = s3 / best_s if after3 else float("nan")
        rel3ci = boot(after3, dflt, rng, best_d, best_den) if after3 and best_v != "default" else s3ci
        # convergence curve: each block of learnd connections against the default's
        # per-size means over the whole run, and paired: against the default block of
        # its own round (the same sizes, measured next to it, so the run's start-up
        # load falls on both)
        rounds = {}
        for r in arm.get("default", []):
            rounds.setdefault(r["round"], []).append(r)
        curve, pcurve = [], []
        for b in range(0, len(learn), block):
            lb = by_size(learn[b:b + block])
            curve.append(score(lb, dflt))
            pcurve.append(score(lb, by_size(rounds.get(learn[b]["round"], []))))
        # cumulative time over the first 300 against the default's mean for each size,
        # and paired (against the default blocks of the same rounds: same sizes)
        c = learn[:300]
        tl = sum(r["fct"] for r in c if r["ok"])
        td = sum(mean(dflt[r["size"]]) for r in c if r["ok"] and r["size"] in dflt)
        cum = 100.0 * (tl / td - 1) if td else float("nan")
        cr = {r["round"] for r in c}
        tdp = sum(r["fct"] for k in cr for r in rounds.get(k, []) if r["ok"])
        cump = 100.0 * (tl / tdp - 1) if tdp and all(r["ok"] for k in cr for r in rounds.get(k, [])) else float("nan")
        pb = probes.get(p, [])
        pb.sort()
        conv = pb[-4:] if len(pb) >= 4 else pb
        nrec = sum(x[1] for x in conv)
        share = 100.0 * sum(x[2] for x in conv) / nrec if nrec else float("nan")
        params = sorted({q for x in pb for q in x[3].split(";") if q not in ("-", "?", "")})
        allrec = sum(x[1] for x in pb)
        share_all = 100.0 * sum(x[2] for x in pb) / allrec if allrec else float("nan")
        worst = max((x for x in curve if x == x), default=float("nan"))
        pworst = max((x for x in pcurve if x == x), default=float("nan"))
        lr, dr = rtx(learn), rtx(arm.get("default", []))
        bv = f"IW{best_v}" if best_v != "default" else "default"
        print(f"{p:8} {len(learn):4} {fmt(s1):>6} {fmt(s2, s2ci):>17} {fmt(s3, s3ci):>17} "
              f"{bv + ' ' + fmt(best_s, best_ci):>25} {fmt(rel, relci):>17} {fmt(rel3, rel3ci):>17} {cum:+6.1f}% {cump:+6.1f}% {worst:9.3f} {pworst:6.3f} "
              f"{share:6.1f}% {lr:5.2f}/{dr:5.2f}")
        cl = [r["conn"] for r in learn if r["ok"]]
        cd = [r["conn"] for r in arm.get("default", []) if r["ok"]]
        errs = {a: sum(not r["ok"] for r in v) for a, v in arm.items()}
        detail.append((p, curve, pcurve, sscores, share_all, params, cl, cd, errs, pb))
        summary.append({"path": p, "n": len(learn), "score_1_100": s1, "score_after100": s2,
                        "ci_after100": s2ci, "score_after300": s3, "ci_after300": s3ci,
                        "best_static": best_v, "best_score": best_s, "best_ci": best_ci,
                        "rel_after100": rel, "rel_ci": relci, "rel_after300": rel3, "rel300_ci": rel3ci, "cum300_pct": cum,
                        "cum300_paired_pct": cump, "curve": curve, "worst_block": worst,
                        "curve_paired": pcurve, "worst_block_paired": pworst, "probe_share_last100": share,
                        "probe_share_all": share_all, "probed_params": params,
                        "static_scores": sscores, "rtx_learnd": lr, "rtx_default": dr,
                        "connect_mean_learnd": mean(cl), "connect_mean_default": mean(cd),
                        "connect_p99_learnd": pct(cl, 0.99), "connect_p99_default": pct(cd, 0.99)})
    print("(learnd 1-100: its first 100 connections; >100, >300: the rest of the run; best static: "
          "the lowest score over the sweep, the default counting as IW 10; lrn>100/best, lrn>300/best: learnd's "
          "score after 100 (300) over the best's; cum300: learnd's total time over its first 300 "
          "connections against the default's mean for the same sizes, and paired: against the "
          "default blocks of the same rounds; worst blk: the highest block score (and paired: against "
          "its round's default block); probe%: learnd's sampled records on a non-incumbent slot, last 4 blocks; rtx%: "
          "server segments retransmitted, learnd/default)")
    print()
    print("Convergence curve: score of each block of %d learnd connections, from the first" % block)
    for p, curve, *_ in detail:
        print(f"{p:8} " + " ".join(f"{x:.2f}" for x in curve))
    print("... paired: each block against the default block of its own round")
    for p, _, pcurve, *_ in detail:
        print(f"{p:8} " + " ".join(f"{x:.2f}" for x in pcurve))
    print()
    print("Static sweep scores, connect time (ms, mean / p99), probes, errors")
    for p, curve, _, ss, share_all, params, cl, cd, errs, pb in detail:
        sw = " ".join(f"IW{v}={s:.3f}" for v, s in sorted(ss.items()))
        plan = [x[4] for x in pb[-4:] if x[4] >= 0]
        print(f"{p:8} {sw}")
        print(f"{'':8} connect learnd {mean(cl):.1f}/{pct(cl, .99):.1f} default {mean(cd):.1f}/"
              f"{pct(cd, .99):.1f} (learnd/default mean {mean(cl) / mean(cd) if cd else float('nan'):.2f})"
              f"; probe share all blocks {share_all:.1f}%, slot shares planned at the end "
              f"{100 * mean(plan) if plan else float('nan'):.0f}%; probed: {','.join(params) or 'nothing'}"
              f"; errors {dict(sorted(errs.items()))}")
    print()
    conn_phase(rows, rng)
    if rep:
        print("learnd's values at the end (learnctl report):")
        print(rep.get("_header", ""))
        for k, ln in rep.items():
            if k != "_header":
                print(ln)
        print()
    with open(os.path.join(out, "scores.json"), "w") as f:
        json.dump(summary, f, indent=1)


def ratio_ci(num, den, rng):
    out = sorted(mean(rng.choices(num, k=len(num))) / mean(rng.choices(den, k=len(den))) for _ in range(REPS))
    return out[int(0.025 * REPS)], out[int(0.975 * REPS) - 1]


def conn_phase(rows, rng):
    """connect time of the rounds (learnd, default) and of the connect phase (conn-*)"""
    paths = sorted({r["path"] for r in rows if r["arm"].startswith("conn-")})
    if not paths:
        return
    print("Connect time, server side alone (the client keeps the kernel's 1 s SYN RTO): mean [95% interval, "
          "bootstrap]; learnd and default: rounds and connect phase (10 KB, 4 at a time) together; floor: "
          "the connect phase's server whose SYN-ACK RTO is held at the lower bound (what no server timer "
          "saves: the client's own lost SYNs); >=1s: share of connections that took a second or more")
    for p in paths:
        arms = {}
        for r in rows:
            if r["path"] == p and r["ok"] and r["arm"] in ("learnd", "default", "conn-learnd", "conn-default",
                                                           "conn-floor"):
                arms.setdefault(r["arm"].replace("conn-", ""), []).append(r["conn"])
        lc, dc, fc = arms.get("learnd", []), arms.get("default", []), arms.get("floor", [])
        if not lc or not dc:
            continue
        lo, hi = ratio_ci(lc, dc, rng)
        slow = "/".join(f"{100.0 * sum(x >= 1000 for x in v) / len(v):.1f}%" for v in (lc, dc, fc) if v)
        line = (f"{p:8} n {len(lc)}/{len(dc)}  mean {mean(lc):.1f}/{mean(dc):.1f} ms  learnd/default "
                f"{mean(lc) / mean(dc):.3f} [{lo:.2f},{hi:.2f}]  p99 {pct(lc, .99):.0f}/{pct(dc, .99):.0f} ms")
        if fc:
            flo, fhi = ratio_ci(fc, dc, rng)
            llo, lhi = ratio_ci(lc, fc, rng)
            line += (f"\n{'':8} floor n {len(fc)} mean {mean(fc):.1f} ms  floor/default {mean(fc) / mean(dc):.3f} "
                     f"[{flo:.2f},{fhi:.2f}]  learnd/floor {mean(lc) / mean(fc):.3f} [{llo:.2f},{lhi:.2f}]")
        print(line + f"  >=1s l/d/f {slow}")
    print()


def client(out, rng):
    path = os.path.join(out, "conns.csv")
    if not os.path.exists(path):
        return
    rows = load(path)
    print("== Client mode: learnd on the client; score = geomean over sizes of mean time, "
          "learnd / default [95% interval]")
    cases = {}
    for r in rows:
        side, srv = r["arm"].split(".")
        cases.setdefault((r["path"], srv), {}).setdefault(side, []).append(r)
    print(f"{'path':8} {'server':6} {'n':>4} {'score':>20} {'connect ms l/d mean':>20} "
          f"{'p99 l/d':>16} {'conn ratio':>10}")
    for (p, srv), d in sorted(cases.items()):
        lr, dr = d.get("learnd", []), d.get("default", [])
        ln, dn = by_size(lr), by_size(dr)
        s = score(ln, dn)
        ci = boot(ln, dn, rng)
        cl = [r["conn"] for r in lr if r["ok"]]
        cd = [r["conn"] for r in dr if r["ok"]]
        print(f"{p:8} {srv:6} {len(lr):4} {fmt(s, ci):>20} {mean(cl):9.1f}/{mean(cd):<9.1f} "
              f"{pct(cl, .99):7.1f}/{pct(cd, .99):<7.1f} {mean(cl) / mean(cd) if cd else float('nan'):10.2f}")
        per = [f"{s // 1000}k {mean(ln[s]) / mean(dn[s]):.3f}" for s in sorted(ln) if s in dn and dn[s]]
        if len(per) > 1:
            print(f"{'':15} by size, learnd / default: " + "  ".join(per))
    for f in sorted(os.listdir(out)):
        if f.startswith("report.") and f.endswith(".txt"):
            print(f"client-side learnd of {f[7:-4]} (learnctl report):")
            with open(os.path.join(out, f)) as fh:
                print(fh.read().rstrip())
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", required=True)
    ap.add_argument("--block", type=int, default=25)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    server(os.path.join(a.out, "srv"), a.block, rng)
    client(os.path.join(a.out, "cli"), rng)
    return 0


if __name__ == "__main__":
    sys.exit(main())
