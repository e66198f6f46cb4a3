#!/usr/bin/python3
"""pcap-flows.py FILE SERVER_IP SERVER_PORT - per-connection IP-layer byte and
packet counts of the TCP connections to SERVER_IP:SERVER_PORT, read straight
from a classic pcap file, independently of the sensor.

Tests compare the sensor's flow events with these figures.  Byte counts are
what the contract (tests/spec/README.md) says BytesSent and BytesReceived
are: IP-layer bytes, taken from the IP length fields (IPv4 total length,
IPv6 40 + payload length), so they do not depend on how much of each packet
was captured.  A connection is the client's address and port; packets from
the client to the server count as sent, the others as received.  A
connection is closed by the second FIN (one from each side) or the first
RST, and every packet of the same address pair up to 10 s
(tables.flow_timeout_closed) after its last one still counts (the last ACK,
a retransmitted FIN); a SYN after the close starts a new connection.  Handles
Ethernet (with VLAN tags), Linux cooked (SLL, SLL2), BSD loopback and raw IP
link types.  Prints one JSON object per line, in order of first packet:
{"src_ip", "src_port", "dest_ip", "dest_port", "BytesSent", "BytesReceived",
"PacketsSent", "PacketsReceived"}.
"""
import ipaddress
import json
import struct
import sys


def records(data):
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        raise ValueError("not a classic pcap file")
    link = struct.unpack(end + "I", data[20:24])[0] & 0x0FFFFFFF
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    off = 24
    while off + 16 <= len(data):
        sec, frac, caplen = struct.unpack(end + "III", data[off:off + 12])
        frame = data[off + 16:off + 16 + caplen]
        off += 16 + caplen
        if len(frame) < caplen:
            break
        yield link, frame, sec * 1000000 + (frac // 1000 if nano else frac)


def network_layer(link, frame):
    """(ethertype, offset of the IP header) or None."""
    if link == 1:  # Ethernet
        off, etype = 14, struct.unpack("!H", frame[12:14])[0] if len(frame) >= 14 else 0
        while etype in (0x8100, 0x88A8) and len(frame) >= off + 4:
            etype = struct.unpack("!H", frame[off + 2:off + 4])[0]
            off += 4
        return etype, off
    if link == 113:  # Linux cooked v1
        return (struct.unpack("!H", frame[14:16])[0], 16) if len(frame) >= 16 else None
    if link == 276:  # Linux cooked v2
        return (struct.unpack("!H", frame[0:2])[0], 20) if len(frame) >= 20 else None
    if link in (0, 108):  # BSD loopback: address family in host order
        if len(frame) < 4:
            return None
        fam = struct.unpack("<I", frame[:4])[0]
        if fam > 0xFFFF:
            fam = struct.unpack(">I", frame[:4])[0]
        return (0x0800 if fam == 2 else 0x86DD, 4)
    if link in (12, 101, 228, 229):  # raw IP
        version = frame[0] >> 4 if frame else 0
        return (0x0800 if version == 4 else 0x86DD, 0)
    return None


def tcp_packet(link, frame):
    """(src, sport, dst, dport, ip_length, tcp_flags) of a TCP packet, or None."""
    nl = network_layer(link, frame)
    if nl is None:
        return None
    etype, off = nl
    ip = frame[off:]
    if etype == 0x0800 and len(ip) >= 20 and ip[0] >> 4 == 4:
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        if ip[9] != 6 or len(ip) < ihl + 14:
            return None
        src, dst = ipaddress.ip_address(ip[12:16]), ipaddress.ip_address(ip[16:20])
        sport, dport = struct.unpack("!HH", ip[ihl:ihl + 4])
        return str(src), sport, str(dst), dport, total, ip[ihl + 13]
    if etype == 0x86DD and len(ip) >= 54 and ip[0] >> 4 == 6:
        if ip[6] != 6:
            return None  # extension headers are not needed for the test captures
        src, dst = ipaddress.ip_address(ip[8:24]), ipaddress.ip_address(ip[24:40])
        sport, dport = struct.unpack("!HH", ip[40:44])
        return str(src), sport, str(dst), dport, 40 + struct.unpack("!H", ip[4:6])[0], ip[53]
    return None


FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10
LINGER_US = 10 * 1000000  # tables.flow_timeout_closed


def flows(path, server_ip, server_port):
    with open(path, "rb") as f:
        data = f.read()
    done, live = [], {}
    server_ip = str(ipaddress.ip_address(server_ip))
    for link, frame, ts in records(data):
        p = tcp_packet(link, frame)
        if p is None:
            continue
        src, sport, dst, dport, length, flags = p
        if (dst, dport) == (server_ip, server_port):
            key, way = (src, sport), "Sent"
        elif (src, sport) == (server_ip, server_port):
            key, way = (dst, dport), "Received"
        else:
            continue
        c = live.get(key)
        if c is not None and c["closed"]:
            if flags & SYN and not flags & ACK or ts - c["last"] >= LINGER_US:
                c = None  # a new connection, or long after the close
        if c is None:
            c = live[key] = {"src_ip": key[0], "src_port": key[1], "dest_ip": server_ip,
                             "dest_port": server_port, "BytesSent": 0, "BytesReceived": 0,
                             "PacketsSent": 0, "PacketsReceived": 0,
                             "fin": set(), "closed": False}
            done.append(c)
        c["Bytes" + way] += length
        c["Packets" + way] += 1
        c["last"] = ts
        if flags & FIN:
            c["fin"].add(way)
        if flags & RST or len(c["fin"]) == 2:
            c["closed"] = True
    for c in done:
        del c["fin"], c["closed"], c["last"]
    return done


def main():
    if len(sys.argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    for fl in flows(sys.argv[1], sys.argv[2], int(sys.argv[3])):
        print(json.dumps(fl, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
