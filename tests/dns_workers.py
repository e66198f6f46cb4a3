#!/usr/bin/python3
"""dns_workers.py - the DNS capture of the workers test (tests/workers-test.sh).

  dns_workers.py write PCAP   16 clients 10.0.2.1-16, each told by a DNS
                              answer (UDP for odd clients, TCP for even ones)
                              that cN.example is 198.51.100.(100+N), then two
                              MQTT connections from each to that address;
                              0.2 s between steps, for a paced replay
  dns_workers.py check JSONL  every client's group carries dest_host cN.example;
                              prints one line per problem, exits 1 on any

With several workers the kernel hands the DNS packets and the MQTT
connection of a client to workers by their own addresses, so most answers
are read by another worker than the one that follows the connection.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_pcap  # noqa: E402
from intel_test import (dns_answer, a_rec, framed, dns_tcp, udp_frame,  # noqa: E402
                        mqtt_conns)

CLIENTS = range(1, 17)
T0 = 1767225600


def write(path):
    pkts = []
    for n in CLIENTS:
        client, addr, name = f"10.0.2.{n}", f"198.51.100.{100 + n}", f"c{n}.example"
        msg = dns_answer(name, [(name, 1, a_rec(addr))])
        t = T0 + 0.2 * n
        if n % 2:
            pkts.append((t, udp_frame("10.0.0.53", client, 53, 33000 + n, msg)))
        else:
            pkts += dns_tcp(t, client, 50000 + n, framed(msg))
        pkts += mqtt_conns([T0 + 4 + 0.2 * n, T0 + 8 + 0.2 * n], client=client, server=addr)
    gen_pcap.write_pcap(path, pkts)


def check(path):
    with open(path, encoding="utf-8") as f:
        events = [json.loads(line) for line in f if line.strip()]
    groups = {e["src_ip"]: e for e in events if e.get("event_type") == "summary"}
    bad = 0
    for n in CLIENTS:
        g = groups.get(f"10.0.2.{n}")
        want = f"c{n}.example"
        if not g or g.get("dest_host") != want:
            print(f"10.0.2.{n}: dest_host {g.get('dest_host') if g else 'no group'}, want {want}")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "write":
        write(sys.argv[2])
        sys.exit(0)
    if len(sys.argv) == 3 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2]))
    sys.exit("usage: dns_workers.py write PCAP | check JSONL")
