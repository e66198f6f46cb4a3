#!/usr/bin/python3
"""split-pcap.py IN N OUT1 OUT2 - first N records of a classic pcap to OUT1, the rest to OUT2."""
import struct
import sys


def main():
    src, n, out1, out2 = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    with open(src, "rb") as f:
        header = f.read(24)
        endian = "<" if header[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
        outs = [open(out1, "wb"), open(out2, "wb")]
        for o in outs:
            o.write(header)
        i = 0
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                break
            caplen = struct.unpack(endian + "IIII", rec)[2]
            outs[0 if i < n else 1].write(rec + f.read(caplen))
            i += 1
        for o in outs:
            o.close()


if __name__ == "__main__":
    main()
