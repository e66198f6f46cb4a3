#!/usr/bin/python3
"""decode_test.py - adversarial captures below TCP: checksums, fragments, tunnels.

Generates one capture per case with scapy, each holding one MQTT connection
(handshake, CONNECT with a known client id, CONNACK, FIN) dressed in one
evasion, on the standard port 1883 and on 8080, replays it with flow events
and checks what the sensor reports against what the generator put on the
wire:

  - the connection is confirmed by payload with the generated client id;
  - BytesSent / BytesReceived equal the sums of the inner IP datagrams'
    lengths (after reassembly: the whole datagram's length, once);
  - details.tunnel lists the removed encapsulations, outermost first;
  - the named counters (tcp_checksum_bad, ip_reassembled, ...) rise.

Cases: a decoy segment with a bad TCP checksum and the CONNECT's sequence
number sent before the CONNECT (the real one must win), the same capture
with every checksum wrong (offload: must not be validated), IPv4 fragments
of 8 bytes that split the TCP header, fragments in reverse order,
overlapping fragments carrying a decoy (the first copy wins), IPv6
fragment headers, every tunnel type (802.1Q, MPLS, MPLS pseudowire with a
control word, GRE with key and sequence carrying IPv4/IPv6/Ethernet,
ERSPAN II and III, VXLAN, Geneve with options, IP-in-IP, IPv6-in-IPv4,
PPPoE), tunnels nested two deep, fragmented VXLAN, and two tunnels between
one endpoint pair carrying the same inner 5-tuple (two flows, not one).
Prints "decode: N passed, M failed".
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile

from scapy.all import (IP, IPv6, TCP, UDP, Ether, Dot1Q, Raw, IPv6ExtHdrFragment,
                       fragment, fragment6, wrpcap, conf)

conf.verb = 0
CHECK_TUNNEL = True

CLIENT4, SERVER4 = "10.1.0.1", "10.2.0.2"
CLIENT6, SERVER6 = "fd00::1", "fd00::2"
OUT4 = ("192.0.2.1", "192.0.2.2")         # tunnel endpoints (documentation range)
OUT6 = ("2001:db8::1", "2001:db8::2")
MAC_C, MAC_S = "02:00:00:00:00:01", "02:00:00:00:00:02"


def mqtt_connect(client_id):
    cid = client_id.encode()
    var = b"\x00\x04MQTT\x04\x02\x00\x3c" + struct.pack(">H", len(cid)) + cid
    return b"\x10" + bytes([len(var)]) + var


def conversation(v6, sport, dport, client_id):
    """The inner packets: list of (direction, IP packet); 0 = client to server."""
    ipc = (lambda: IPv6(src=CLIENT6, dst=SERVER6)) if v6 else (lambda: IP(src=CLIENT4, dst=SERVER4, id=0x4242))
    ips = (lambda: IPv6(src=SERVER6, dst=CLIENT6)) if v6 else (lambda: IP(src=SERVER4, dst=CLIENT4))
    c, s = 1000, 5000
    conn = mqtt_connect(client_id)
    connack = b"\x20\x02\x00\x00"
    pk = [
        (0, ipc() / TCP(sport=sport, dport=dport, flags="S", seq=c)),
        (1, ips() / TCP(sport=dport, dport=sport, flags="SA", seq=s, ack=c + 1)),
        (0, ipc() / TCP(sport=sport, dport=dport, flags="A", seq=c + 1, ack=s + 1)),
        (0, ipc() / TCP(sport=sport, dport=dport, flags="PA", seq=c + 1, ack=s + 1) / Raw(conn)),
        (1, ips() / TCP(sport=dport, dport=sport, flags="PA", seq=s + 1, ack=c + 1 + len(conn)) / Raw(connack)),
        (0, ipc() / TCP(sport=sport, dport=dport, flags="FA", seq=c + 1 + len(conn), ack=s + 5)),
        (1, ips() / TCP(sport=dport, dport=sport, flags="FA", seq=s + 5, ack=c + 2 + len(conn))),
    ]
    return [(d, p.__class__(bytes(p))) for d, p in pk]  # checksums filled in


def ip_len(p):
    return len(bytes(p))


def sums(pk):
    b = [0, 0]
    for d, p in pk:
        b[d] += ip_len(p)
    return b


# ---- encapsulations: each takes (direction, inner bytes, inner is v6) -> frame bytes

def eth(payload_type, payload, d):
    src, dst = (MAC_C, MAC_S) if d == 0 else (MAC_S, MAC_C)
    return bytes(Ether(src=src, dst=dst, type=payload_type)) + payload


def ethertype(v6):
    return 0x86DD if v6 else 0x0800


def outer_ip(d, proto, payload, v6=False):
    a, b = OUT6 if v6 else OUT4
    if d == 1:
        a, b = b, a
    if v6:
        return bytes(IPv6(src=a, dst=b, nh=proto) / Raw(payload))
    return bytes(IP(src=a, dst=b, proto=proto) / Raw(payload))


def outer_udp(d, dport, payload, v6=False, sport=None):
    a, b = OUT6 if v6 else OUT4
    if d == 1:
        a, b = b, a
    sp = sport if sport is not None else 50000 + d  # VXLAN entropy port differs by direction
    l3 = IPv6(src=a, dst=b) if v6 else IP(src=a, dst=b)
    return bytes(l3 / UDP(sport=sp, dport=dport) / Raw(payload))


def plain(d, inner, v6):
    return eth(ethertype(v6), inner, d)


def vlan(d, inner, v6):
    return bytes(Ether(src=MAC_C, dst=MAC_S) / Dot1Q(vlan=20, type=ethertype(v6))) + inner


def mpls_stack(labels, inner):
    out = b""
    for i, lab in enumerate(labels):
        bos = 1 if i == len(labels) - 1 else 0
        out += struct.pack(">I", lab << 12 | bos << 8 | 64)
    return out + inner


def mpls(d, inner, v6):
    # label stacks differ by direction, as they do on real paths
    labels = [1001, 17] if d == 0 else [2002, 18]
    return eth(0x8847, mpls_stack(labels, inner), d)


def mpls_pw(d, inner, v6):
    inner_eth = eth(ethertype(v6), inner, d)
    return eth(0x8847, mpls_stack([3003], b"\x00\x00\x00\x07" + inner_eth), d)


def gre_hdr(proto, key=None, seq=None, csum=False):
    flags = 0
    extra = b""
    if csum:
        flags |= 0x8000
        extra += b"\x00\x00\x00\x00"
    if key is not None:
        flags |= 0x2000
        extra += struct.pack(">I", key)
    if seq is not None:
        flags |= 0x1000
        extra += struct.pack(">I", seq)
    return struct.pack(">HH", flags, proto) + extra


def gre(d, inner, v6):
    return plain(d, outer_ip(d, 47, gre_hdr(ethertype(v6), key=77, seq=9) + inner), False)


def gre_v6outer(d, inner, v6):
    return eth(0x86DD, outer_ip(d, 47, gre_hdr(ethertype(v6), csum=True) + inner, v6=True), d)


def gre_teb(d, inner, v6):
    return plain(d, outer_ip(d, 47, gre_hdr(0x6558, key=5) + eth(ethertype(v6), inner, d)), False)


def erspan2(d, inner, v6):
    hdr = struct.pack(">HHI", 1 << 12 | 0, 2, 0)  # version 1 (type II), session 2
    return plain(d, outer_ip(d, 47, gre_hdr(0x88BE, seq=d + 1) + hdr + eth(ethertype(v6), inner, d)), False)


def erspan3(d, inner, v6):
    hdr = struct.pack(">HHII", 2 << 12 | 0, 9, 12345, 1)  # version 2 (type III), session 9, O bit
    hdr += b"\x00" * 8  # platform-specific subheader
    return plain(d, outer_ip(d, 47, gre_hdr(0x22EB, seq=d + 1) + hdr + eth(ethertype(v6), inner, d)), False)


def vxlan_hdr(vni):
    return struct.pack(">BBHI", 0x08, 0, 0, vni << 8)


def vxlan(d, inner, v6):
    return plain(d, outer_udp(d, 4789, vxlan_hdr(5001) + eth(ethertype(v6), inner, d)), False)


def geneve(d, inner, v6):
    opt = struct.pack(">HBB", 0x0102, 0x80, 1) + b"\xaa\xbb\xcc\xdd"  # one 8-byte option
    hdr = struct.pack(">BBH", len(opt) // 4, 0, 0x6558) + struct.pack(">I", 7 << 8)
    return plain(d, outer_udp(d, 6081, hdr + opt + eth(ethertype(v6), inner, d)), False)


def geneve_ip(d, inner, v6):
    hdr = struct.pack(">BBH", 0, 0, ethertype(v6)) + struct.pack(">I", 8 << 8)
    return plain(d, outer_udp(d, 6081, hdr + inner), False)


def ipip(d, inner, v6):
    return plain(d, outer_ip(d, 41 if v6 else 4, inner), False)


def pppoe(d, inner, v6):
    hdr = struct.pack(">BBHH", 0x11, 0, 0x1234, len(inner) + 2) + struct.pack(">H", 0x57 if v6 else 0x21)
    return eth(0x8864, hdr + inner, d)


def gre_in_vxlan(d, inner, v6):
    g = outer_ip(d, 47, gre_hdr(ethertype(v6), key=6) + inner)
    return plain(d, outer_udp(d, 4789, vxlan_hdr(5002) + eth(0x0800, g, d)), False)


def vxlan_in_mpls(d, inner, v6):
    v = outer_udp(d, 4789, vxlan_hdr(5003) + eth(ethertype(v6), inner, d))
    return eth(0x8847, mpls_stack([1001], v), d)


def geneve_in_ipip_vlan(d, inner, v6):
    hdr = struct.pack(">BBH", 0, 0, 0x6558) + struct.pack(">I", 7 << 8)
    u = outer_udp(d, 6081, hdr + eth(ethertype(v6), inner, d))
    return bytes(Ether(src=MAC_C, dst=MAC_S) / Dot1Q(vlan=20, type=0x0800)) + outer_ip(d, 4, u)


# name -> (wrapper, inner v6?, expected details.tunnel for direction 0)
TUNNELS = {
    "vlan": (vlan, False, ["vlan:20"]),
    "mpls": (mpls, False, ["mpls:1001", "mpls:17"]),
    "mpls-v6": (mpls, True, ["mpls:1001", "mpls:17"]),
    "mpls-pseudowire": (mpls_pw, False, ["mpls:3003"]),
    "gre-key-seq": (gre, False, ["gre"]),
    "gre-ipv6-inner": (gre, True, ["gre"]),
    "gre-over-ipv6": (gre_v6outer, False, ["gre"]),
    "gre-ethernet": (gre_teb, False, ["gre"]),
    "erspan-ii": (erspan2, False, ["gre", "erspan:2"]),
    "erspan-iii": (erspan3, False, ["gre", "erspan:9"]),
    "vxlan": (vxlan, False, ["vxlan:5001"]),
    "vxlan-v6": (vxlan, True, ["vxlan:5001"]),
    "geneve": (geneve, False, ["geneve:7"]),
    "geneve-ip": (geneve_ip, True, ["geneve:8"]),
    "ipip": (ipip, False, ["ipip"]),
    "ipv6-in-ipv4": (ipip, True, ["ipip"]),
    "pppoe": (pppoe, False, ["pppoe:4660"]),
    "nested-gre-in-vxlan": (gre_in_vxlan, False, ["vxlan:5002", "gre"]),
    "nested-vxlan-in-mpls": (vxlan_in_mpls, False, ["mpls:1001", "vxlan:5003"]),
    "nested-geneve-in-ipip-vlan": (geneve_in_ipip_vlan, False, ["vlan:20", "ipip", "geneve:7"]),
}


def frames_plain(pk, wrap=plain, v6=False):
    return [wrap(d, bytes(p), v6) for d, p in pk]


def write(path, frames):
    wrpcap(path, [Ether(f) for f in frames], linktype=1)


class Runner:
    def __init__(self, sensor, tmp, keep):
        self.sensor, self.tmp, self.keep = sensor, tmp, keep
        self.passed = self.failed = 0

    def replay(self, name, frames, extra_yaml=""):
        pcap = os.path.join(self.tmp, name + ".pcap")
        write(pcap, frames)
        cfg = os.path.join(self.tmp, name + ".yaml")
        with open(cfg, "w") as f:
            f.write("sensor_name: t\n" + extra_yaml)
        r = subprocess.run([self.sensor, "-c", cfg, "-r", pcap, "-o", "-", "--flows", "--no-table"],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            return None, r.stderr.strip()
        ev = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
        return ev, ""

    def check(self, name, ok, why):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL {name}: {why}")

    def expect_conn(self, name, frames, client_id, want_bytes, tunnel=None, counters=None,
                    flows=1, extra_yaml=""):
        ev, err = self.replay(name, frames, extra_yaml)
        if ev is None:
            self.check(name, False, "sensor failed: " + err)
            return
        flows_ev = [e for e in ev if e.get("event_type") == "flow"]
        stats = [e for e in ev if e.get("event_type") == "stats"][-1]
        if len(flows_ev) != flows:
            self.check(name, False, f"{len(flows_ev)} flow events, expected {flows}: {flows_ev}")
            return
        for f in flows_ev:
            problems = []
            if f.get("Protocol") != "MQTT" or f.get("evidence") != "payload":
                problems.append(f"Protocol {f.get('Protocol')} evidence {f.get('evidence')}")
            if f.get("client_ids") != [client_id]:
                problems.append(f"client_ids {f.get('client_ids')} != [{client_id}]")
            got = [f.get("BytesSent"), f.get("BytesReceived")]
            if got != want_bytes:
                problems.append(f"bytes {got} != {want_bytes}")
            if tunnel is not None and CHECK_TUNNEL and f.get("details", {}).get("tunnel") != tunnel:
                problems.append(f"details.tunnel {f.get('details', {}).get('tunnel')} != {tunnel}")
            self.check(name, not problems, "; ".join(problems))
        for k, v in (counters or {}).items():
            got = stats.get("counters", {}).get(k)
            self.check(name, got == v, f"counter {k} = {got}, expected {v}")


def with_decoy(pk):
    """A bad-checksum segment with the CONNECT's sequence number, just before it."""
    out = []
    for d, p in pk:
        if d == 0 and Raw in p and p[Raw].load[:1] == b"\x10":
            decoy = p.copy()
            decoy[Raw].load = b"GET /x HTTP/1.1\r\n" + b"A" * (len(p[Raw].load) - 17)
            decoy[TCP].chksum = (p[TCP].chksum + 1) & 0xFFFF or 1
            out.append((d, decoy.__class__(bytes(decoy))))
        out.append((d, p))
    return out


