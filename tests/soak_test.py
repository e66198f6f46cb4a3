#!/usr/bin/python3
"""soak_test.py - resource bounds of the live sensor under endless churn.

For SOAK_SECONDS (default 300) the sensor captures on lo with tables far
smaller than the traffic (tests/data/faults-soak.yaml: 64 flows, 16 groups,
8 classify buffers, 5 s group window) while three bounded loops run:

  - MQTT connections (mosquitto_pub) from 100 loopback source addresses,
    so groups are created and pushed out all the time;
  - connects to closed pub/sub ports from 50 more addresses: SYN + RST;
  - bursts of 100 connections to a listener that never accepts, held for a
    second: established and half-open flows beyond the flow table.

Every 10 s it samples the sensor's RSS (/proc/PID/status VmRSS) and asks for
a stats event (SIGUSR1).  Passes when evictions keep growing while memory
stays flat: the last sample within 10 % or 2 MiB of the one at 60 s (or at
half-time for short runs).  The whole run is bounded by SOAK_SECONDS + 30 s.
Prints the samples and "soak: N passed, M failed".
"""
import argparse
import concurrent.futures
import errno
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time

from faults_test import Harness, Timeout, mqtt_pub, wait_for, whole_lines

SAMPLE_SECONDS = 10
MIB = 1024 * 1024


def rss_bytes(pid):
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


class LogTail:
    """Reads the event log incrementally: counts event types, keeps the
    newest stats event, and notes any line that does not parse."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.counts = {}
        self.stats = None
        self.bad = 0

    def poll(self):
        if not os.path.exists(self.path):
            return
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        end = data.rfind(b"\n") + 1  # a line still being written waits for the next poll
        self.offset += end
        for line in data[:end].splitlines():
            try:
                e = json.loads(line)
            except ValueError:
                self.bad += 1
                continue
            kind = e.get("event_type")
            self.counts[kind] = self.counts.get(kind, 0) + 1
            if kind == "stats":
                self.stats = e


def mqtt_churn(stop_at, counter):
    """MQTT connections in pairs (a pair makes its group alert) from
    127.0.0.100..163 until stop_at, four at a time: 64 sources for 16
    groups, so groups are pushed out all the time."""
    sources = [f"127.0.0.{i}" for i in range(100, 164)]

    def worker(k):
        i = k
        while time.time() < stop_at:
            for _ in range(2):
                counter["mqtt"] += mqtt_pub(sources[i % len(sources)], "soak/beacon", str(i))
            i += 4

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
        list(ex.map(worker, range(4)))


def closed_ports():
    """Pub/sub ports nothing listens on here: a connect gets an RST."""
    out = []
    for port in (61613, 5672, 5222, 8883):
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == errno.ECONNREFUSED:
                out.append(port)
    return out


def rst_churn(stop_at, counter, ports):
    """Connects refused with an RST, from 127.0.0.200..249, about 100/s."""
    i = 0
    while time.time() < stop_at and ports:
        with socket.socket() as s:
            s.settimeout(0.5)
            s.bind((f"127.0.0.{200 + i % 50}", 0))
            s.connect_ex(("127.0.0.1", ports[i % len(ports)]))
        counter["rst"] += 1
        i += 1
        time.sleep(0.01)


def held_churn(stop_at, counter):
    """Every 2 s, 100 connections to a listener that never accepts, held 1 s:
    the backlog fills, so some are established and the rest stay half-open."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        addr = listener.getsockname()
        while time.time() < stop_at:
            held = []
            for i in range(100):
                s = socket.socket()
                s.setblocking(False)
                s.bind((f"127.0.0.{250 + i % 5}", 0))
                s.connect_ex(addr)
                held.append(s)
            counter["held"] += len(held)
            time.sleep(1)
            for s in held:
                s.close()
            time.sleep(1)


def fresh_stats(s, tail, seconds=3):
    """Asks for a stats event (SIGUSR1) and reads it from the log's tail."""
    tail.poll()
    before = tail.counts.get("stats", 0)
    s.send(signal.SIGUSR1)
    wait_for(lambda: tail.poll() or tail.counts.get("stats", 0) > before, seconds, 0.05)
    return tail.stats if tail.counts.get("stats", 0) > before else None


def sample(s, tail, t0):
    stats = fresh_stats(s, tail)
    return {
        "t": round(time.time() - t0),
        "rss": rss_bytes(s.proc.pid),
        "packets": stats["packets"] if stats else None,
        "dropped": stats["dropped"] if stats else None,
        "flows_active": stats["flows_active"] if stats else None,
        "flows_evicted": stats["flows_evicted"] if stats else None,
        "groups_active": stats["groups_active"] if stats else None,
        "summaries": tail.counts.get("summary", 0),
        "alerts": tail.counts.get("alert", 0),
        "pool_exhausted": (stats or {}).get("counters", {}).get("classify_pool_exhausted", 0),
    }


