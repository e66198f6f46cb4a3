#!/usr/bin/python3
"""split-pcap.py - cut a classic pcap in two.

  split-pcap.py IN N OUT1 OUT2
      the first N records to OUT1, the rest to OUT2;
  split-pcap.py --by-connection IN OUT1 OUT2
      whole TCP connections, alternately: the first connection (in order of
      its first packet) to OUT1, the second to OUT2, the third to OUT1...,
      so two connections of one client to one broker land in different
      files, as two sensors on two links would see them.  Packets that are
      not IPv4/IPv6 TCP over Ethernet (or VLAN) go to OUT1.
"""
import struct
import sys


def records(path):
    with open(path, "rb") as f:
        header = f.read(24)
        endian = "<" if header[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
        linktype = struct.unpack(endian + "I", header[20:24])[0]
        out = []
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                break
            caplen = struct.unpack(endian + "IIII", rec)[2]
            out.append(rec + f.read(caplen))
    return header, linktype, out


def conn_key(rec, linktype):
    """The TCP connection of a record (both directions alike), or None."""
    p = rec[16:]
    if linktype == 1:  # Ethernet, maybe VLAN-tagged
        off, etype = 14, struct.unpack(">H", p[12:14])[0] if len(p) >= 14 else 0
        while etype in (0x8100, 0x88a8) and len(p) >= off + 4:
            etype = struct.unpack(">H", p[off + 2:off + 4])[0]
            off += 4
    elif linktype in (101, 12):  # raw IP
        off, etype = 0, 0x0800 if p and p[0] >> 4 == 4 else 0x86dd
    elif linktype == 113:  # Linux cooked
        off, etype = 16, struct.unpack(">H", p[14:16])[0] if len(p) >= 16 else 0
    else:
        return None
    if etype == 0x0800 and len(p) >= off + 20 and p[off + 9] == 6:
        ihl = (p[off] & 0x0f) * 4
        src, dst, t = p[off + 12:off + 16], p[off + 16:off + 20], off + ihl
    elif etype == 0x86dd and len(p) >= off + 40 and p[off + 6] == 6:
        src, dst, t = p[off + 8:off + 24], p[off + 24:off + 40], off + 40
    else:
        return None
    if len(p) < t + 4:
        return None
    sport, dport = struct.unpack(">HH", p[t:t + 4])
    a, b = (src, sport), (dst, dport)
    return (a, b) if a < b else (b, a)


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--by-connection":
        src, out1, out2 = sys.argv[2:5]
        header, linktype, recs = records(src)
        outs = [open(out1, "wb"), open(out2, "wb")]
        side = {}
        for o in outs:
            o.write(header)
        for rec in recs:
            k = conn_key(rec, linktype)
            if k is None:
                outs[0].write(rec)
                continue
            if k not in side:
                side[k] = len(side) % 2
            outs[side[k]].write(rec)
        for o in outs:
            o.close()
        return
    src, n, out1, out2 = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    header, _, recs = records(src)
    with open(out1, "wb") as a, open(out2, "wb") as b:
        a.write(header)
        b.write(header)
        for i, rec in enumerate(recs):
            (a if i < n else b).write(rec)


if __name__ == "__main__":
    main()
