#!/usr/bin/python3
"""faults_test.py - the live sensor under faults: what breaks around it.

Runs the sensor on lo (and on a veth pair in a network namespace this test
creates) with real mosquitto clients, and checks that it degrades the way
the documentation promises:

  1. the event log's filesystem fills up: capture goes on, lost lines are
     counted and reported once per interval, writing resumes with space;
  2. 100 rotations (rename + SIGHUP) under traffic: no line lost or torn;
  3. SIGKILL during heavy output: every line in the log is whole;
  4. a configuration replaced by one with a bad value type, then SIGHUP:
     refused with file:line:column, the old configuration stays in force;
  5. the capture interface disappears: a clean exit, or (retry_interface)
     a quiet wait and a resume, never a busy loop;
  6. privilege drop to nobody:nogroup, and a refusal for a missing user.

Only loopback addresses and the test's own namespace carry traffic.  Every
loop is bounded in count and time, and the whole run is under an alarm.
Also usable as a frame injector inside the namespace (--inject).  Prints
"faults: N passed, M failed".
"""
import argparse
import concurrent.futures
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
DATA = os.path.join(HERE, "data")
CLK_TCK = os.sysconf("SC_CLK_TCK")
TOTAL_SECONDS = 300  # the alarm: the whole run never takes longer


class Timeout(Exception):
    pass


def wait_for(pred, seconds, step=0.02):
    deadline = time.time() + seconds
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def run(argv, timeout=15, stdin=None):
    try:
        return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout,
                              check=False)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(argv, 124, "", "timeout")


def pub_argv(src, topic, message):
    return ["mosquitto_pub", "-A", src, "-h", "127.0.0.1", "-p", "1883", "-t", topic, "-m", message]


def mqtt_pub(src, topic="c2/beacon", message="x"):
    """One MQTT connection from src; True if the client says it worked."""
    return run(pub_argv(src, topic, message)).returncode == 0


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        return f.read().splitlines()


def events(paths):
    """Every event in the files, in order; a line that does not parse is skipped."""
    out = []
    for p in paths:
        for line in read_lines(p):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def whole_lines(path):
    """(True, n) if every line of the file parses as JSON and the file ends
    with a newline; else (False, what is wrong)."""
    with open(path, "rb") as f:
        data = f.read()
    if data and not data.endswith(b"\n"):
        return False, f"{os.path.basename(path)}: last line cut: {data[-80:]!r}"
    n = 0
    for line in data.splitlines():
        try:
            json.loads(line)
        except ValueError:
            return False, f"{os.path.basename(path)}: torn line {line[:120]!r}"
        n += 1
    return True, n


