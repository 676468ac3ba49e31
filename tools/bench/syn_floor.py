#!/usr/bin/env python3
"""Mean connect time under SYN loss for a given server SYN-ACK RTO, by simulation of
Linux's timers (docs/benchmarks.md, "Sparse traffic"): the client sends its SYN at 0 and
again after 1, 2, 4, ... s; the server answers every SYN that arrives with a SYN-ACK and
retransmits the first one on its own timer (rto, doubling); each SYN and SYN-ACK is lost
with probability p.  Prints mean connect time for the kernel's 1 s, for the given RTOs,
and their ratio to the 1 s one: what server-side learning can reach at best.

  tools/bench/syn_floor.py [-p 0.2] [-r 10] [-n 200000] [RTO_MS ...]   (default RTOs: 25 4 0)"""
import argparse
import random


def connect(rng, p, owd, srv_rto):
    t, r, syns = 0.0, 1.0, [0.0]
    for _ in range(6):
        t += r
        r *= 2
        syns.append(t)
    arrivals = [s + owd for s in syns if rng.random() >= p]
    if not arrivals:
        return None
    sends = list(arrivals)
    t, r = arrivals[0], srv_rto
    for _ in range(8):
        t += r
        r *= 2
        sends.append(t)
    got = [x + owd for x in sends if rng.random() >= p]
    return min(got) if got else None


def mean_connect(p, rtt_s, rto_s, n, seed):
    rng = random.Random(seed)
    v = [x for x in (connect(rng, p, rtt_s / 2, rto_s) for _ in range(n)) if x is not None]
    return sum(v) / len(v), sum(x >= 1.0 for x in v) / len(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-p", type=float, default=0.2, help="loss probability of each SYN and SYN-ACK")
    ap.add_argument("-r", type=float, default=10.0, help="round trip, ms")
    ap.add_argument("-n", type=int, default=200000, help="connections simulated")
    ap.add_argument("rto", nargs="*", type=float, default=[25.0, 4.0, 0.0], help="server SYN-ACK RTOs, ms")
    a = ap.parse_args()
    base, bslow = mean_connect(a.p, a.r / 1000, 1.0, a.n, 1)
    print(f"SYN loss {a.p:g} each way, RTT {a.r:g} ms, {a.n} connections")
    print(f"server RTO 1000 ms: mean {1000 * base:.1f} ms, >= 1 s {100 * bslow:.1f}%")
    for rto in a.rto:
        m, slow = mean_connect(a.p, a.r / 1000, rto / 1000, a.n, 1)
        print(f"server RTO {rto:g} ms: mean {1000 * m:.1f} ms, >= 1 s {100 * slow:.1f}%, ratio {m / base:.3f}")


if __name__ == "__main__":
    main()