def show(x):
    rss = f"{x['rss'] / MIB:.2f} MiB" if x["rss"] else "?"
    print(f"sample t={x['t']:>4}s rss={rss} packets={x['packets']} dropped={x['dropped']} "
          f"flows_active={x['flows_active']} flows_evicted={x['flows_evicted']} groups_active={x['groups_active']} "
          f"summaries={x['summaries']} alerts={x['alerts']} classify_pool_exhausted={x['pool_exhausted']}",
          flush=True)


def reference(samples, seconds):
    """The sample memory is compared with: at 60 s, or at half-time for short runs."""
    at = 60 if seconds >= 120 else max(SAMPLE_SECONDS, seconds // 2)
    for x in samples:
        if x["t"] >= at:
            return x
    return samples[0]


def judge(t, samples, seconds, max_groups=16):
    ref, last = reference(samples, seconds), samples[-1]
    t.check(all(x["rss"] for x in samples), "soak: RSS sampled every 10 s")
    if ref["rss"] and last["rss"]:
        grew = last["rss"] - ref["rss"]
        t.check(grew <= max(ref["rss"] // 10, 2 * MIB),
                f"soak: RSS flat (t={last['t']}s vs t={ref['t']}s: within 10 % or 2 MiB)",
                f"{ref['rss'] / MIB:.2f} -> {last['rss'] / MIB:.2f} MiB")
    ev = [x["flows_evicted"] or 0 for x in samples]
    t.check(ev[-1] > (ref["flows_evicted"] or 0) > 0, "soak: flows_evicted keeps growing",
            f"{ref['flows_evicted']} -> {ev[-1]}")
    t.check(last["summaries"] > ref["summaries"] > 0, "soak: groups keep ending (summary events grow)",
            f"{ref['summaries']} -> {last['summaries']}")
    t.check(all((x["groups_active"] or 0) <= max_groups for x in samples),
            f"soak: groups_active never above tables.max_groups ({max_groups})",
            str([x["groups_active"] for x in samples]))
    t.check(last["packets"] and last["packets"] > (ref["packets"] or 0), "soak: still capturing at the end")


def on_alarm(signum, frame_):
    raise Timeout("soak test exceeded SOAK_SECONDS + 30 s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sensor", default="./pubsub-sensor")
    args = ap.parse_args()
    seconds = int(os.environ.get("SOAK_SECONDS", "300"))
    start = time.time()
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds + 30)
    work = tempfile.mkdtemp(prefix="pubsub-soak-")
    os.chmod(work, 0o755)
    t = Harness(os.path.abspath(args.sensor), work)
    samples = []
    counter = {"mqtt": 0, "rst": 0, "held": 0}
    try:
        if not t.check(t.start_mosquitto(), "mosquitto started on 127.0.0.1"):
            return 1
        s = t.sensor("soak")
        if not t.check(s.start(t.config("faults-soak.yaml"), flows=False), "soak: sensor capturing on lo",
                       s.stderr()[-300:]):
            return 1
        tail = LogTail(s.log)
        t0 = time.time()
        stop_at = t0 + seconds
        ports = closed_ports()
        loops = [threading.Thread(target=f, args=a, daemon=True) for f, a in
                 ((mqtt_churn, (stop_at, counter)), (rst_churn, (stop_at, counter, ports)),
                  (held_churn, (stop_at, counter)))]
        for th in loops:
            th.start()
        for k in range(1, seconds // SAMPLE_SECONDS + 1):
            time.sleep(max(0.0, t0 + k * SAMPLE_SECONDS - time.time()))
            if not s.alive():
                break
            samples.append(sample(s, tail, t0))
            show(samples[-1])
        for th in loops:
            th.join(timeout=max(1.0, stop_at + 5 - time.time()))
        t.check(s.alive(), "soak: sensor alive after the soak")
        if samples:
            judge(t, samples, seconds)
        t.check(s.stop() == 0, "soak: SIGTERM exits 0")
        ok, detail = whole_lines(s.log)
        t.check(ok, "soak: every line in the log is whole", detail)
        print(f"note: {counter['mqtt']} MQTT connections, {counter['rst']} refused connects on ports {ports}, "
              f"{counter['held']} held connections")
    except Timeout as e:
        t.check(False, "soak: bounded run", str(e))
    finally:
        signal.alarm(0)
        t.cleanup()
        took = time.time() - start
        t.check(took <= seconds + 30, f"soak: finished within SOAK_SECONDS + 30 s ({took:.0f} s)")
        if t.failed:
            for sn in t.sensors:
                print(f"--- {os.path.basename(sn.err_path)}:\n{sn.stderr()[-1000:]}")
        shutil.rmtree(work, ignore_errors=True)
        print(f"soak: {t.passed} passed, {t.failed} failed")
    return 0 if t.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
