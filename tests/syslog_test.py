#!/usr/bin/python3
"""syslog_test.py - the syslog output against Debian's rsyslogd.

Starts rsyslogd on loopback with a configuration, pid file and spool
directory of its own (imtcp and imudp on 127.0.0.1 high ports, imptcp and
imuxsock on sockets in a temporary directory; the system's /dev/log is not
touched) plus the shipped snippets in packaging/rsyslog/ (checked with
rsyslogd -N1 first), then:

1. intact: replays every capture in pcaps/ with output.syslog.target set to
   each transport (tcp://, udp://, unix-stream:, unix:) and parses every
   message rsyslog received as RFC 5424 (PRI from facility and event type,
   version 1, TIMESTAMP = the event's, APP-NAME pubsub-sensor, MSGID = the
   event type, structured data naming the sensor, MSG = the event log's line
   byte for byte); the shipped file snippet must write the event log again.
2. outage: a paced replay (the capture fed through a pipe over ~12 s) to
   tcp:// with a small queue; rsyslog is stopped for 5 s mid-run and
   restarted: the events that did not arrive must be exactly as many as the
   final stats event's counters.syslog_dropped, and more than none.
3. daemon (root only): the live daemon on lo with a syslog target; a
   connection carrying an MQTT CONNECT; after SIGTERM every event of its
   log arrived.

Prints "syslog: N passed, M failed[, K skipped]".
"""
import argparse
import glob
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
RSYSLOGD = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
SEVERITY = {"alert": 4, "update": 5, "summary": 5, "flow": 6, "stats": 6}
FACILITY = 21  # local5
SENSOR = 'sn "q"]x'
SD_SENSOR = SENSOR.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


class Checks:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0

    def expect(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL {what}", flush=True)
        return ok


def free_port(kind):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Rsyslog:
    def __init__(self, tmp, snippets):
        self.tmp = tmp
        self.tcp, self.udp = free_port(socket.SOCK_STREAM), free_port(socket.SOCK_DGRAM)
        self.stream_sock = os.path.join(tmp, "stream.sock")
        self.dgram_sock = os.path.join(tmp, "dgram.sock")
        self.conf = os.path.join(tmp, "rsyslog.conf")
        self.pid = os.path.join(tmp, "rsyslogd.pid")
        os.makedirs(os.path.join(tmp, "spool"), exist_ok=True)
        raw = 'template(name="raw" type="string" string="%rawmsg%\\n")\n'
        with open(self.conf, "w") as f:
            f.write(f'global(workDirectory="{tmp}/spool" maxMessageSize="128k")\n')
            f.write('module(load="imuxsock" SysSock.Use="off")\n')
            f.write('module(load="imtcp")\nmodule(load="imudp")\nmodule(load="imptcp")\n')
            f.write(raw)
            # the shipped file snippet (top level: the default ruleset), writing into tmp;
            # the tcp ruleset calls it after keeping the raw message
            file_snippet = open(snippets["file"]).read().replace("/var/log/pubsub-sensor/", tmp + "/")
            f.write(file_snippet + "\n")
            for name in ("tcp", "udp", "stream", "dgram"):
                call = " call RSYSLOG_DefaultRuleset" if name == "tcp" else ""
                f.write(f'ruleset(name="{name}") {{ action(type="omfile" file="{tmp}/{name}.raw" template="raw"){call} }}\n')
            f.write(f'input(type="imtcp" address="127.0.0.1" port="{self.tcp}" ruleset="tcp")\n')
            # UDP has no flow control: a receive buffer large enough for a replay's burst
            f.write(f'input(type="imudp" address="127.0.0.1" port="{self.udp}" ruleset="udp" rcvbufSize="8m")\n')
            f.write(f'input(type="imptcp" path="{self.stream_sock}" unlink="on" ruleset="stream")\n')
            f.write(f'input(type="imuxsock" socket="{self.dgram_sock}" useSpecialParser="off" '
                    f'parseHostname="on" rateLimit.interval="0" ruleset="dgram")\n')
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([RSYSLOGD, "-n", "-f", self.conf, "-i", self.pid],
                                     stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.tmp, "rsyslogd.err"), "a"))
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.tcp), timeout=0.5).close()
                if os.path.exists(self.dgram_sock) and os.path.exists(self.stream_sock):
                    return True
            except OSError:
                pass
            time.sleep(0.1)
        return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def lines(self, name):
        p = os.path.join(self.tmp, name)
        if not os.path.exists(p):
            return []
        with open(p, "rb") as f:
            return f.read().decode("utf-8", "replace").splitlines()


RFC5424 = re.compile(r'^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (\[(?:[^\]\\]|\\.)*\]) (.*)$', re.S)


def parse_5424(msg):
    m = RFC5424.match(msg)
    if not m:
        return None
    pri, ts, host, app, procid, msgid, sd, body = m.groups()
    return {"pri": int(pri), "ts": ts, "host": host, "app": app, "procid": procid,
            "msgid": msgid, "sd": sd, "msg": body}


