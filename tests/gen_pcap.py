#!/usr/bin/python3
"""gen_pcap.py - small, exact TCP conversations written as a classic pcap.

Used by the tests to build captures the shared set does not have (for
example connections months apart).  Every packet is Ethernet + IPv4 + TCP
with correct IP and TCP checksums.  Library only: conversation() returns
the frames of one full connection (handshake, one client message, one
server reply, FIN both ways); write_pcap() writes (time, frame) pairs.
"""
import struct


def _csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def _ip4(text):
    return bytes(int(x) for x in text.split("."))


def frame(src, dst, sport, dport, seq, ack, flags, payload=b""):
    s, d = _ip4(src), _ip4(dst)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    pseudo = s + d + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", _csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, s, d)
    ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
    eth = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00"
    return eth + ip + tcp


SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01


def conversation(t0, client, server, cport, sport, request, reply, gap=0.01):
    """(time, frame) pairs of one complete connection starting at t0 (seconds)."""
    c, s = 1000, 5000
    out = []

    def add(i, *args):
        out.append((t0 + i * gap, frame(*args)))

    add(0, client, server, cport, sport, c, 0, SYN)
    add(1, server, client, sport, cport, s, c + 1, SYN | ACK)
    add(2, client, server, cport, sport, c + 1, s + 1, ACK)
    add(3, client, server, cport, sport, c + 1, s + 1, PSH | ACK, request)
    c2 = c + 1 + len(request)
    add(4, server, client, sport, cport, s + 1, c2, PSH | ACK, reply)
    s2 = s + 1 + len(reply)
    add(5, client, server, cport, sport, c2, s2, FIN | ACK)
    add(6, server, client, sport, cport, s2, c2 + 1, FIN | ACK)
    add(7, client, server, cport, sport, c2 + 1, s2 + 1, ACK)
    return out


def write_pcap(path, packets):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for t, data in sorted(packets, key=lambda p: p[0]):
            sec = int(t)
            usec = int(round((t - sec) * 1e6))
            f.write(struct.pack("<IIII", sec, usec, len(data), len(data)))
            f.write(data)
