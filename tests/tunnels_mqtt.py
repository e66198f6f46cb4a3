#!/usr/bin/python3
"""tunnels_mqtt.py - the two ends of the kernel tunnel test's MQTT connections.

  serve HOST PORT COUNT     accept COUNT connections: read a CONNECT, answer
                            CONNACK, wait for the client to close (30 s bound)
  connect HOST PORT CLIENT_ID [PASSWORD_BYTES]
                            send an MQTT 3.1.1 CONNECT (with a password of
                            that many bytes, to make datagrams that must be
                            fragmented), read the CONNACK, close
"""
import socket
import struct
import sys


def connect_packet(client_id, pw_len):
    cid = client_id.encode()
    flags = 0x02
    payload = struct.pack(">H", len(cid)) + cid
    if pw_len:
        flags |= 0xC0  # user name and password
        payload += struct.pack(">H", 1) + b"u" + struct.pack(">H", pw_len) + b"p" * pw_len
    var = b"\x00\x04MQTT\x04" + bytes([flags]) + b"\x00\x3c" + payload
    n, rl = len(var), b""
    while True:
        b = n % 128
        n //= 128
        rl += bytes([b | (0x80 if n else 0)])
        if not n:
            break
    return b"\x10" + rl + var


def serve(host, port, count):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(8)
    s.settimeout(30)
    for _ in range(count):
        c, _ = s.accept()
        c.settimeout(10)
        try:
            c.recv(65536)
            c.sendall(b"\x20\x02\x00\x00")
            while c.recv(65536):
                pass
        except OSError:
            pass
        c.close()


def connect(host, port, client_id, pw_len):
    c = socket.create_connection((host, port), timeout=10)
    c.sendall(connect_packet(client_id, pw_len))
    c.recv(16)
    c.close()


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        connect(sys.argv[2], int(sys.argv[3]), sys.argv[4],
                int(sys.argv[5]) if len(sys.argv) > 5 else 0)
