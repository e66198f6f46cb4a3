#!/usr/bin/python3
"""corpus_compare.py - the sensor against tshark on public captures.

For every capture whose manifest says tshark decodes MQTT, XMPP or AMQP,
lists the TCP connections tshark decodes as that protocol and checks that
the sensor's flow events confirm the same connections (same endpoints,
same protocol, evidence payload).  Run with `make corpus SHARED=../shared`;
needs tshark.  Prints one line per file and the totals.
"""
import argparse
import csv
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PROTOS = {"mqtt": "MQTT", "xmpp": "XMPP", "amqp": "AMQP"}
DECODE_AS = {"17501": "mqtt", "5269": "xmpp"}


def tshark_streams(path, proto, ports):
    args = ["tshark", "-r", path, "-Y", proto, "-T", "fields", "-E", "separator=\t",
            "-e", "tcp.stream", "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport",
            "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport"]
    for port, p in DECODE_AS.items():
        if p == proto and port in ports:
            args += ["-d", f"tcp.port=={port},{proto}"]
    out = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False).stdout
    streams = {}
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) < 7 or not f[0]:
            continue
        a = (f[1] or f[2], int(f[3].split(",")[0]))
        b = (f[4] or f[5], int(f[6].split(",")[0]))
        streams[f[0]] = frozenset([a, b])
    return set(streams.values())


def sensor_flows(sensor, path):
    p = subprocess.run([sensor, "-c", os.path.join(HERE, "data", "corpus.yaml"), "-r", path, "-o", "-",
                        "--flows", "--no-table"], capture_output=True, text=True, timeout=120, check=False)
    flows = {}
    for line in p.stdout.splitlines():
        e = json.loads(line)
        if e["event_type"] == "flow":
            key = frozenset([(e["src_ip"], e["src_port"]), (e["dest_ip"], e["dest_port"])])
            flows[key] = (e["Protocol"], e["evidence"])
    return flows, p.returncode, p.stderr.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sensor", default="./pubsub-sensor")
    ap.add_argument("--corpus", required=True)
    args = ap.parse_args()
    agree = differ = 0
    with open(os.path.join(args.corpus, "MANIFEST.tsv"), encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    for row in rows:
        tsh = row["server_ports"]
        wanted = [p for p in PROTOS if f"{p}=" in tsh]
        if not wanted or not row["path"].startswith("public/"):
            continue
        path = os.path.join(args.corpus, row["path"])
        if path.endswith(".gz") or path.endswith(".cap"):
            print(f"skip  {row['path']}: libpcap cannot read this container")
            continue
        flows, rc, err = sensor_flows(args.sensor, path)
        for proto in wanted:
            ports = tsh.split(f"{proto}=")[1].split()[0]
            for conn in sorted(tshark_streams(path, proto, ports), key=sorted):
                got = flows.get(conn)
                ends = " <-> ".join(f"{ip}:{port}" for ip, port in sorted(conn))
                if got == (PROTOS[proto], "payload"):
                    agree += 1
                    print(f"agree {row['path']} {PROTOS[proto]} {ends}")
                else:
                    differ += 1
                    print(f"DIFF  {row['path']} {PROTOS[proto]} {ends}: sensor says {got} "
                          f"(exit {rc}{', ' + err[:120] if err else ''})")
    print(f"corpus: {agree} connections agree, {differ} differ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