class Sensor:
    """One sensor process, its stderr in a file, its log at `log`."""

    def __init__(self, binary, work, name):
        self.binary = binary
        self.err_path = os.path.join(work, name + ".err")
        self.log = os.path.join(work, name + ".json")
        self.proc = None
        self.err = None

    def start(self, config, log=None, iface="lo", flows=True, netns=None, wait=True):
        if log:
            self.log = log
        argv = [self.binary, "-i", iface, "-c", config, "-o", self.log] + (["--flows"] if flows else [])
        if netns:
            argv = ["ip", "netns", "exec", netns] + argv
        self.err = open(self.err_path, "w", encoding="utf-8")
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=self.err)
        if not wait:
            return True
        wait_for(lambda: "capturing on" in self.stderr() or self.proc.poll() is not None, 10)
        return "capturing on" in self.stderr() and self.proc.poll() is None

    def stderr(self):
        if not os.path.exists(self.err_path):
            return ""
        with open(self.err_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def send(self, sig):
        if self.alive():
            self.proc.send_signal(sig)

    def wait(self, seconds):
        try:
            return self.proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig=signal.SIGTERM, seconds=5):
        """Sends sig and waits; kills it if it does not go.  Returns the exit code."""
        if self.proc is None:
            return None
        self.send(sig)
        rc = self.wait(seconds)
        if rc is None:
            self.proc.kill()
            self.proc.wait()
        if self.err:
            self.err.close()
            self.err = None
        return rc

    def cpu_seconds(self):
        """utime + stime of the process, in seconds (None once it is gone)."""
        try:
            with open(f"/proc/{self.proc.pid}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def status(self):
        out = {}
        try:
            with open(f"/proc/{self.proc.pid}/status", encoding="ascii") as f:
                for line in f:
                    key, _, value = line.partition(":")
                    out[key] = value.split()
        except OSError:
            pass
        return out

    def stats(self, paths=None, seconds=3):
        """Asks for a stats event (SIGUSR1) and returns it, or None."""
        paths = paths or [self.log]
        before = len([e for e in events(paths) if e["event_type"] == "stats"])
        self.send(signal.SIGUSR1)
        got = wait_for(lambda: [e for e in events(paths) if e["event_type"] == "stats"][before:], seconds)
        return got[-1] if got else None

    def find(self, kind, src, proto="MQTT", paths=None):
        return [e for e in events(paths or [self.log]) if e["event_type"] == kind
                and e.get("src_ip") == src and e.get("Protocol") == proto]


class Harness:
    """Counts checks and owns what a run creates: sensors, the broker, mounts,
    namespaces; cleanup() removes them all."""

    def __init__(self, binary, work):
        self.binary = binary
        self.work = work
        self.passed = 0
        self.failed = 0
        self.notes = []
        self.sensors = []
        self.broker_pids = []
        self.mounts = []
        self.netns = []

    def check(self, cond, name, detail=""):
        if cond:
            self.passed += 1
            print(f"ok   {name}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {name}" + (f": {detail}" if detail else ""), flush=True)
        return bool(cond)

    def sensor(self, name):
        s = Sensor(self.binary, self.work, name)
        self.sensors.append(s)
        return s

    def config(self, name):
        """A private copy of tests/data/NAME (the tests may rewrite it)."""
        path = os.path.join(self.work, name)
        shutil.copy(os.path.join(DATA, name), path)
        os.chmod(path, 0o644)
        return path

    def start_mosquitto(self):
        out = run(["sh", "-c", f". {HERE}/brokers.sh; BROKER_DIR={self.work}/brokers; "
                   "mkdir -p $BROKER_DIR; start_mosquitto; rc=$?; echo $BROKER_PIDS; exit $rc"], timeout=30)
        self.broker_pids = [int(p) for p in out.stdout.split() if p.isdigit()]
        return out.returncode == 0

    def cleanup(self):
        for s in self.sensors:
            if s.alive():
                s.proc.kill()
                s.proc.wait()
        for pid in self.broker_pids:
            try:
                os.kill(pid, signal.SIGTERM)
                wait_for(lambda p=pid: not os.path.exists(f"/proc/{p}"), 5, 0.1)
            except ProcessLookupError:
                pass
        for m in self.mounts:
            if os.path.ismount(m):
                run(["umount", "-l", m])
        for ns in self.netns:
            run(["ip", "netns", "del", ns])


def publish_many(sources, count, workers=4, deadline=None, progress=None, gate=None):
    """count MQTT connections spread over sources, `workers` at a time.
    Returns {source: connections that succeeded}; progress[0], if given,
    counts the connections finished so far; gate(i), if given, must be true
    (or the deadline pass) before connection i starts."""
    made = {s: 0 for s in sources}
    lock = threading.Lock()

    def one(i):
        if gate is not None:
            wait_for(lambda: gate(i), max(0.0, (deadline or time.time() + 10) - time.time()), 0.002)
        if deadline and time.time() > deadline:
            return None
        src = sources[i % len(sources)]
        ok = mqtt_pub(src, "c2/beacon", f"n{i}")
        if progress is not None:
            with lock:
                progress[0] += 1
        return src if ok else None

    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as ex:
        for src in ex.map(one, range(count)):
            if src:
                made[src] += 1
    return made


# ---- 1. the event log's filesystem fills up ---------------------------------

def fill(path):
    """Fills the filesystem under path; returns the filler file."""
    filler = os.path.join(path, "filler")
    run(["dd", "if=/dev/zero", f"of={filler}", "bs=4096", "count=1024"], timeout=10)
    return filler


def test_full_disk(t):
    mnt = os.path.join(t.work, "tiny")
    os.mkdir(mnt)
    # Room for the flow lines of the connections made while full: closed
    # connections linger flow_timeout_closed before their line is written,
    # so some land after the space comes back.
    if not t.check(run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt]).returncode == 0,
                   "full disk: 1 MiB tmpfs mounted"):
        return
    t.mounts.append(mnt)
    s = t.sensor("full")
    if not t.check(s.start(t.config("faults.yaml"), log=os.path.join(mnt, "events.json")),
                   "full disk: sensor started with its log on the tmpfs", s.stderr()[-300:]):
        return
    mqtt_pub("127.0.0.31")
    mqtt_pub("127.0.0.31")
    t.check(wait_for(lambda: s.find("alert", "127.0.0.31"), 3), "full disk: alert written before the fill")
    before = s.stats()
    filler = fill(mnt)
    t.check(shutil.disk_usage(mnt).free < 4096, "full disk: filesystem full",
            f"{shutil.disk_usage(mnt).free} bytes free")

    # Traffic for about 4 s while nothing can be written.
    t0 = time.time()
    made_full = 0
    for _ in range(200):
        if time.time() - t0 > 4:
            break
        made_full += mqtt_pub("127.0.0.32")
    reported = wait_for(lambda: "lines lost to write errors" in s.stderr(), 3)
    full_secs = time.time() - t0
    t.check(reported, "full disk: write errors reported on stderr", s.stderr()[-300:])
    reports = s.stderr().count("lines lost to write errors")
    t.check(1 <= reports <= int(full_secs) + 2, "full disk: reported at most once per interval (1 s)",
            f"{reports} reports in {full_secs:.1f} s")
    t.check(s.alive(), "full disk: sensor still running")

    os.unlink(filler)
    mqtt_pub("127.0.0.33")
    mqtt_pub("127.0.0.33")
    t.check(wait_for(lambda: s.find("alert", "127.0.0.33"), 3), "full disk: writing resumes with space")
    mqtt_pub("127.0.0.32")
    counts = lambda: [e["ConnectionCount"] for e in s.find("alert", "127.0.0.32") + s.find("update", "127.0.0.32")]
    got = wait_for(lambda: [c for c in counts() if c >= made_full + 1], 3)
    t.check(got, "full disk: connections made while full were still captured",
            f"made {made_full}+1, group counts {counts()}")
    after = s.stats()
    ok = before and after and after["packets"] > before["packets"]
    t.check(ok, "full disk: packet count kept increasing",
            f"{before and before['packets']} -> {after and after['packets']}")
    lost = (after or {}).get("counters", {}).get("event_log_write_errors", 0)
    t.check(lost > 0, "full disk: stats count event_log_write_errors", str(after))
    t.notes.append(f"full disk: {made_full} connections in {full_secs:.1f} s while full, {lost} lines lost, "
                   f"{reports} stderr reports")
    ok, detail = whole_lines(s.log)
    t.check(ok, "full disk: every line in the log is whole", detail)
    t.check(s.stop() == 0, "full disk: SIGTERM exits 0")
    run(["umount", mnt])
    t.check(not os.path.ismount(mnt), "full disk: tmpfs unmounted")