def check_messages(c, what, received, log_lines):
    """Every received message is an intact RFC 5424 message of one event line."""
    bad = []
    got = []
    for raw in received:
        p = parse_5424(raw)
        if not p:
            bad.append(f"not RFC 5424: {raw[:80]!r}")
            continue
        try:
            ev = json.loads(p["msg"])
        except ValueError:
            bad.append(f"MSG is not JSON: {p['msg'][:80]!r}")
            continue
        et = ev.get("event_type")
        want_pri = FACILITY * 8 + SEVERITY.get(et, 6)
        if p["pri"] != want_pri or p["app"] != "pubsub-sensor" or p["msgid"] != et or \
                p["ts"] != ev.get("timestamp") or not p["procid"].isdigit() or \
                p["sd"] != f'[pubsub@32473 sensor="{SD_SENSOR}"]':
            bad.append(f"header {raw[:120]!r}")
        got.append(p["msg"])
    c.expect(not bad, f"{what}: every message parses and its header matches its event: {bad[:3]}")
    c.expect(sorted(got) == sorted(log_lines),
             f"{what}: messages equal the event log ({len(got)} received, {len(log_lines)} logged; "
             f"missing {len(set(log_lines) - set(got))}, extra {len(set(got) - set(log_lines))})")


def wait_lines(rs, name, n, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline and len(rs.lines(name)) < n:
        time.sleep(0.1)
    return rs.lines(name)


def write_config(tmp, name, target, queue=10000):
    p = os.path.join(tmp, name)
    with open(p, "w") as f:
        f.write(f"sensor_name: {json.dumps(SENSOR)}\noutput:\n  flows: true\n  syslog:\n"
                f"    target: {json.dumps(target)}\n    facility: local5\n    queue_events: {queue}\n")
    return p


def phase_intact(c, sensor, rs, tmp):
    pcaps = sorted(glob.glob(os.path.join(TOP, "pcaps", "*.pcap")))
    targets = {"tcp": f"tcp://127.0.0.1:{rs.tcp}", "udp": f"udp://127.0.0.1:{rs.udp}",
               "stream": f"unix-stream:{rs.stream_sock}", "dgram": f"unix:{rs.dgram_sock}"}
    for name, target in targets.items():
        cfg = write_config(tmp, f"{name}.yaml", target)
        log = os.path.join(tmp, f"{name}.events")
        args = [sensor, "-c", cfg, "-o", log, "--no-table"]
        for p in pcaps:
            args += ["-r", p]
        r = subprocess.run(args, capture_output=True, text=True, timeout=120)
        c.expect(r.returncode == 0, f"{name}: replay exits 0: {r.stderr.strip()[:200]}")
        lines = open(log, encoding="utf-8").read().splitlines()
        got = wait_lines(rs, f"{name}.raw", len(lines))
        check_messages(c, f"{name} ({len(pcaps)} captures)", got, lines)
        stats = [json.loads(x) for x in lines if '"event_type":"stats"' in x]
        c.expect(stats and stats[-1]["counters"].get("syslog_dropped") == 0, f"{name}: syslog_dropped 0")
        if name == "tcp":
            filed = wait_lines(rs, "syslog-events.json", len(lines))
            c.expect(filed == lines, f"the shipped file snippet writes the event log again ({len(filed)} of {len(lines)} lines)")


def pcap_records(path):
    with open(path, "rb") as f:
        data = f.read()
    hdr, off, recs = data[:24], 24, []
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    while off + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        recs.append(data[off:off + 16 + incl])
        off += 16 + incl
    return hdr, recs


def phase_outage(c, sensor, rs, tmp):
    cfg = write_config(tmp, "outage.yaml", f"tcp://127.0.0.1:{rs.tcp}", queue=4)
    log = os.path.join(tmp, "outage.events")
    open(os.path.join(tmp, "tcp.raw"), "w").close()  # start the received file afresh
    hdr, recs = pcap_records(os.path.join(TOP, "pcaps", "demo.pcap"))
    p = subprocess.Popen([sensor, "-c", cfg, "-o", log, "--no-table", "-r", "-"],
                         stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    duration = 12.0
    step = duration / len(recs)
    outage = {}

    def stopper():
        time.sleep(3.5)
        rs.stop()
        outage["stopped"] = time.time()
        time.sleep(5)
        outage["ok"] = rs.start()

    t = threading.Thread(target=stopper)
    t.start()
    p.stdin.write(hdr)
    for r in recs:
        p.stdin.write(r)
        p.stdin.flush()
        time.sleep(step)
    t.join()
    time.sleep(2.5)  # past the longest backoff, so the end drains onto a live connection
    p.stdin.close()
    err = p.stderr.read().decode(errors="replace")
    rc = p.wait(30)
    c.expect(rc == 0, f"outage: replay exits 0: {err[:200]}")
    c.expect(outage.get("ok"), "outage: rsyslogd restarted")
    c.expect("connected again" in err, f"outage: the sensor reconnected: {err.strip()[:300]}")
    lines = open(log, encoding="utf-8").read().splitlines()
    time.sleep(1)
    got = wait_lines(rs, "tcp.raw", len(lines), timeout=3)
    msgs = [parse_5424(x)["msg"] for x in got if parse_5424(x)]
    c.expect(len(set(msgs)) == len(msgs) == len(got), f"outage: every message intact, none twice ({len(got)})")
    c.expect(set(msgs) <= set(lines), "outage: every message is a logged event")
    dropped = json.loads([x for x in lines if '"event_type":"stats"' in x][-1])["counters"]["syslog_dropped"]
    lost = len(lines) - len(set(msgs) & set(lines))
    c.expect(dropped > 0, f"outage: the 5 s outage overflowed the queue of 4 (syslog_dropped {dropped})")
    c.expect(lost == dropped, f"outage: lost {lost} of {len(lines)} events = syslog_dropped {dropped}")
    print(f"outage: {len(lines)} events, {len(msgs)} arrived, {lost} lost, syslog_dropped {dropped}")


def phase_daemon(c, sensor, rs, tmp):
    if os.getuid() != 0:
        c.skipped += 1
        print("daemon part needs root (capture on lo): skipped")
        return
    cfg = write_config(tmp, "daemon.yaml", f"tcp://127.0.0.1:{rs.tcp}")
    with open(cfg, "a") as f:
        f.write("daemon:\n  allow_root: true\n")
    log = os.path.join(tmp, "daemon.events")
    open(os.path.join(tmp, "tcp.raw"), "w").close()
    port = free_port(socket.SOCK_STREAM)
    d = subprocess.Popen([sensor, "-i", "lo", "-c", cfg, "-o", log], stderr=subprocess.PIPE)
    time.sleep(1.5)
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(4)
    connect = bytes([0x10, 0x17, 0x00, 0x04]) + b"MQTT" + bytes([0x04, 0x02, 0x00, 0x3c, 0x00, 0x0b]) + b"syslog-test"
    for _ in range(2):
        cl = socket.create_connection(("127.0.0.1", port))
        sv, _ = srv.accept()
        cl.sendall(connect)
        sv.recv(100)
        sv.sendall(bytes([0x20, 0x02, 0x00, 0x00]))
        cl.recv(10)
        cl.close()
        sv.close()
        time.sleep(0.3)
    srv.close()
    time.sleep(1)
    d.send_signal(signal.SIGTERM)
    try:
        rc = d.wait(20)
    except subprocess.TimeoutExpired:
        d.kill()
        rc = -1
    c.expect(rc == 0, f"daemon exits 0 after SIGTERM: {d.stderr.read().decode(errors='replace')[:200]}")
    lines = open(log, encoding="utf-8").read().splitlines()
    c.expect(any('"event_type":"flow"' in x for x in lines), "daemon: flow events for the MQTT connections")
    got = wait_lines(rs, "tcp.raw", len(lines))
    check_messages(c, "daemon", got, lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sensor", default="./pubsub-sensor")
    a = ap.parse_args()
    sensor = os.path.abspath(a.sensor)
    c = Checks()
    if not os.path.exists(RSYSLOGD):
        print("rsyslogd not installed (Debian package rsyslog): skipped")
        print("syslog: 0 passed, 0 failed, 1 skipped")
        return 0
    tmp = tempfile.mkdtemp(prefix="sn-syslog-")
    rs = None
    try:
        snippets = {"input": os.path.join(TOP, "packaging", "rsyslog", "10-pubsub-sensor-input.conf"),
                    "file": os.path.join(TOP, "packaging", "rsyslog", "20-pubsub-sensor-file.conf"),
                    "forward": os.path.join(TOP, "packaging", "rsyslog", "30-pubsub-sensor-forward.conf")}
        # the shipped snippets pass rsyslogd's own configuration check
        check = os.path.join(tmp, "check.conf")
        for n in ("ca.pem", "sensor.pem", "sensor.key"):
            open(os.path.join(tmp, n), "w").close()
        with open(check, "w") as f:
            f.write(f'global(workDirectory="{tmp}")\nmodule(load="imuxsock" SysSock.Use="off")\n')
            for k in ("input", "file", "forward"):
                text = open(snippets[k]).read().replace("/etc/pubsub-sensor/tls/", tmp + "/")
                text = text.replace("/run/pubsub-sensor-syslog.sock", tmp + "/in.sock").replace("/var/log/pubsub-sensor/", tmp + "/")
                f.write(text + "\n")
        r = subprocess.run([RSYSLOGD, "-N1", "-f", check], capture_output=True, text=True, timeout=60)
        c.expect(r.returncode == 0, f"rsyslogd -N1 accepts packaging/rsyslog/*.conf: {r.stderr.strip()[-300:]}")

        rs = Rsyslog(tmp, snippets)
        if not c.expect(rs.start(), "rsyslogd starts on loopback"):
            print(open(os.path.join(tmp, "rsyslogd.err")).read()[-2000:])
        else:
            phase_intact(c, sensor, rs, tmp)
            phase_outage(c, sensor, rs, tmp)
            phase_daemon(c, sensor, rs, tmp)
    finally:
        if rs:
            rs.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    sk = f", {c.skipped} skipped" if c.skipped else ""
    print(f"syslog: {c.passed} passed, {c.failed} failed{sk}")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
