#!/usr/bin/python3
"""flowtable_test.py SENSOR - the connection table under attack, on captures
generated here (Ethernet/IPv4/TCP frames with valid checksums written by a
small pcap writer below): SYN-ACK floods (spoofed or backscatter), the
first-bytes pool exhausted by idle connections.  Each case replays its
capture and checks the flow events and stats counters the sensor wrote
against what the capture holds.  Prints "flowtable: N passed, M failed".
"""
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile

sensor = sys.argv[1] if len(sys.argv) > 1 else "./pubsub-sensor"
passed = failed = 0
T0 = 1767225600  # 2026-01-01T00:00:00Z


def ok(name):
    global passed
    passed += 1
    print("ok   " + name)


def fail(name, why):
    global failed
    failed += 1
    print("FAIL " + name)
    print("     " + why)


def _csum(data):
    if len(data) % 2:
        data += b"\0"
    t = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while t >> 16:
        t = (t & 0xffff) + (t >> 16)
    return ~t & 0xffff


_FLAGS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10}


def tcp_frame(src, sport, dst, dport, flags, seq, ack, data):
    """Ethernet + IPv4 + TCP with correct checksums, as bytes."""
    s, d = socket.inet_aton(src), socket.inet_aton(dst)
    fl = sum(_FLAGS[c] for c in flags)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xffffffff, ack & 0xffffffff,
                      5 << 4, fl, 65535, 0, 0) + data
    pseudo = s + d + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", _csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0, s, d)
    ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + tcp


class Capture:
    """Writes TCP segments of conversations, with times, into a classic pcap."""

    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        self.t = int(T0 * 1000000)

    def seg(self, src, sport, dst, dport, flags, seq, ack=0, data=b"", dt_us=100):
        self.t += dt_us
        frame = tcp_frame(src, sport, dst, dport, flags, seq, ack, data)
        self.f.write(struct.pack("<IIII", self.t // 1000000, self.t % 1000000, len(frame), len(frame)))
        self.f.write(frame)

    def close(self):
        self.f.close()


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


# ---- the first-bytes pool ---------------------------------------------------

def idle_then_split_connect(tmp, n_idle):
    """n_idle connections to 443 that send one byte 0x10 and never close,
    then a real MQTT CONNECT split over two segments on port 8080."""
    pcap = os.path.join(tmp, "idle-%d.pcap" % n_idle)
    cap = Capture(pcap)
    for k in range(n_idle):
        c = Conn(cap, "10.2.%d.%d" % (k // 250, 1 + k % 250), 30000 + k % 30000, "192.0.2.80", 443)
        c.handshake()
        c.send(b"\x10")
    real = Conn(cap, "10.3.0.1", 45000, "198.51.100.9", 8080)
    real.handshake()
    real.send(CONNECT[:3])
    real.send(CONNECT[3:])
    real.send(CONNACK, from_client=False)
    real.close()
    cap.close()
    return pcap


def test_pool(tmp, pcap, n_idle, buffers):
    name = "pool: %d idle one-byte connections on 443, classify_buffers %s, split CONNECT on 8080" % (
        n_idle, buffers if buffers else "default")
    tables = {"classify_buffers": buffers} if buffers else {}
    rc, ev, err = run(pcap, base_config(tables) if tables else "output:\n  event_log: \"\"\n", tmp)
    if rc != 0:
        return fail(name, "exit %d: %s" % (rc, err.strip()))
    real = [f for f in flows(ev) if f.get("dest_port") == 8080]
    if len(real) != 1 or real[0].get("Protocol") != "MQTT" or real[0].get("evidence") != "payload" \
            or real[0].get("client_ids") != ["sensor-1"]:
        return fail(name, "the split CONNECT on 8080 was not detected: %s" % real)
    counters = stats(ev).get("counters", {})
    pool = buffers if buffers else 16384
    want = max(0, n_idle + 1 - pool)
    if counters.get("classify_buffers_reclaimed") != want or counters.get("classify_pool_exhausted") != 0:
        return fail(name, "classify_buffers_reclaimed %s (want %d), classify_pool_exhausted %s (want 0)" % (
            counters.get("classify_buffers_reclaimed"), want, counters.get("classify_pool_exhausted")))
    ok(name)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        # the table holds 16: the real flow plus 14 (N-2), 15 (N-1, full) and 16 (N)
        for n in (14, 15, 16, 3000):
            test_synack(tmp, n, 16)
        pcap = idle_then_split_connect(tmp, 5000)
        for buffers in (None, 4096, 16):
            test_pool(tmp, pcap, 5000, buffers)
        # a pool of 16: 14 (N-2), 15 (N-1) and 16 (N) idle holders before the real one
        for n in (14, 15, 16):
            test_pool(tmp, idle_then_split_connect(tmp, n), n, 16)
    print("flowtable: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
