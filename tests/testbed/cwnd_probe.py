#!/usr/bin/env python3
"""Connect N times to 127.0.0.1:PORT and print the client's snd_cwnd right after
connect (tcp_info.tcpi_snd_cwnd, offset 80): the IW the sock_ops program set at
ACTIVE_ESTABLISHED_CB, or the kernel default 10.  Used by test_learnctl_dataplane.sh."""
import socket, struct, sys

port, n = int(sys.argv[1]), int(sys.argv[2])
vals = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    vals.append(struct.unpack_from("I", info, 80)[0])
    s.close()
print(" ".join(map(str, vals)))