def bad_checksums(pk):
    out = []
    for d, p in pk:
        q = p.copy()
        q[TCP].chksum = (p[TCP].chksum ^ 0x5A5A) or 1
        out.append((d, q.__class__(bytes(q))))
    return out


def frag4(pk, size, reverse=False, overlap_decoy=False):
    """Fragments every client data/SYN packet into `size`-byte pieces."""
    frames = []
    for d, p in pk:
        if d == 0 and (Raw in p or p[TCP].flags.S):
            fr = fragment(p, fragsize=size)
            raw = [bytes(f) for f in fr]
            if overlap_decoy:
                # a later copy of the bytes at offset 8.. carrying garbage: must lose
                f0 = IP(raw[0])
                fake = IP(src=f0.src, dst=f0.dst, id=f0.id, proto=6, flags="MF", frag=1) / Raw(b"Z" * 8)
                raw.insert(2, bytes(fake))  # after the real bytes at 8.., before the end
            if reverse:
                raw.reverse()
            frames += [plain(d, r, False) for r in raw]
        else:
            frames.append(plain(d, bytes(p), False))
    return frames


def frag6(pk, size):
    frames = []
    for d, p in pk:
        if d == 0 and (Raw in p or p[TCP].flags.S):
            q = IPv6(bytes(p))
            q = q.__class__(bytes(IPv6(src=q.src, dst=q.dst) / IPv6ExtHdrFragment(id=0x77) / q.payload))
            for f in fragment6(q, 40 + 8 + size):
                frames.append(plain(d, bytes(f), True))
        else:
            frames.append(plain(d, bytes(p), True))
    return frames


