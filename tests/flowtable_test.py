#!/usr/bin/python3
"""flowtable_test.py SENSOR - the connection table under attack, on captures
generated here with scapy: SYN-ACK floods (spoofed or backscatter), the
first-bytes pool exhausted by idle connections.  Each case replays its
capture and checks the flow events and stats counters the sensor wrote
against what the capture holds.  Prints "flowtable: N passed, M failed".
"""
import json
import os
import subprocess
import sys
import tempfile

from scapy.all import IP, TCP, Ether, Raw, PcapWriter  # noqa: E402

sensor = sys.argv[1] if len(sys.argv) > 1 else "./pubsub-sensor"
passed = failed = 0
T0 = 1767225600.0  # 2026-01-01T00:00:00Z


def ok(name):
    global passed
    passed += 1
    print("ok   " + name)


def fail(name, why):
    global failed
    failed += 1
    print("FAIL " + name)
    print("     " + why)


class Capture:
    """Writes TCP segments of conversations, with times, into a pcap."""

    def __init__(self, path):
        self.w = PcapWriter(path, linktype=1, sync=False)
        self.t = T0

    def seg(self, src, sport, dst, dport, flags, seq, ack=0, data=b"", dt=0.0001):
        self.t += dt
        p = Ether() / IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags=flags,
                                                   seq=seq & 0xffffffff, ack=ack & 0xffffffff,
                                                   window=65535)
        if data:
            p = p / Raw(data)
        p.time = self.t
        self.w.write(p)

    def close(self):
        self.w.close()


class Conn:
    """One client/server conversation with its sequence numbers."""

    def __init__(self, cap, c, cp, s, sp, cseq=1000, sseq=900000):
        self.cap, self.c, self.cp, self.s, self.sp = cap, c, cp, s, sp
        self.cseq, self.sseq = cseq, sseq

    def handshake(self):
        self.cap.seg(self.c, self.cp, self.s, self.sp, "S", self.cseq - 1)
        self.cap.seg(self.s, self.sp, self.c, self.cp, "SA", self.sseq - 1, self.cseq)
        self.cap.seg(self.c, self.cp, self.s, self.sp, "A", self.cseq, self.sseq)

    def send(self, data, from_client=True):
        if from_client:
            self.cap.seg(self.c, self.cp, self.s, self.sp, "PA", self.cseq, self.sseq, data)
            self.cseq += len(data)
        else:
            self.cap.seg(self.s, self.sp, self.c, self.cp, "PA", self.sseq, self.cseq, data)
            self.sseq += len(data)

    def close(self):
        self.cap.seg(self.c, self.cp, self.s, self.sp, "FA", self.cseq, self.sseq)
        self.cseq += 1
        self.cap.seg(self.s, self.sp, self.c, self.cp, "FA", self.sseq, self.cseq)
        self.sseq += 1
        self.cap.seg(self.c, self.cp, self.s, self.sp, "A", self.cseq, self.sseq)


CONNECT = bytes([0x10, 0x14, 0x00, 0x04]) + b"MQTT" + bytes([0x04, 0x02, 0x00, 0x3c, 0x00, 0x08]) + b"sensor-1"
CONNACK = bytes([0x20, 0x02, 0x00, 0x00])


def run(pcap, config_text, tmp):
    cfg = os.path.join(tmp, "c.yaml")
    with open(cfg, "w") as f:
        f.write(config_text)
    p = subprocess.run([sensor, "-r", pcap, "-c", cfg, "-o", "-", "--no-table", "--flows"],
                       capture_output=True, text=True, timeout=300)
    events = []
    for line in p.stdout.splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            pass
    return p.returncode, events, p.stderr


def base_config(tables):
    return "output:\n  event_log: \"\"\ntables:\n" + "".join(
        "  %s: %s\n" % kv for kv in tables.items())


def flows(events):
    return [e for e in events if e.get("event_type") == "flow"]


def stats(events):
    st = [e for e in events if e.get("event_type") == "stats"]
    return st[-1] if st else {}


# ---- SYN-ACK floods ---------------------------------------------------------

def synack_flood(tmp, n_spoofed, max_flows):
    """A real MQTT connection, then n_spoofed SYN-ACKs from port 1883 of
    random hosts, then the real connection's reply and close."""
    pcap = os.path.join(tmp, "synack-%d.pcap" % n_spoofed)
    cap = Capture(pcap)
    real = Conn(cap, "10.1.0.5", 40001, "198.51.100.7", 1883)
    real.handshake()
    real.send(CONNECT)
    for k in range(n_spoofed):
        src = "203.0.%d.%d" % (k // 250 % 250, 1 + k % 250)
        cap.seg(src, 1883, "10.1.0.%d" % (10 + k % 200), 20000 + k % 40000, "SA",
                (k * 7919) & 0xffffffff, (k * 104729) & 0xffffffff)
    real.send(CONNACK, from_client=False)
    real.close()
    cap.close()
    return pcap


def test_synack(tmp, n, max_flows):
    name = "synack flood: %d spoofed SYN-ACKs, max_flows %d" % (n, max_flows)
    pcap = synack_flood(tmp, n, max_flows)
    rc, ev, err = run(pcap, base_config({"max_flows": max_flows}), tmp)
    fl = flows(ev)
    if rc != 0:
        return fail(name, "exit %d: %s" % (rc, err.strip()))
    real = [f for f in fl if f.get("src_port") == 40001]
    others = [f for f in fl if f.get("src_port") != 40001]
    if len(real) != 1 or real[0].get("close") != "fin" or real[0].get("evidence") != "payload":
        return fail(name, "the real connection should end by fin with payload evidence: %s" % real)
    if others:
        return fail(name, "%d flow events from spoofed SYN-ACKs, e.g. %s" % (len(others), others[0]))
    groups = [e for e in ev if e.get("event_type") in ("alert", "update", "summary")
              and e.get("dest_port") == 1883 and e.get("src_ip", "").startswith("10.1.0.") and
              e.get("src_ip") != "10.1.0.5"]
    if groups:
        return fail(name, "group events from spoofed SYN-ACKs: %s" % groups[0])
    st = stats(ev)
    want_evicted = max(0, n + 1 - max_flows)
    got = st.get("counters", {}).get("flows_evicted_half_open")
    if got != want_evicted:
        return fail(name, "flows_evicted_half_open %s, want %d" % (got, want_evicted))
    ok(name)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        # the table holds 16: the real flow plus 14 (N-2), 15 (N-1, full) and 16 (N)
        for n in (14, 15, 16, 3000):
            test_synack(tmp, n, 16)
    print("flowtable: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
