#!/usr/bin/python3
"""attribution_test.py - host attribution live on loopback (needs root).

Starts mosquitto and prosody on 127.0.0.1 (tests/brokers.sh) and the sensor
on lo with capture.attribution: on, then runs real clients, each from its
own loopback address: the three T1071.005 test cases (mosquitto_pub
publishing, nc sending an XMPP stream header, mosquitto_sub subscribing to
c2/commands/#), a paho-mqtt client in Python, and a copy of mosquitto_sub
named `mosquitto` (mosquitto_sub, staying a second as a bridge does).  The alerts must name each process (process_name and
details.process_pid/process_exe/process_user, the pid checked against the
client the test started) and still be high; the group of the process named
`mosquitto` must be rated low (rules.trusted_mqtt_processes ["^mosquitto$"])
and so raise no alert.  Prints "attribution: N passed, M failed".
"""
import argparse
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import live_test  # noqa: E402

CONFIG = """sensor_name: attribution-test
home_networks:
  - 10.0.0.0/8
capture:
  attribution: on
rules:
  min_connections: 1
tables:
  update_interval: 1
output:
  stats_interval: 30
daemon:
  allow_root: true
"""

PAHO = """
import sys, time
import paho.mqtt.client as mqtt
try:
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="paho-c2")
except AttributeError:
    c = mqtt.Client(client_id="paho-c2")
c.connect("127.0.0.1", 1883, 60, bind_address="127.0.0.24")
c.loop_start()
c.publish("c2/tasks", "ping", qos=1).wait_for_publish(5)
time.sleep(0.5)
c.disconnect()
c.loop_stop()
"""


def started(argv, stdin=None):
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, text=True)
    if stdin is not None:
        p.stdin.write(stdin)
    p.stdin.close()
    return p


def finish(p, seconds=15):
    try:
        p.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def check_alert(t, label, src, proto, want_name, pid, exe_end):
    alerts = t.wait_for(lambda: t.find("alert", src, proto), 3.0)
    a = alerts[0] if alerts else None
    if not t.check(a is not None, f"{label}: alert for {src}"):
        return None
    d = a["details"]
    t.check(a["process_name"] == want_name, f"{label}: process_name {want_name}",
            str(a["process_name"]))
    t.check(d.get("process_pid") == pid, f"{label}: details.process_pid is the client's ({pid})",
            str(d.get("process_pid")))
    t.check(d.get("process_exe", "").endswith(exe_end), f"{label}: process_exe ends in {exe_end}",
            d.get("process_exe", ""))
    t.check(d.get("process_user") == pwd.getpwuid(os.getuid()).pw_name,
            f"{label}: process_user", str(d.get("process_user")))
    t.check(a["Suspicion"] == "high", f"{label}: still high", a["Suspicion"])
    t.notes.append(f"{label}: process_name {a['process_name']}, pid {d.get('process_pid')}, "
                   f"exe {d.get('process_exe')}")
    return a


def short_lived(t, label, argv_of, stdin, proto, name, exe_end, srcs):
    """A client that may exit before a passive sensor can look it up (the
    lookup races it: attribution_miss_socket, or an exe link gone while the
    name was read): tried from up to three addresses; one must be named in
    full, and no alert may name another process."""
    for i, src in enumerate(srcs):
        p = started(argv_of(src), stdin)
        pid = p.pid
        finish(p)
        alerts = t.wait_for(lambda: t.find("alert", src, proto), 3.0)
        # named in full: the exe link too (a client exiting during the lookup
        # can leave its name read and its exe link already gone)
        named = alerts and alerts[0]["process_name"] is not None and \
            alerts[0]["details"].get("process_exe")
        if alerts and alerts[0]["process_name"] not in (None, name):
            t.check(False, f"{label}: never a wrong process name", alerts[0]["process_name"])
            return
        if named or i == len(srcs) - 1:
            check_alert(t, label, src, proto, name, pid, exe_end)
            if i:
                t.notes.append(f"{label}: named on try {i + 1} (the client outran the lookup before)")
            return


