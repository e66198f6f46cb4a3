#!/usr/bin/python3
"""pcap_seeds.py - turns capture files into fuzz seeds (used by make-seeds.sh).

  pcap_seeds.py streams OUTDIR TLSDIR FILE...  one seed per TCP connection in
      the dissector targets' layout (fuzz_stream.h): [flags][client length,
      2 bytes BE][client bytes][server bytes], each side cut to --side bytes;
      connections whose client opens with a TLS record go to TLSDIR.
  pcap_seeds.py frames OUTDIR FILE...   the first frames of each file in
      fuzz_decode.c's layout: [selector, 2 bytes BE][frame].
  pcap_seeds.py cut OUTDIR FILE...      each capture cut to its first records,
      at most --bytes long, as a valid pcap file.

Reads classic pcap files only (pcapng is skipped).  Seeds are named by the
SHA-1 of their content, as libFuzzer names corpus files, so duplicates merge.
"""
import argparse
import hashlib
import os
import struct
import sys

# Link types as written in a file -> index in fuzz_decode.c's table.
DECODE_INDEX = {0: 0, 1: 1, 12: 2, 101: 2, 14: 3, 108: 4, 113: 6, 228: 7, 229: 8, 276: 9}


def read_pcap(path):
    """(endian, linktype, header bytes, [(record header, frame)]) or None."""
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 24:
        return None
    magic = data[:4]
    if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1'):
        end = '<'
    elif magic in (b'\xa1\xb2\xc3\xd4', b'\xa1\xb2\x3c\x4d'):
        end = '>'
    else:
        return None
    linktype = struct.unpack(end + 'I', data[20:24])[0] & 0xffff
    recs, off = [], 24
    while off + 16 <= len(data):
        caplen = struct.unpack(end + 'I', data[off + 8:off + 12])[0]
        if caplen > 262144 or off + 16 + caplen > len(data):
            break
        recs.append((data[off:off + 16], data[off + 16:off + 16 + caplen]))
        off += 16 + caplen
    return end, linktype, data[:24], recs


def ip_offset(linktype, frame):
    """Offset of the IP header in a frame, or None."""
    if linktype == 1:
        off, etype = 14, frame[12:14]
        while etype in (b'\x81\x00', b'\x88\xa8') and len(frame) >= off + 4:
            etype, off = frame[off + 2:off + 4], off + 4
        return off if etype in (b'\x08\x00', b'\x86\xdd') else None
    return {0: 4, 108: 4, 113: 16, 276: 20, 12: 0, 14: 0, 101: 0, 228: 0, 229: 0}.get(linktype)


def tcp_segment(linktype, frame):
    """((src, sport), (dst, dport), flags, seq, payload) or None."""
    off = ip_offset(linktype, frame)
    if off is None or len(frame) < off + 20:
        return None
    ver = frame[off] >> 4
    if ver == 4:
        ihl = (frame[off] & 15) * 4
        total = struct.unpack('>H', frame[off + 2:off + 4])[0]
        if frame[off + 9] != 6 or ihl < 20:
            return None
        src, dst, l4, end = frame[off + 12:off + 16], frame[off + 16:off + 20], off + ihl, off + total
    elif ver == 6 and len(frame) >= off + 40:
        if frame[off + 6] != 6:
            return None
        plen = struct.unpack('>H', frame[off + 4:off + 6])[0]
        src, dst, l4, end = frame[off + 8:off + 24], frame[off + 24:off + 40], off + 40, off + 40 + plen
    else:
        return None
    if len(frame) < l4 + 20:
        return None
    sport, dport, seq = struct.unpack('>HHI', frame[l4:l4 + 8])
    hdr = (frame[l4 + 12] >> 4) * 4
    return (src, sport), (dst, dport), frame[l4 + 13], seq, frame[l4 + hdr:min(end, len(frame))]


def connections(path):
    """{key: {'client': endpoint, 'data': {endpoint: {seq: payload}}}} in first-seen order."""
    cap = read_pcap(path)
    if not cap:
        return []
    _, linktype, _, recs = cap
    conns = {}
    for _, frame in recs:
        seg = tcp_segment(linktype, frame)
        if not seg:
            continue
        a, b, flags, seq, payload = seg
        key = tuple(sorted((a, b)))
        c = conns.setdefault(key, {'client': a, 'isn': {}, 'data': {a: {}, b: {}}})
        if flags & 0x12 == 0x02:  # SYN without ACK: this side opened the connection
            c['client'] = a
        if flags & 0x02:
            c['isn'][a] = seq + 1
        if payload:
            c['isn'].setdefault(a, seq)
            c['data'][a].setdefault(seq, payload)
    return list(conns.values())


def side_bytes(segments, isn, limit):
    out = bytearray()
    for seq in sorted(segments, key=lambda s: (s - isn) & 0xffffffff):
        rel = (seq - isn) & 0xffffffff
        if rel > len(out) or rel > limit:
            break
        out += segments[seq][len(out) - rel:]
        if len(out) >= limit:
            break
    return bytes(out[:limit])


def save(outdir, blob):
    os.makedirs(outdir, exist_ok=True)
    name = os.path.join(outdir, hashlib.sha1(blob).hexdigest())
    with open(name, 'wb') as f:
        f.write(blob)


def cmd_streams(args):
    for path in args.files:
        for c in connections(path)[:args.max_per_file]:
            cli = c['client']
            srv = next(e for e in c['data'] if e != cli) if len(c['data']) > 1 else cli
            client = side_bytes(c['data'][cli], c['isn'].get(cli, 0), args.side)
            server = side_bytes(c['data'][srv], c['isn'].get(srv, 0), args.side) if srv != cli else b''
            if not client and not server:
                continue
            blob = bytes([1]) + struct.pack('>H', len(client)) + client + server
            save(args.tlsdir if client[:1] == b'\x16' else args.outdir, blob)


def cmd_frames(args):
    for path in args.files:
        cap = read_pcap(path)
        if not cap or cap[1] not in DECODE_INDEX:
            continue
        for _, frame in cap[3][:args.max_per_file]:
            save(args.outdir, struct.pack('>H', DECODE_INDEX[cap[1]]) + frame[:args.frame_bytes])


def cmd_cut(args):
    for path in args.files:
        cap = read_pcap(path)
        if not cap:
            continue
        blob = bytearray(cap[2])
        for rec, frame in cap[3]:
            if len(blob) + len(rec) + len(frame) > args.bytes:
                break
            blob += rec + frame
        if len(blob) > 24:
            save(args.outdir, bytes(blob))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest='cmd', required=True)
    s = sub.add_parser('streams')
    s.add_argument('--side', type=int, default=1024)
    s.add_argument('--max-per-file', type=int, default=3)
    s.add_argument('outdir')
    s.add_argument('tlsdir')
    s.add_argument('files', nargs='+')
    f = sub.add_parser('frames')
    f.add_argument('--max-per-file', type=int, default=6)
    f.add_argument('--frame-bytes', type=int, default=512)
    f.add_argument('outdir')
    f.add_argument('files', nargs='+')
    c = sub.add_parser('cut')
    c.add_argument('--bytes', type=int, default=4096)
    c.add_argument('outdir')
    c.add_argument('files', nargs='+')
    args = ap.parse_args()
    {'streams': cmd_streams, 'frames': cmd_frames, 'cut': cmd_cut}[args.cmd](args)
    return 0


if __name__ == '__main__':
    sys.exit(main())