# ---- 2. 100 rotations under traffic ------------------------------------------

def rotate_many(s, n, stop_at, progress, every, rotated=None):
    """n times: rename the log to log.N and SIGHUP, one rotation per `every`
    connections finished, so the rotations are spread over the traffic.
    rotated[0], if given, counts the rotations done (the traffic waits for
    it, so a loaded machine slows both sides rather than letting the
    traffic finish first).  Returns (rotations done, those done while
    connections were running)."""
    done = under_traffic = 0
    for i in range(1, n + 1):
        wait_for(lambda: progress[0] >= i * every - every // 2, max(0.0, stop_at - time.time()), 0.002)
        if time.time() > stop_at or not wait_for(lambda: os.path.exists(s.log), 2, 0.002):
            break
        os.rename(s.log, f"{s.log}.{i}")
        s.send(signal.SIGHUP)
        done += 1
        under_traffic += progress[0] < n * every
        if rotated is not None:
            rotated[0] = done
    return done, under_traffic


def test_rotations(t, rotations=100, connections=200):
    src = "127.0.0.21"
    s = t.sensor("rotate")
    if not t.check(s.start(t.config("faults.yaml")), "rotation: sensor started", s.stderr()[-300:]):
        return
    progress, rotated = [0], [0]
    stop_at = time.time() + 60
    every = connections // rotations
    # connection i waits until the rotations due before it are done
    gate = lambda i: rotated[0] >= i // every - 1
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as ex:
        pubs = ex.submit(publish_many, [src], connections, 4, stop_at, progress, gate)
        done, under = rotate_many(s, rotations, stop_at, progress, every, rotated)
        made = pubs.result()[src]
    t.check(done == rotations and under >= rotations * 9 // 10,
            f"rotation: {rotations} renames + SIGHUP under traffic", f"{done} done, {under} under traffic")
    paths = [f"{s.log}.{i}" for i in range(1, done + 1)] + [s.log]
    count = lambda: len([e for e in events(paths) if e["event_type"] == "flow" and e.get("src_ip") == src])
    wait_for(lambda: count() >= made, 5)
    rc = s.stop()
    got = count()
    t.check(made > 0 and got == made, "rotation: one flow line per connection across all files",
            f"{got} lines for {made} connections")
    bad = [d for ok, d in map(whole_lines, paths) if not ok]
    t.check(not bad, f"rotation: no torn line in any of {len(paths)} files", "; ".join(bad[:3]))
    used = len([p for p in paths if os.path.getsize(p) > 0])
    t.notes.append(f"rotation: {made} connections, {done} rotations ({under} while connections ran), "
                   f"lines in {used} of {len(paths)} files")
    t.check(rc == 0 and "cannot reopen" not in s.stderr(), "rotation: every reopen worked, exit 0",
            s.stderr()[-300:])


# ---- 3. SIGKILL during heavy output ------------------------------------------

def test_sigkill(t):
    s = t.sensor("kill")
    if not t.check(s.start(t.config("faults.yaml")), "SIGKILL: sensor started", s.stderr()[-300:]):
        return
    sources = [f"127.0.0.{i}" for i in range(40, 80)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as ex:
        pubs = ex.submit(publish_many, sources, 2000, 8, time.time() + 6)
        wait_for(lambda: len(read_lines(s.log)) >= 300, 5, 0.05)
        s.proc.send_signal(signal.SIGKILL)  # mid-way: the clients are still running
        s.wait(5)
        made = sum(pubs.result().values())
    ok, detail = whole_lines(s.log)
    lines = len(read_lines(s.log))
    t.check(s.proc.returncode == -signal.SIGKILL, "SIGKILL: the sensor was killed mid-way",
            f"rc {s.proc.returncode}")
    t.check(lines >= 100, "SIGKILL: heavy output before the kill", f"{lines} lines")
    t.check(ok, "SIGKILL: every line in the log is whole", detail)
    t.notes.append(f"SIGKILL: {lines} lines written, {made} connections in all")


# ---- 4. a broken configuration (bad value type) on SIGHUP ---------------------

def test_bad_reload(t):
    cfg = t.config("faults.yaml")
    s = t.sensor("reload")
    if not t.check(s.start(cfg), "bad reload: sensor started", s.stderr()[-300:]):
        return
    shutil.copy(os.path.join(DATA, "faults-bad-type.yaml"), cfg)
    s.send(signal.SIGHUP)
    msg = wait_for(lambda: [l for l in s.stderr().splitlines() if "reload refused" in l], 3)
    t.check(msg, "bad reload: refused and logged")
    where = re.escape(cfg) + r":10:20: tables\.update_interval"
    t.check(msg and re.search(where, msg[0]), "bad reload: message names file:line:column and the key",
            msg[0] if msg else "")
    t.check(s.alive(), "bad reload: still running")
    mqtt_pub("127.0.0.16")
    mqtt_pub("127.0.0.16")
    alert = wait_for(lambda: s.find("alert", "127.0.0.16"), 3)
    t.check(alert and alert[0]["Suspicion"] == "high" and alert[0]["sensor"] == "faults-test",
            "bad reload: old configuration in force (loopback external, 2 connections alert)")
    t.check(s.stop() == 0, "bad reload: SIGTERM exits 0")


# ---- 5. the capture interface disappears --------------------------------------

def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def frame(src, dst, sport, dport, seq, ack, flags, payload=b""):
    """An Ethernet + IPv4 + TCP frame with correct checksums."""
    s, d = socket.inet_aton(src), socket.inet_aton(dst)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    pseudo = s + d + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, s, d)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00" + ip + tcp


def mqtt_connection(src, dst, sport):
    """The frames of one whole MQTT 3.1.1 connection: handshake, CONNECT,
    CONNACK, FIN both ways."""
    connect = b"\x10\x12\x00\x04MQTT\x04\x02\x00\x3c\x00\x06faults"
    connack = b"\x20\x02\x00\x00"
    c, v, port = 1000, 5000, 1883
    syn, ack, psh, fin = 0x02, 0x10, 0x08, 0x01
    return [
        frame(src, dst, sport, port, c, 0, syn),
        frame(dst, src, port, sport, v, c + 1, syn | ack),
        frame(src, dst, sport, port, c + 1, v + 1, ack),
        frame(src, dst, sport, port, c + 1, v + 1, psh | ack, connect),
        frame(dst, src, port, sport, v + 1, c + 1 + len(connect), psh | ack, connack),
        frame(src, dst, sport, port, c + 1 + len(connect), v + 5, fin | ack),
        frame(dst, src, port, sport, v + 5, c + 2 + len(connect), fin | ack),
        frame(src, dst, sport, port, c + 2 + len(connect), v + 6, ack),
    ]


def inject(iface, src, n):
    """Sends n MQTT connections from src to an external address on iface."""
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.bind((iface, 0))
    for i in range(n):
        for f in mqtt_connection(src, "198.51.100.7", 40000 + i):
            sock.send(f)
        time.sleep(0.05)
    sock.close()


def veth(ns, up=True):
    """(Re)creates the pair psf0 <-> psf1 inside namespace ns."""
    ok = run(["ip", "-n", ns, "link", "add", "psf0", "type", "veth", "peer", "name", "psf1"]).returncode == 0
    for end in ("psf0", "psf1") if up else ():
        ok = run(["ip", "-n", ns, "link", "set", end, "up"]).returncode == 0 and ok
    return ok


def inject_in(ns, src, n):
    return run(["ip", "netns", "exec", ns, sys.executable, os.path.abspath(__file__),
                "--inject", "psf1", src, str(n)]).returncode == 0


def test_interface_gone(t, ns):
    s = t.sensor("gone")
    if not t.check(veth(ns) and s.start(t.config("faults.yaml"), iface="psf0", netns=ns),
                   "interface gone: sensor on a veth in its own namespace", s.stderr()[-300:]):
        return
    t.check(inject_in(ns, "10.1.0.5", 2), "interface gone: frames injected")
    t.check(wait_for(lambda: s.find("alert", "10.1.0.5"), 3), "interface gone: alert from the veth")
    cpu0 = s.cpu_seconds()
    t0 = time.time()
    run(["ip", "-n", ns, "link", "del", "psf0"])
    rc = s.wait(5)
    took = time.time() - t0
    t.check(rc == 1 and took < 3, "interface gone: non-zero exit within a few seconds",
            f"rc {rc}, {took:.2f} s")
    lines = [l for l in s.stderr().splitlines() if "psf0" in l and "stopping" in l]
    t.check(lines and "disappeared" in lines[0], "interface gone: one clear line naming the interface",
            s.stderr()[-300:])
    t.check(s.find("summary", "10.1.0.5"), "interface gone: summaries written on the way out")
    evs = events([s.log])
    t.check(evs and evs[-1]["event_type"] == "stats", "interface gone: final stats event last")
    if lines:
        t.notes.append(f"interface gone: '{lines[0]}' after {took * 1000:.0f} ms, cpu {cpu0:.2f} s in all")


def test_interface_retry(t, ns):
    s = t.sensor("retry")
    if not t.check(veth(ns) and s.start(t.config("faults-retry.yaml"), iface="psf0", netns=ns),
                   "interface retry: sensor on a veth", s.stderr()[-300:]):
        return
    run(["ip", "-n", ns, "link", "del", "psf0"])
    t.check(wait_for(lambda: "retrying every 1 s" in s.stderr(), 3), "interface retry: loss reported",
            s.stderr()[-300:])
    cpu0 = s.cpu_seconds()
    time.sleep(3)
    cpu1 = s.cpu_seconds()
    spent = (cpu1 - cpu0) if cpu0 is not None and cpu1 is not None else None
    t.check(s.alive() and spent is not None and spent < 0.3,
            "interface retry: keeps running without spinning (CPU over 3 s < 0.3 s)", f"cpu {spent}")
    t0 = time.time()
    veth(ns)
    resumed = wait_for(lambda: "resumed" in s.stderr(), 5, 0.05)
    t.check(resumed, "interface retry: 'resumed' once the veth is back", s.stderr()[-300:])
    t.check(inject_in(ns, "10.1.0.6", 2) and wait_for(lambda: s.find("alert", "10.1.0.6"), 3),
            "interface retry: capturing again after the resume")
    t.notes.append(f"interface retry: cpu {spent:.2f} s over 3 s while waiting, resumed after "
                   f"{time.time() - t0:.1f} s" if spent is not None else "interface retry: no cpu figure")
    t.check(s.stop() == 0, "interface retry: SIGTERM exits 0")


# ---- 6. privilege drop ---------------------------------------------------------

CAP_SYS_PTRACE_MASK = "0000000000080000"  # bit 19


def privdrop_once(t, logdir, attribution):
    """Started as root, the sensor runs as nobody:nogroup with no capability,
    or with CAP_SYS_PTRACE alone when host attribution is on."""
    what = f"privilege drop (attribution {attribution})"
    cfg = t.config("faults-privdrop.yaml")
    with open(cfg, encoding="utf-8") as f:
        text = f.read().replace('attribution: "off"', f'attribution: "{attribution}"')
    with open(cfg, "w", encoding="utf-8") as f:
        f.write(text)
    s = t.sensor(f"privdrop-{attribution}")
    if not t.check(s.start(cfg, log=os.path.join(logdir, f"events-{attribution}.json")),
                   f"{what}: sensor started as root", s.stderr()[-300:]):
        return
    st = s.status()
    t.check(st.get("Uid") == ["65534"] * 4, f"{what}: Uid nobody (real, effective, saved, fs)",
            str(st.get("Uid")))
    t.check(st.get("Gid") == ["65534"] * 4, f"{what}: Gid nogroup", str(st.get("Gid")))
    t.check(st.get("Groups") == [], f"{what}: no supplementary groups", str(st.get("Groups")))
    caps = CAP_SYS_PTRACE_MASK if attribution == "on" else "0000000000000000"
    t.check(st.get("CapEff") == [caps], f"{what}: CapEff {caps}", str(st.get("CapEff")))
    t.check(st.get("CapPrm") == [caps], f"{what}: CapPrm {caps}", str(st.get("CapPrm")))
    src = "127.0.0.17" if attribution == "off" else "127.0.0.18"
    mqtt_pub(src)
    mqtt_pub(src)
    if attribution == "off":
        t.check(wait_for(lambda: s.find("alert", src), 3), f"{what}: still captures (alert)")
    else:
        t.check(wait_for(lambda: len(s.find("flow", src)) >= 2, 5), f"{what}: still captures (flows)")
    t.check(s.stop() == 0, f"{what}: SIGTERM exits 0")


def test_privdrop(t):
    logdir = os.path.join(t.work, "nobody")
    os.mkdir(logdir)
    os.chown(logdir, 65534, 65534)
    privdrop_once(t, logdir, "off")
    privdrop_once(t, logdir, "on")

    s2 = t.sensor("nouser")
    s2.start(t.config("faults-nouser.yaml"), wait=False)
    rc = s2.wait(5)
    s2.stop()
    lines = s2.stderr().splitlines()
    t.check(rc == 1, "missing user: exit 1", f"rc {rc}")
    t.check(len(lines) == 1 and "pubsub-sensor-no-such-user" in lines[0] and "does not exist" in lines[0],
            "missing user: one clear error line", repr(lines))


def on_alarm(signum, frame_):
    raise Timeout(f"faults test exceeded {TOTAL_SECONDS} s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sensor", default="./pubsub-sensor")
    ap.add_argument("--inject", nargs=3, metavar=("IFACE", "SRC", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inject:
        inject(args.inject[0], args.inject[1], int(args.inject[2]))
        return 0
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(TOTAL_SECONDS)
    work = tempfile.mkdtemp(prefix="pubsub-faults-")
    os.chmod(work, 0o755)
    t = Harness(os.path.abspath(args.sensor), work)
    ns = f"pubsub-faults-{os.getpid()}"
    try:
        if not t.check(t.start_mosquitto(), "mosquitto started on 127.0.0.1"):
            return 1
        test_full_disk(t)
        test_rotations(t)
        test_sigkill(t)
        test_bad_reload(t)
        if t.check(run(["ip", "netns", "add", ns]).returncode == 0, "network namespace created"):
            t.netns.append(ns)
            test_interface_gone(t, ns)
            test_interface_retry(t, ns)
        test_privdrop(t)
    except Timeout as e:
        t.check(False, "bounded run", str(e))
    finally:
        signal.alarm(0)
        t.cleanup()
        for n in t.notes:
            print("note:", n)
        if t.failed:
            for s in t.sensors:
                print(f"--- {os.path.basename(s.err_path)}:\n{s.stderr()[-1000:]}")
        shutil.rmtree(work, ignore_errors=True)
        print(f"faults: {t.passed} passed, {t.failed} failed")
    return 0 if t.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
