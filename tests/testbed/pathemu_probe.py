# tests/testbed/pathemu_probe.py: the traffic of the emulator's tests (test_pathemu.sh,
# test_pathemu_throughput.sh), run inside the topology's namespaces:
#   srv PORT                     send the number of bytes each client asks for, then close
#   hs HOST PORT N               median, min and max connect() time in ms over N
#   try HOST PORT TIMEOUT_S      "ok" if a handshake completes in time, else "timeout"
#   bulk HOST PORT SIZE SKIP     ask for SIZE bytes: "received goodput", Mbit/s after SKIP bytes
#   udprecv PORT IDLE_S READY    count datagrams until IDLE_S idle (READY created when
#                                bound): "count in_order"
#   udpburst HOST PORT N SIZE    N datagrams of SIZE bytes back to back
import socket, statistics, sys, time
def fam(h): return socket.AF_INET6 if ":" in h else socket.AF_INET
m = sys.argv[1]
if m == "srv":            # srv PORT: send the number of bytes asked for, then close
    s = socket.socket(socket.AF_INET6)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", int(sys.argv[2]))); s.listen(128)
    buf = b"x" * (1 << 20)
    while True:
        c, _ = s.accept()
        line = c.recv(64)
        n = int(line.split(b"\n")[0]) if line else 0
        while n > 0:
            k = c.send(buf[:min(n, len(buf))]); n -= k
        c.close()
elif m == "hs":           # hs HOST PORT N: median connect() time in ms
    h, p, n = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    ts = []
    for i in range(n):
        s = socket.socket(fam(h))
        t0 = time.monotonic_ns(); s.connect((h, p)); t1 = time.monotonic_ns()
        ts.append((t1 - t0) / 1e6); s.close(); time.sleep(0.01)
    print("%.3f %.3f %.3f" % (statistics.median(ts), min(ts), max(ts)))
elif m == "try":          # try HOST PORT TIMEOUT_S: does a handshake complete in time?
    h, p, t = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    s = socket.socket(fam(h)); s.settimeout(t)
    try:
        s.connect((h, p)); print("ok")
    except (socket.timeout, OSError):
        print("timeout")
elif m == "bulk":         # bulk HOST PORT SIZE SKIP: goodput (Mbit/s) after the first SKIP bytes
    h, p, size, skip = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    s = socket.socket(fam(h)); s.connect((h, p)); s.sendall(b"%d\n" % size)
    got = 0; t_skip = None; g_skip = 0
    while True:
        d = s.recv(1 << 20)
        if not d: break
        got += len(d)
        if t_skip is None and got >= skip: t_skip = time.monotonic(); g_skip = got
    t1 = time.monotonic()
    print("%d %.3f" % (got, (got - g_skip) * 8 / (t1 - t_skip) / 1e6))
elif m == "udprecv":      # udprecv PORT IDLE_S: count datagrams until idle; in order?
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", int(sys.argv[2])))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    open(sys.argv[4], "w").close()   # ready
    s.settimeout(5); n = 0; last = -1; inorder = 1
    try:
        while True:
            d, _ = s.recvfrom(2048)
            seq = int(d[:8]); n += 1
            if seq <= last: inorder = 0
            last = seq; s.settimeout(float(sys.argv[3]))
    except socket.timeout:
        pass
    print("%d %d" % (n, inorder))
elif m == "udpburst":     # udpburst HOST PORT N SIZE: N datagrams back to back
    h, p, n, size = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    s = socket.socket(fam(h), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    for i in range(n):
        s.sendto(b"%08d" % i + b"u" * (size - 8), (h, p))
