#!/usr/bin/env python3
"""fleet_probe.py client PORT N SIZE: N connections to 127.0.0.1:PORT, each printing
the client's snd_cwnd right after connect (tcp_info offset 80: the IW the sock_ops
program set, or the kernel default 10), then sending SIZE bytes and waiting for the
server to close, so the connection counts as one that sends more than an IW.
fleet_probe.py server PORT: accepts, reads to EOF, closes (one thread per client)."""
import socket, struct, sys, threading

def serve(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(64)
    def one(c):
        try:
            while c.recv(65536):
                pass
        finally:
            c.close()
    while True:
        c, _ = s.accept()
        threading.Thread(target=one, args=(c,), daemon=True).start()

def client(port, n, size):
    vals = []
    data = b"x" * size
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
        vals.append(struct.unpack_from("I", info, 80)[0])
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        s.recv(1)
        s.close()
    print(" ".join(map(str, vals)))

if sys.argv[1] == "server":
    serve(int(sys.argv[2]))
else:
    client(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