def run(t, work):
    msg = "host:root:Linux"
    time.sleep(1.0)  # the capture settles
    # (a) mosquitto_pub publishing
    short_lived(t, "(a) mosquitto_pub", lambda s: live_test.pub_argv(s, "c2/beacon", msg), None,
                "MQTT", "mosquitto_pub", "mosquitto_pub", ["127.0.0.21", "127.0.0.31", "127.0.0.41"])
    # (b) nc sending an XMPP stream header
    short_lived(t, "(b) nc", live_test.nc_argv, live_test.XMPP_HEADER + "\n", "XMPP", "nc",
                "nc.openbsd" if os.path.realpath(shutil.which("nc") or "").endswith("nc.openbsd")
                else "nc", ["127.0.0.22", "127.0.0.32", "127.0.0.42"])
    # (c) mosquitto_sub subscribing to c2/commands/#
    p = started(["mosquitto_sub", "-A", "127.0.0.23", "-h", "127.0.0.1", "-p", "1883", "-t",
                 "c2/commands/#", "-C", "1", "-W", "5"])
    a = check_alert(t, "(c) mosquitto_sub", "127.0.0.23", "MQTT", "mosquitto_sub", p.pid,
                    "mosquitto_sub")
    finish(started(live_test.pub_argv("127.0.0.1", "c2/commands/exec", "whoami")))
    finish(p)
    if a:  # the alert came with the CONNECT; the SUBSCRIBE follows in an update
        upd = t.wait_for(lambda: [e for e in t.find("update", "127.0.0.23", "MQTT")
                                  if "c2/commands/#" in e["details"].get("command_topics", [])], 5.0)
        t.check(bool(upd), "(c) mosquitto_sub: an update lists c2/commands/# in command_topics",
                str([e["details"] for e in t.find("update", "127.0.0.23", "MQTT")])[:300])
    # a paho-mqtt client in Python
    p = started(["/usr/bin/python3", "-c", PAHO])
    pid = p.pid
    finish(p)
    check_alert(t, "paho", "127.0.0.24", "MQTT", "python3", pid,
                os.path.basename(os.path.realpath("/usr/bin/python3")))
    # a client whose process is named mosquitto and that stays connected for
    # a second, as a bridging broker would (a copy of mosquitto_sub)
    fake = os.path.join(work, "mosquitto")
    shutil.copy(shutil.which("mosquitto_sub"), fake)
    for _ in range(2):
        finish(started([fake, "-A", "127.0.0.25", "-h", "127.0.0.1", "-p", "1883", "-t", "up/link",
                        "-W", "1"]))
    time.sleep(1.0)
    t.check(not t.find("alert", "127.0.0.25", "MQTT"),
            "process named mosquitto: rated low, no alert")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sensor", required=True)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="pubsub-attr-")
    os.chmod(work, 0o755)
    t = live_test.Live(os.path.abspath(args.sensor), work)
    with open(t.config, "w", encoding="utf-8") as f:
        f.write(CONFIG)
    try:
        if not t.check(t.start_brokers(), "mosquitto and prosody started on 127.0.0.1"):
            return 1
        if not t.check(t.start_sensor(), "sensor capturing on lo", t.stderr()[-500:]):
            return 1
        run(t, work)
        t.proc.terminate()
        t.proc.wait(timeout=10)
        s = [e for e in t.events() if e["event_type"] == "summary" and e.get("src_ip") == "127.0.0.25"]
        t.check(len(s) == 0, "process named mosquitto: no summary either (it never alerted)")
        flows = [e for e in t.events() if e["event_type"] == "flow" and e.get("src_ip") == "127.0.0.25"]
        t.check(len(flows) == 2 and all(f["process_name"] == "mosquitto" for f in flows),
                "process named mosquitto: both flows name it (so the quiet is the rating's)",
                str([f["process_name"] for f in flows]))
        stats = [e for e in t.events() if e["event_type"] == "stats"]
        if stats:
            c = stats[-1].get("counters", {})
            t.notes.append("attribution counters: " + ", ".join(
                f"{k} {v}" for k, v in c.items() if k.startswith("attribution_")))
    finally:
        live_test.finish(t, work, "attribution")
    return 0 if t.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
