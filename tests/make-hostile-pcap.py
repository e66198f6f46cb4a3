#!/usr/bin/python3
"""make-hostile-pcap.py OUT.pcap - a capture whose wire strings attack the analyst's terminal.

Two STOMP connections to an external broker log in as a user whose name holds
a STOMP-escaped newline, ESC [2J (clear screen), OSC 52 (clipboard write)
ended by BEL, U+009B (C1 CSI) and U+2028 (line separator); two MQTT
connections to an external broker send a client id and a user name with
bytes that are not UTF-8 and terminal controls.  Each connection has a full
handshake, the server's answer and a FIN exchange, so both groups alert.
A third group (two STOMP logins, "=1+2" and "@SUM(A1)") looks like
spreadsheet formulas, for the CSV table.
Timestamps are fixed: the file is the same on every run.
"""
import sys

from scapy.all import IP, TCP, Raw, wrpcap  # pylint: disable=no-name-in-module

T0 = 1795827723.0  # 2026-11-28T01:02:03Z

STOMP_LOGIN = (b"ev\\nil\x1b[2J\x1b]52;c;aGk=\x07\xc2\x9b" + "\u2028".encode() + b"x")
STOMP_CONNECT = (b"CONNECT\naccept-version:1.2\nhost:/\nlogin:" + STOMP_LOGIN +
                 b"\npasscode:p\n\n\x00")
STOMP_CONNECTED = b"CONNECTED\nversion:1.2\n\n\x00"
MQTT_CLIENT_ID = b"id\xff\xfe\x1b[31m\xc2\x85"
MQTT_USER = b"u\xc0\xaf\x07\x7f"


def mqtt_connect(client_id, user):
    var = b"\x00\x04MQTT\x04\x82\x00\x3c"  # 3.1.1, user name flag, clean session, keepalive 60
    payload = len(client_id).to_bytes(2, "big") + client_id + len(user).to_bytes(2, "big") + user
    body = var + payload
    return b"\x10" + bytes([len(body)]) + body


MQTT_CONNACK = b"\x20\x02\x00\x00"


def connection(t, client, sport, server, dport, request, answer):
    """A whole TCP connection as a list of packets with times from t."""
    c = IP(src=client, dst=server)
    s = IP(src=server, dst=client)
    cseq, sseq = 1000, 5000
    pkts = [
        c / TCP(sport=sport, dport=dport, flags="S", seq=cseq),
        s / TCP(sport=dport, dport=sport, flags="SA", seq=sseq, ack=cseq + 1),
        c / TCP(sport=sport, dport=dport, flags="A", seq=cseq + 1, ack=sseq + 1),
        c / TCP(sport=sport, dport=dport, flags="PA", seq=cseq + 1, ack=sseq + 1) / Raw(request),
        s / TCP(sport=dport, dport=sport, flags="PA", seq=sseq + 1, ack=cseq + 1 + len(request))
        / Raw(answer),
    ]
    cend, send = cseq + 1 + len(request), sseq + 1 + len(answer)
    pkts += [
        c / TCP(sport=sport, dport=dport, flags="FA", seq=cend, ack=send),
        s / TCP(sport=dport, dport=sport, flags="FA", seq=send, ack=cend + 1),
        c / TCP(sport=sport, dport=dport, flags="A", seq=cend + 1, ack=send + 1),
    ]
    for i, p in enumerate(pkts):
        p.time = t + i * 0.01
    return pkts


def main():
    pkts = []
    t = T0
    for sport in (40001, 40002):
        pkts += connection(t, "10.0.0.5", sport, "203.0.113.9", 61613, STOMP_CONNECT,
                           STOMP_CONNECTED)
        t += 1
    for sport in (41001, 41002):
        pkts += connection(t, "10.0.0.6", sport, "203.0.113.10", 1883,
                           mqtt_connect(MQTT_CLIENT_ID, MQTT_USER), MQTT_CONNACK)
        t += 1
    for sport, login in ((42001, b"=1+2"), (42002, b"@SUM(A1)")):
        frame = STOMP_CONNECT.replace(b"login:" + STOMP_LOGIN, b"login:" + login)
        pkts += connection(t, "10.0.0.7", sport, "203.0.113.11", 61613, frame, STOMP_CONNECTED)
        t += 1
    wrpcap(sys.argv[1], pkts)


if __name__ == "__main__":
    main()
