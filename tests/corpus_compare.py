#!/usr/bin/python3
"""corpus_compare.py - the sensor against tshark on public captures.

For every capture whose manifest says tshark decodes MQTT, XMPP or AMQP,
lists the TCP connections tshark decodes as that protocol and checks that
the sensor's flow events confirm the same connections (same endpoints,
same protocol, evidence payload).  Run with `make corpus SHARED=../shared`;
needs tshark.  Prints one line per file and the totals.

Then, by the role the manifest's notes give each file: every `positive`
file must have each protocol its notes name (MQTT, XMPP, AMQP, STOMP)
confirmed on at least one connection (evidence payload, or tls for a
ClientHello), and no `negative` file may have any connection confirmed by
payload.  Exits 1 when either fails.
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


def named_protocols(notes):
    """The pub/sub protocols the first sentence of a manifest note names."""
    head = notes.split(".")[0].upper().replace("/", " ").replace("(", " ")
    return {w for w in ("MQTT", "XMPP", "AMQP", "STOMP") if w in head.split()}


def role_check(sensor, corpus, rows):
    """(positives confirmed, positives, negatives confirmed by payload, negatives)."""
    pos_ok = pos = neg_bad = neg = 0
    for row in rows:
        notes = row["notes"]
        role = notes.split()[0].rstrip(":").lower() if notes else ""
        path = os.path.join(corpus, row["path"])
        if not row["path"].startswith("public/") or path.endswith((".gz", ".cap")):
            continue
        if role == "positive":
            want = named_protocols(notes)
            if not want:
                continue
            flows, _, _ = sensor_flows(sensor, path)
            seen = {p for p, ev in flows.values() if ev in ("payload", "tls")}
            pos += 1
            if want <= seen:
                pos_ok += 1
                print(f"pos   {row['path']}: {', '.join(sorted(want))} confirmed")
            else:
                print(f"MISS  {row['path']}: {', '.join(sorted(want - seen))} not confirmed "
                      f"(flows: {sorted(set(flows.values()))})")
        elif role.startswith("negative"):
            flows, _, _ = sensor_flows(sensor, path)
            bad = sorted({(p, ev) for p, ev in flows.values() if ev == "payload"})
            neg += 1
            if bad:
                neg_bad += 1
                print(f"FALSE {row['path']}: confirmed by payload as {bad}")
            else:
                print(f"neg   {row['path']}: nothing confirmed by payload")
    return pos_ok, pos, neg_bad, neg


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
    pos_ok, pos, neg_bad, neg = role_check(args.sensor, args.corpus, rows)
    print(f"corpus: {pos_ok} of {pos} positive files confirmed, "
          f"{neg_bad} of {neg} negative files confirmed by payload")
    return 0 if pos_ok == pos and neg_bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
