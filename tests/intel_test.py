#!/usr/bin/python3
"""intel_test.py - what the sensor says about a group beyond the search's figures.

Generated captures (tests/gen_pcap.py), replayed under small
configurations: beacons (connections every 60 s +- 1 s against random
gaps), command channels (SUBSCRIBE and PUBLISH topics that match the
command patterns), the broker's name (DNS answers, TLS SNI) and public
brokers, and each kind of allow list.  Every event must validate against
tests/spec/events.schema.json.  Prints "intel: N passed, M failed" and
exits non-zero on a failure.
"""
import json
import os
import random
import struct
import subprocess
import sys
import tempfile

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_pcap  # noqa: E402

TOP = os.path.dirname(HERE)
SENSOR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(TOP, "pubsub-sensor")

with open(os.path.join(HERE, "spec", "events.schema.json"), encoding="utf-8") as f:
    VALIDATOR = jsonschema.Draft202012Validator(json.load(f))

passed = failed = 0
T0 = 1767225600  # 2026-01-01


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name}" + (f": {detail}" if detail else ""))


def replay(config, packets, label):
    """Writes the packets as a pcap, replays it; returns the events (validated)."""
    with tempfile.TemporaryDirectory() as tmp:
        pcap, cfg, log = (os.path.join(tmp, n) for n in ("c.pcap", "c.yaml", "e.json"))
        gen_pcap.write_pcap(pcap, packets)
        with open(cfg, "w", encoding="utf-8") as f:
            f.write(config)
        p = subprocess.run([SENSOR, "-c", cfg, "-r", pcap, "-o", log, "--flows", "--no-table"],
                           capture_output=True, timeout=60, check=False)
        events = []
        if os.path.exists(log):
            with open(log, encoding="utf-8") as f:
                events = [json.loads(line) for line in f if line.strip()]
    bad = [e for e in events if not VALIDATOR.is_valid(e)]
    ok = p.returncode == 0 and events and events[-1].get("event_type") == "stats" and not bad
    check(f"{label}: exit 0, the replay finished, schema-valid events", ok,
          p.stderr.decode()[-300:] if p.returncode else
          (next(iter(VALIDATOR.iter_errors(bad[0]))).message if bad else "no stats event"))
    return events


def groups(events, kind=None):
    return [e for e in events if e["event_type"] in ("alert", "update", "summary")
            and (kind is None or e["event_type"] == kind)]


def mqtt_str(s):
    b = s.encode()
    return struct.pack("!H", len(b)) + b


def mqtt_packet(first, body):
    n, rl = len(body), b""
    while True:
        d, n = n % 128, n // 128
        rl += bytes([d | (0x80 if n else 0)])
        if not n:
            break
    return bytes([first]) + rl + body


def mqtt_connect(client_id, user=None):
    flags = 0x02 | (0x80 if user else 0)
    body = mqtt_str("MQTT") + bytes([4, flags]) + struct.pack("!H", 60) + mqtt_str(client_id)
    if user:
        body += mqtt_str(user)
    return mqtt_packet(0x10, body)


def mqtt_subscribe(topic):
    return mqtt_packet(0x82, struct.pack("!H", 1) + mqtt_str(topic) + b"\x00")


def mqtt_publish(topic, payload):
    return mqtt_packet(0x30, mqtt_str(topic) + payload)


CONNACK = b"\x20\x02\x00\x00"


def mqtt_conns(starts, client="10.0.0.5", server="10.0.0.9", port=1883, request=None):
    pkts = []
    for i, t in enumerate(starts):
        pkts += gen_pcap.conversation(t, client, server, 40000 + i, port,
                                      request or mqtt_connect(f"dev{i}"), CONNACK)
    return pkts


# --- beacons: internal MQTT (low) every 60 s +- 1 s rises to medium and alerts ---

def test_beacons():
    rnd = random.Random(12)
    regular = [T0 + 60 * i + rnd.uniform(-1, 1) for i in range(8)]
    ev = replay("sensor_name: beacon\n", mqtt_conns(regular), "beacon/regular")
    s = groups(ev, "summary")
    b = s[0].get("beacon") if len(s) == 1 else None
    check("beacon/regular: one group, alerted (internal MQTT is low without the beacon)",
          len(groups(ev, "alert")) == 1 and len(s) == 1 and s[0]["Suspicion"] == "medium",
          json.dumps(groups(ev))[:400])
    check("beacon/regular: beacon interval ~60 s, jitter < 0.1, 7 gaps",
          b is not None and 59 <= b["interval_s"] <= 61 and b["jitter"] < 0.1 and
          b["samples"] == 7, json.dumps(b))
    check("beacon/regular: reason 'regular beacon every ~60 s'",
          s and "regular beacon every ~60 s" in s[0]["reasons"], json.dumps(s)[:400])
    gaps = [5, 200, 17, 90, 41, 300, 8]
    randoms = [T0 + sum(gaps[:i]) for i in range(len(gaps) + 1)]
    ev = replay("sensor_name: beacon\nrules:\n  min_suspicion: low\n", mqtt_conns(randoms),
                "beacon/random")
    s = groups(ev, "summary")
    check("beacon/random: one low group without beacon or beacon reason",
          len(s) == 1 and "beacon" not in s[0] and s[0]["Suspicion"] == "low" and
          not any("beacon" in r for r in s[0]["reasons"]), json.dumps(s)[:400])
    ev = replay("sensor_name: beacon\nrules:\n  beacon_raise: 0\n  min_suspicion: low\n",
                mqtt_conns(regular), "beacon/raise 0")
    s = groups(ev, "summary")
    check("beacon/raise 0: beacon described, rated low",
          len(s) == 1 and "beacon" in s[0] and s[0]["Suspicion"] == "low", json.dumps(s)[:400])


TESTS = [test_beacons]


def main():
    for t in TESTS:
        t()
    print(f"intel: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
