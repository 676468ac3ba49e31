#!/usr/bin/env python3
"""Connections from many distinct source prefixes, for test_hostile.sh.

spray.py SERVER4 SERVER6 PORT FIRST COUNT4 COUNT6

Connection i (FIRST <= i < FIRST+COUNT) binds 10.(64 + i/256).(i%256).1 for IPv4
(one /24 each) and fd64:0:i::1 for IPv6 (one /48 each): the client namespace has
`local` routes for 10.64.0.0/10 and fd64::/16 on lo.  Each connection asks the
flowgen server for 1000 bytes (its protocol: 8 bytes, big-endian size) and reads
until the server closes.  Prints "ok N fail M"; exit 0 when at least 90% worked.
"""
import socket
import struct
import sys
from concurrent.futures import ThreadPoolExecutor

SIZE = 1000
IP_FREEBIND = 15  # linux/in.h


def one(family, src, dst, port):
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        s.settimeout(5)
        # IPv6 binds only addresses configured on an interface, not those of a
        # local route: IP_FREEBIND (also honoured on IPv6 sockets)
        s.setsockopt(socket.SOL_IP, IP_FREEBIND, 1)
        s.bind((src, 0))
        s.connect((dst, port))
        s.sendall(struct.pack(">Q", SIZE))
        got = 0
        while got < SIZE:
            b = s.recv(65536)
            if not b:
                break
            got += len(b)
        return got == SIZE
    except OSError:
        return False
    finally:
        s.close()


def main():
    srv4, srv6, port, first, n4, n6 = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), \
        int(sys.argv[5]), int(sys.argv[6])
    jobs = []
    for i in range(first, first + n4):
        jobs.append((socket.AF_INET, "10.%d.%d.1" % (64 + i // 256, i % 256), srv4))
    for i in range(first, first + n6):
        jobs.append((socket.AF_INET6, "fd64:0:%x::1" % i, srv6))
    with ThreadPoolExecutor(max_workers=32) as ex:
        res = list(ex.map(lambda j: one(j[0], j[1], j[2], port), jobs))
    ok = sum(res)
    print("ok %d fail %d" % (ok, len(res) - ok))
    return 0 if ok >= 0.9 * len(res) else 1


if __name__ == "__main__":
    sys.exit(main())
