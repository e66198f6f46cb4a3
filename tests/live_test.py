#!/usr/bin/python3
"""live_test.py - the T1071.005 tests against the live sensor on loopback.

Starts mosquitto and prosody on 127.0.0.1 (tests/brokers.sh), runs the
sensor on lo with tests/data/live.yaml, and reproduces the three tests of
the T1071.005 testing method with real clients, each from its own loopback
source address so each forms its own group.  Then log rotation with
SIGHUP, a broken configuration on SIGHUP, SIGUSR1 and SIGTERM.  Every wait
is bounded.  Prints "live: N passed, M failed".
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
XMPP_HEADER = ("<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' "
               "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>")


class Live:
    def __init__(self, sensor, work):
        self.sensor = sensor
        self.work = work
        self.log = os.path.join(work, "events.json")
        self.config = os.path.join(work, "live.yaml")
        shutil.copy(os.path.join(HERE, "data", "live.yaml"), self.config)
        self.passed = 0
        self.failed = 0
        self.notes = []
        self.proc = None
        self.broker_pids = []

    def check(self, cond, name, detail=""):
        if cond:
            self.passed += 1
            print(f"ok   {name}")
        else:
            self.failed += 1
            print(f"FAIL {name}" + (f": {detail}" if detail else ""))
        return cond

    def start_brokers(self):
        out = subprocess.run(
            ["sh", "-c", f". {HERE}/brokers.sh; BROKER_DIR={self.work}/brokers; mkdir -p $BROKER_DIR; "
             "rc=0; start_mosquitto || rc=1; start_prosody || rc=2; echo $BROKER_PIDS; "
             "[ $rc = 0 ] || tail -n 5 $BROKER_DIR/prosody-data/prosody.log $BROKER_DIR/prosody.out; exit $rc"],
            capture_output=True, text=True, timeout=60, check=False)
        self.broker_pids = [int(p) for p in out.stdout.split() if p.isdigit()]
        if out.returncode != 0:
            print(out.stdout + out.stderr)
        return out.returncode == 0

    def stop_brokers(self):
        for pid in self.broker_pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.time() + 5
        for pid in self.broker_pids:
            while time.time() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            else:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def start_sensor(self):
        self.err = open(os.path.join(self.work, "sensor.err"), "w")
        self.proc = subprocess.Popen([self.sensor, "-i", "lo", "-c", self.config, "-o", self.log,
                                      "--flows"], stdout=subprocess.DEVNULL, stderr=self.err)
        return self.wait_for(lambda: "capturing on" in self.stderr(), 10)

    def stderr(self):
        if not os.path.exists(os.path.join(self.work, "sensor.err")):
            return ""
        with open(os.path.join(self.work, "sensor.err"), encoding="utf-8", errors="replace") as f:
            return f.read()

    @staticmethod
    def wait_for(pred, seconds, step=0.02):
        deadline = time.time() + seconds
        while time.time() < deadline:
            v = pred()
            if v:
                return v
            time.sleep(step)
        return pred()

    def events(self, path=None):
        out = []
        for p in ([path] if path else [self.log + ".1", self.log]):
            if not os.path.exists(p):
                continue
            with open(p, encoding="utf-8") as f:
                for line in f:
                    out.append(json.loads(line))
        return out

    def find(self, kind, src, proto):
        return [e for e in self.events() if e["event_type"] == kind and e.get("src_ip") == src
                and e.get("Protocol") == proto]


def run_client(args, timeout=15, stdin=None):
    return subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=timeout, check=False)


def mqtt_pub(src, topic, message):
    return run_client(pub_argv(src, topic, message))


def nc_argv(src):
    return ["nc", "-q", "2", "-s", src, "127.0.0.1", "5222"]


def xmpp_nc(src):
    return run_client(nc_argv(src), stdin=XMPP_HEADER + "\n")


def alert_latency(t, src, proto, argv, stdin=None):
    """Starts the client that makes the crossing connection and waits for the alert.

    Returns (alert, seconds from the client's start to the alert line in the log).
    """
    t0 = time.time()
    client = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, text=True)
    if stdin is not None:
        client.stdin.write(stdin)
    client.stdin.close()
    alert = t.wait_for(lambda: t.find("alert", src, proto), 2.0)
    latency = time.time() - t0
    try:
        client.wait(timeout=15)
    except subprocess.TimeoutExpired:
        client.kill()
        client.wait()
    return (alert[0] if alert else None), latency


def pub_argv(src, topic, message):
    return ["mosquitto_pub", "-A", src, "-h", "127.0.0.1", "-p", "1883", "-t", topic, "-m", message]


def test_mqtt_publish(t):
    msg = f"{os.uname().nodename}:root:{' '.join(os.uname())}"
    mqtt_pub("127.0.0.11", "c2/beacon", msg)
    alert, latency = alert_latency(t, "127.0.0.11", "MQTT", pub_argv("127.0.0.11", "c2/beacon", msg))
    mqtt_pub("127.0.0.11", "c2/beacon", msg)
    if t.check(alert is not None and latency <= 2.0, "T1071.005 (a) MQTT publish: alert within 2 s",
               f"latency {latency:.3f} s"):
        t.notes.append(f"(a) MQTT publish alert latency {latency * 1000:.0f} ms")
        t.check(alert["Suspicion"] == "high", "(a) MQTT external -> high", alert["Suspicion"])
        topics = alert["details"].get("topics", [])
        t.check("c2/beacon" in topics, "(a) topic c2/beacon in the alert's details", str(topics))


def test_xmpp_header(t):
    xmpp_nc("127.0.0.12")
    alert, latency = alert_latency(t, "127.0.0.12", "XMPP", nc_argv("127.0.0.12"), XMPP_HEADER + "\n")
    if t.check(alert is not None and latency <= 2.0, "T1071.005 (b) XMPP stream header: alert within 2 s",
               f"latency {latency:.3f} s"):
        t.notes.append(f"(b) XMPP stream header alert latency {latency * 1000:.0f} ms")
        t.check(alert["Suspicion"] == "high", "(b) XMPP external -> high", alert["Suspicion"])
        t.check(alert["details"].get("xmpp_to") == "localhost", "(b) xmpp_to localhost")
        t.check(alert["evidence"] == "payload", "(b) evidence payload")


def test_mqtt_subscribe(t):
    sub = subprocess.Popen(["mosquitto_sub", "-A", "127.0.0.13", "-h", "127.0.0.1", "-p", "1883", "-t",
                            "c2/commands/#", "-v", "-C", "2", "-W", "10"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    time.sleep(1.0)
    alert, latency = alert_latency(t, "127.0.0.13", "MQTT",
                                   pub_argv("127.0.0.13", "c2/commands/exec", "whoami"))
    mqtt_pub("127.0.0.13", "c2/commands/download", "http://192.0.2.1/payload")
    try:
        out, _ = sub.communicate(timeout=11)
    except subprocess.TimeoutExpired:
        sub.kill()
        out, _ = sub.communicate()
    t.check("c2/commands/exec whoami" in out, "(c) subscriber received the commands")
    if t.check(alert is not None and latency <= 2.0, "T1071.005 (c) MQTT subscribe: alert within 2 s",
               f"latency {latency:.3f} s"):
        t.notes.append(f"(c) MQTT subscribe alert latency {latency * 1000:.0f} ms")
        topics = alert["details"].get("topics", [])
        t.check("c2/commands/#" in topics, "(c) topic filter c2/commands/# in the alert's details", str(topics))


def test_message_beacon(t, n=7):
    """One long connection of a real client (mosquitto_pub -l: one PUBLISH per
    line of its input) publishing every second: the group's live updates
    show the regular PUBLISH while it is still open, its flow event at the end."""
    src = "127.0.0.16"
    mqtt_pub(src, "telemetry/meter", "hello")  # a second connection: the group alerts
    client = subprocess.Popen(["mosquitto_pub", "-A", src, "-h", "127.0.0.1", "-p", "1883",
                               "-t", "telemetry/meter", "-l"], stdin=subprocess.PIPE,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)

    def open_beacon():
        return [e for e in t.find("update", src, "MQTT") + t.find("alert", src, "MQTT")
                if e.get("message_beacon", {}).get("kind") == "publish"]
    seen_open = None
    try:
        for i in range(n):
            client.stdin.write(f"reading {i}\n")
            client.stdin.flush()
            time.sleep(1.0)
        seen_open = t.wait_for(open_beacon, 3)
        client.stdin.close()
        client.wait(timeout=5)
    except (subprocess.TimeoutExpired, BrokenPipeError):
        client.kill()
        client.wait()
    flows = t.wait_for(lambda: [e for e in t.find("flow", src, "MQTT") if "message_beacon" in e], 5)
    mb = flows[0]["message_beacon"] if flows else {}
    t.check(mb.get("kind") == "publish" and 0.9 <= mb.get("interval_s", 0) <= 1.1 and
            mb.get("messages") == n, "message beacon: the flow's PUBLISH every ~1 s", json.dumps(mb))
    gb = seen_open[0]["message_beacon"] if seen_open else {}
    t.check(bool(seen_open) and gb.get("flow_id") == (flows[0]["flow_id"] if flows else None) and
            any("regular PUBLISH every ~1 s inside one connection" in r
                for r in seen_open[0]["reasons"]),
            "message beacon: the group's live update shows it while the connection is open",
            json.dumps(seen_open)[:400])
    if mb:
        t.notes.append(f"message beacon: PUBLISH every {mb['interval_s']} s, jitter {mb['jitter']}")


def test_rotation(t, n=20):
    src = "127.0.0.14"
    for i in range(n):
        if i == n // 2:
            os.rename(t.log, t.log + ".1")
            t.proc.send_signal(signal.SIGHUP)
            time.sleep(0.2)
        mqtt_pub(src, "c2/beacon", f"rotation {i}")
    def count():
        return len([e for e in t.events() if e["event_type"] == "flow" and e["src_ip"] == src])
    got = t.wait_for(lambda: count() >= n, 5)
    got = count()
    t.check(got == n, "SIGHUP rotation: every connection's flow line in one of the two files", f"{got}/{n}")
    t.check(os.path.exists(t.log) and os.path.getsize(t.log) > 0, "SIGHUP reopened the log")
    for p in (t.log + ".1", t.log):
        with open(p, "rb") as f:
            data = f.read()
        ok = data.endswith(b"\n") and all(json.loads(line) for line in data.splitlines())
        t.check(ok, f"no torn line in {os.path.basename(p)}")


def test_bad_reload(t):
    with open(t.config, "a", encoding="utf-8") as f:
        f.write("captur: {\n")
    t.proc.send_signal(signal.SIGHUP)
    refused = t.wait_for(lambda: "reload refused" in t.stderr(), 3)
    t.check(bool(refused), "broken config on SIGHUP: refused and logged")
    t.check(t.proc.poll() is None, "broken config on SIGHUP: still running")
    mqtt_pub("127.0.0.15", "c2/beacon", "x")
    alert, _ = alert_latency(t, "127.0.0.15", "MQTT", pub_argv("127.0.0.15", "c2/beacon", "y"))
    t.check(alert is not None and alert["Suspicion"] == "high", "old configuration still in force")


def test_usr1_and_term(t):
    before = len([e for e in t.events() if e["event_type"] == "stats"])
    t.proc.send_signal(signal.SIGUSR1)
    t.check(t.wait_for(lambda: len([e for e in t.events() if e["event_type"] == "stats"]) > before, 2),
            "SIGUSR1 writes a stats event")
    t0 = time.time()
    t.proc.send_signal(signal.SIGTERM)
    try:
        rc = t.proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        t.proc.kill()
        rc = None
    took = time.time() - t0
    t.check(rc == 0 and took <= 1.0, "SIGTERM: exit 0 within a second", f"rc {rc}, {took:.2f} s")
    t.notes.append(f"SIGTERM to exit: {took * 1000:.0f} ms")
    events = t.events()
    summaries = {(e["src_ip"], e["Protocol"]) for e in events if e["event_type"] == "summary"}
    alerts = {(e["src_ip"], e["Protocol"]) for e in events if e["event_type"] == "alert"}
    t.check(alerts and alerts <= summaries, "SIGTERM: a summary for every alerted group",
            f"alerts {sorted(alerts)} summaries {sorted(summaries)}")
    t.check(events and events[-1]["event_type"] == "stats", "SIGTERM: final stats event last")


def finish(t, work, name):
    """Stops what a run started, prints its notes (and the sensor's stderr
    after a failure) and the closing line "NAME: N passed, M failed"."""
    if t.proc and t.proc.poll() is None:
        t.proc.kill()
    t.stop_brokers()
    for n in t.notes:
        print("note:", n)
    if t.failed:
        print("sensor stderr:\n" + t.stderr()[-2000:])
    shutil.rmtree(work, ignore_errors=True)
    print(f"{name}: {t.passed} passed, {t.failed} failed")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sensor", required=True)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="pubsub-live-")
    os.chmod(work, 0o755)
    t = Live(os.path.abspath(args.sensor), work)
    try:
        if not t.check(t.start_brokers(), "mosquitto and prosody started on 127.0.0.1"):
            return 1
        if not t.check(t.start_sensor(), "sensor capturing on lo", t.stderr()[-500:]):
            return 1
        test_mqtt_publish(t)
        test_xmpp_header(t)
        test_mqtt_subscribe(t)
        test_message_beacon(t)
        test_rotation(t)
        test_bad_reload(t)
        test_usr1_and_term(t)
    finally:
        finish(t, work, "live")
    return 0 if t.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
