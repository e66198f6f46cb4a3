#!/usr/bin/python3
"""pcap-snap.py IN OUT SNAPLEN - a copy of a classic pcap file cut to SNAPLEN.

Does what `editcap -F pcap -s SNAPLEN` does, for hosts without editcap: each
record keeps its original length but only its first SNAPLEN bytes, and the
file header's snap length is lowered to match.  pcapng is not handled.
"""
import struct
import sys


def main():
    if len(sys.argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    src, dst, snap = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(src, 'rb') as f:
        data = f.read()
    magic = data[:4]
    if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1'):
        end = '<'
    elif magic in (b'\xa1\xb2\xc3\xd4', b'\xa1\xb2\x3c\x4d'):
        end = '>'
    else:
        sys.stderr.write('pcap-snap.py: %s is not a classic pcap file\n' % src)
        return 1
    out = bytearray(data[:16])
    file_snap = struct.unpack(end + 'I', data[16:20])[0]
    out += struct.pack(end + 'I', min(file_snap, snap)) + data[20:24]
    off = 24
    while off + 16 <= len(data):
        sec, frac, caplen, wirelen = struct.unpack(end + 'IIII', data[off:off + 16])
        frame = data[off + 16:off + 16 + caplen]
        off += 16 + caplen
        if len(frame) < caplen:
            break  # a cut-off last record is dropped, as editcap does
        keep = frame[:snap]
        out += struct.pack(end + 'IIII', sec, frac, len(keep), wirelen) + keep
    with open(dst, 'wb') as f:
        f.write(out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