def vxlan_fragmented(pk):
    """VXLAN whose outer UDP datagram is fragmented (tunnel MTU)."""
    frames = []
    for d, p in pk:
        outer = IP(outer_udp(d, 4789, vxlan_hdr(5001) + eth(0x0800, bytes(p), d)))
        outer.id = 0x1000 + len(frames)
        for f in fragment(outer.__class__(bytes(outer)), fragsize=64):
            frames.append(plain(d, bytes(f), False))
    return frames


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sensor", default="./pubsub-sensor")
    ap.add_argument("--keep", help="write the captures to this directory and keep them")
    a = ap.parse_args()
    tmp = a.keep or tempfile.mkdtemp(prefix="decode-test.")
    os.makedirs(tmp, exist_ok=True)
    R = Runner(os.path.abspath(a.sensor), tmp, a.keep)

    for port in (1883, 8080):
        cid = f"cid-{port}"
        pk4 = conversation(False, 40001, port, cid)
        pk6 = conversation(True, 40002, port, cid)
        b4, b6 = sums(pk4), sums(pk6)

        # --- item 5: checksums
        dec = with_decoy(pk4)
        # the decoy never reaches the connection: it is not in the byte counts either
        R.expect_conn(f"checksum-decoy-{port}", frames_plain(dec), cid, b4,
                      counters={"tcp_checksum_bad": 1})
        R.expect_conn(f"checksum-decoy-yes-{port}", frames_plain(dec), cid, b4,
                      counters={"tcp_checksum_bad": 1},
                      extra_yaml="capture:\n  checksum_validation: yes\n")
        # a bad-checksum bare ACK before the connection is established (a copy
        # of the handshake's ACK, just before it) is still checked and dropped
        ack = pk4[2][1].copy()
        ack[TCP].chksum = (pk4[2][1][TCP].chksum + 1) & 0xFFFF or 1
        ackdec = pk4[:2] + [(0, ack.__class__(bytes(ack)))] + pk4[2:]
        R.expect_conn(f"checksum-decoy-handshake-ack-{port}", frames_plain(ackdec), cid, b4,
                      counters={"tcp_checksum_bad": 1})
        # offload on the client host only: all its segments bad, the server's fine
        one = [(d, q) for (d, q) in bad_checksums(pk4) if d == 0]
        oneway = [one.pop(0) if d == 0 else (d, p) for d, p in pk4]
        R.expect_conn(f"checksum-offload-client-only-{port}", frames_plain(oneway), cid, b4,
                      counters={"tcp_checksum_bad": 0})
        off = bad_checksums(pk4)
        R.expect_conn(f"checksum-offload-{port}", frames_plain(off), cid, b4,
                      counters={"tcp_checksum_bad": 0})

        # --- item 6: fragments
        R.expect_conn(f"ipv4-frag8-{port}", frag4(pk4, 8), cid, b4,
                      counters={"ip_reassembled": 2})
        R.expect_conn(f"ipv4-frag8-reversed-{port}", frag4(pk4, 8, reverse=True), cid, b4,
                      counters={"ip_reassembled": 2})
        R.expect_conn(f"ipv4-frag-overlap-{port}", frag4(pk4, 8, overlap_decoy=True), cid, b4,
                      counters={"ip_reassembled": 2})
        R.expect_conn(f"ipv6-frag8-{port}", frag6(pk6, 8), cid, b6, counters={"ip_reassembled": 2})
        R.expect_conn(f"vxlan-outer-fragments-{port}", vxlan_fragmented(pk4), cid, b4,
                      tunnel=["vxlan:5001"])

        # --- item 7: tunnels
        for name, (wrap, v6, layers) in TUNNELS.items():
            pk = pk6 if v6 else pk4
            R.expect_conn(f"tunnel-{name}-{port}", frames_plain(pk, wrap, v6), cid,
                          b6 if v6 else b4, tunnel=layers)

        # Two VXLAN segments between one endpoint pair, the same inner 5-tuple,
        # packets interleaved: two connections, never one.
        two = []
        for d, p in pk4:
            two.append(vxlan(d, bytes(p), False))
            two.append(plain(d, outer_udp(d, 4789, vxlan_hdr(6001) + eth(0x0800, bytes(p), d)), False))
        if CHECK_TUNNEL:
            R.expect_conn(f"tunnel-two-vnis-{port}", two, cid, b4, flows=2)

    print(f"decode: {R.passed} passed, {R.failed} failed")
    return 1 if R.failed else 0


if __name__ == "__main__":
    sys.exit(main())
