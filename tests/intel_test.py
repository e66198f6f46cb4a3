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


def mqtt_conns(starts, client="10.0.0.5", server="10.0.0.9", port=1883, request=None):  # noqa
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


# --- message beacons: regular client messages inside one long-lived connection ---

PINGREQ, PINGRESP = b"\xc0\x00", b"\xd0\x00"


def mqtt_session(times, message, port=1883, lost=None, client="10.0.0.5", server="10.0.0.9",
                 resent=None, opening=None, answer=CONNACK):
    """One connection: CONNECT at T0, then `message` from the client at each
    time (a PINGRESP answers a PINGREQ, a bare ACK anything else), FIN at the
    end.  The client segment with index `lost` is left out of the capture
    (its sequence numbers are still used); the one with index `resent` is
    sent twice, 0.2 s apart (a retransmission)."""
    F, cp = gen_pcap.frame, 41000
    c, s, t0 = 1001, 5001, times[0] - 5
    pkts = [(t0, F(client, server, cp, port, c - 1, 0, gen_pcap.SYN)),
            (t0 + .001, F(server, client, port, cp, s - 1, c, gen_pcap.SYN | gen_pcap.ACK)),
            (t0 + .002, F(client, server, cp, port, c, s, gen_pcap.ACK))]
    con = opening or mqtt_connect("meter-7")
    pkts.append((t0 + .003, F(client, server, cp, port, c, s, PA, con)))
    c += len(con)
    pkts.append((t0 + .004, F(server, client, port, cp, s, c, PA, answer)))
    s += len(answer)
    for i, t in enumerate(times):
        if i != lost:
            pkts.append((t, F(client, server, cp, port, c, s, PA, message)))
        if i == resent:
            pkts.append((t + .2, F(client, server, cp, port, c, s, PA, message)))
        c += len(message)
        reply = PINGRESP if message == PINGREQ else b""
        pkts.append((t + .001, F(server, client, port, cp, s, c, PA if reply else gen_pcap.ACK,
                                 reply)))
        s += len(reply)
    end = times[-1] + 1
    pkts += [(end, F(client, server, cp, port, c, s, gen_pcap.FIN | gen_pcap.ACK)),
             (end + .001, F(server, client, port, cp, s, c + 1, gen_pcap.FIN | gen_pcap.ACK)),
             (end + .002, F(client, server, cp, port, c + 1, s + 1, gen_pcap.ACK))]
    return pkts


def mqtt_idle(t0, client, server="10.0.0.9", port=1883):
    """A connection that sends CONNECT at t0, gets its CONNACK and then stays
    silent and open to the capture's end."""
    F, cp, c, s = gen_pcap.frame, 41000, 1001, 5001
    con = mqtt_connect("idle-" + client)
    return [(t0, F(client, server, cp, port, c - 1, 0, gen_pcap.SYN)),
            (t0 + .001, F(server, client, port, cp, s - 1, c, gen_pcap.SYN | gen_pcap.ACK)),
            (t0 + .002, F(client, server, cp, port, c, s, gen_pcap.ACK)),
            (t0 + .003, F(client, server, cp, port, c, s, PA, con)),
            (t0 + .004, F(server, client, port, cp, s, c + len(con), PA, CONNACK))]


PA = gen_pcap.PSH | gen_pcap.ACK
AMQP091_HEADER = b"AMQP\x00\x00\x09\x01"
AMQP_HEARTBEAT = b"\x08\x00\x00\x00\x00\x00\x00\xce"
ONE_CONN = "sensor_name: msg\nrules:\n  min_connections: 1\n"


def flows(events):
    return [e for e in events if e["event_type"] == "flow"]


def counters(events):
    return events[-1].get("counters", {}) if events else {}


def test_message_beacons():
    rnd = random.Random(30)
    pings = [T0 + 30 * i + rnd.uniform(-0.5, 0.5) for i in range(8)]
    ev = replay(ONE_CONN, mqtt_session(pings, PINGREQ), "msgbeacon/pingreq")
    f, a = flows(ev), groups(ev, "alert")
    mb = f[0].get("message_beacon") if len(f) == 1 else None
    check("msgbeacon/pingreq: the flow's message_beacon: pingreq, ~30 s, 7 gaps of 8 messages",
          mb is not None and mb["kind"] == "pingreq" and 29.5 <= mb["interval_s"] <= 30.5 and
          mb["jitter"] < 0.1 and mb["samples"] == 7 and mb["messages"] == 8, json.dumps(f)[:600])
    check("msgbeacon/pingreq: one connection to an internal broker (low) rises to medium and alerts",
          len(a) == 1 and a[0]["Suspicion"] == "medium" and
          "regular PINGREQ every ~30 s inside one connection" in a[0]["reasons"],
          json.dumps(groups(ev))[:600])
    gb = a[0].get("message_beacon") if a else None
    check("msgbeacon/pingreq: the group's message_beacon names the flow",
          gb is not None and f and gb["flow_id"] == f[0]["flow_id"] and gb["kind"] == "pingreq" and
          gb["samples"] == 7 and "beacon" not in a[0], json.dumps(a)[:600])
    check("msgbeacon/pingreq: counted as followed, nothing lost",
          counters(ev).get("msg_timing_followed") == 1 and counters(ev).get("msg_timing_lost") == 0,
          json.dumps(counters(ev)))

    pubs = [T0 + 60 * i + rnd.uniform(-1, 1) for i in range(7)]
    publish = mqtt_publish("meter/7/energy", b"1234")
    for port, level in ((1883, "medium"), (8080, "high")):
        ev = replay(ONE_CONN, mqtt_session(pubs, publish, port=port), f"msgbeacon/publish {port}")
        f, a = flows(ev), groups(ev, "summary")  # 8080 alerts at its start: the port
        mb = f[0].get("message_beacon") if len(f) == 1 else None
        check(f"msgbeacon/publish {port}: PUBLISH every ~60 s, 6 gaps",
              mb is not None and mb["kind"] == "publish" and 59 <= mb["interval_s"] <= 61 and
              mb["samples"] == 6 and mb["messages"] == 7, json.dumps(f)[:600])
        check(f"msgbeacon/publish {port}: reason and one step up ({level})",
              len(a) == 1 and a[0]["Suspicion"] == level and
              "regular PUBLISH every ~60 s inside one connection" in a[0]["reasons"],
              json.dumps(groups(ev))[:600])
    ev = replay(ONE_CONN + "  message_beacon_raise: 0\n  min_suspicion: low\n",
                mqtt_session(pubs, publish, port=8080), "msgbeacon/raise 0")
    a = groups(ev, "summary")
    check("msgbeacon/raise 0: described, not raised (medium: the port alone)",
          len(a) == 1 and a[0]["Suspicion"] == "medium" and "message_beacon" in a[0] and
          any("inside one connection" in r for r in a[0]["reasons"]), json.dumps(a)[:600])

    gaps = [5, 200, 17, 90, 41, 300, 8]
    randoms = [T0 + sum(gaps[:i]) for i in range(len(gaps) + 1)]
    few = [T0 + 30 * i for i in range(4)]
    for label, times in (("random gaps", randoms), ("3 gaps", few)):
        ev = replay(ONE_CONN + "  min_suspicion: low\n", mqtt_session(times, PINGREQ),
                    f"msgbeacon/{label}")
        f, g = flows(ev), groups(ev)
        check(f"msgbeacon/{label}: no message_beacon, no reason, low",
              len(f) == 1 and "message_beacon" not in f[0] and g and
              all("message_beacon" not in e and e["Suspicion"] == "low" and
                  not any("inside one connection" in r for r in e["reasons"]) for e in g),
              json.dumps(ev)[:600])

    pings = [T0 + 30 * i for i in range(10)]
    ev = replay(ONE_CONN, mqtt_session(pings, PINGREQ, lost=5), "msgbeacon/sequence gap")
    f = flows(ev)
    mb = f[0].get("message_beacon") if len(f) == 1 else None
    check("msgbeacon/sequence gap: the flow says timing was cut, counter msg_timing_lost",
          len(f) == 1 and f[0]["details"].get("message_timing_cut") == "sequence_gap" and
          counters(ev).get("msg_timing_lost") == 1, json.dumps(f)[:400] + json.dumps(counters(ev)))
    check("msgbeacon/sequence gap: measured up to the gap only (5 messages, 4 gaps)",
          mb is not None and mb["messages"] == 5 and mb["samples"] == 4, json.dumps(mb))

    ev = replay(ONE_CONN, mqtt_session(pings, PINGREQ, resent=5), "msgbeacon/retransmission")
    f = flows(ev)
    mb = f[0].get("message_beacon") if len(f) == 1 else None
    check("msgbeacon/retransmission: counted once, timing not cut",
          mb is not None and mb["messages"] == 10 and mb["samples"] == 9 and
          "message_timing_cut" not in f[0]["details"] and counters(ev).get("msg_timing_lost") == 0,
          json.dumps(f)[:400])

    # AMQP 0-9-1: heartbeat frames every 60 s +- 1 s after the protocol header
    beats = [T0 + 60 * i + rnd.uniform(-1, 1) for i in range(7)]
    amqp = dict(port=5672, opening=AMQP091_HEADER, answer=AMQP_HEARTBEAT)
    for raise_, label in ((1, "amqp heartbeat"), (0, "amqp heartbeat/raise 0")):
        ev = replay(ONE_CONN + f"  message_beacon_raise: {raise_}\n  min_suspicion: low\n",
                    mqtt_session(beats, AMQP_HEARTBEAT, **amqp), f"msgbeacon/{label}")
        f, a = flows(ev), groups(ev, "summary")
        mb = f[0].get("message_beacon") if len(f) == 1 else None
        check(f"msgbeacon/{label}: the flow's heartbeat every ~60 s, 6 gaps",
              mb is not None and mb["kind"] == "heartbeat" and 59 <= mb["interval_s"] <= 61 and
              mb["samples"] == 6 and mb["messages"] == 7 and f[0]["Protocol"] == "AMQP",
              json.dumps(f)[:600])
        if raise_:
            level = a[0]["Suspicion"] if len(a) == 1 else None
            check("msgbeacon/amqp heartbeat: reason on the group",
                  level is not None and
                  "regular heartbeat every ~60 s inside one connection" in a[0]["reasons"],
                  json.dumps(a)[:600])
        else:
            check("msgbeacon/amqp heartbeat: one step up against message_beacon_raise 0",
                  len(a) == 1 and level is not None and
                  ["low", "medium", "high"].index(level) ==
                  min(2, ["low", "medium", "high"].index(a[0]["Suspicion"]) + 1),
                  json.dumps(a)[:600])

    ev = replay(ONE_CONN + "tables:\n  message_timing_flows: 0\n",
                mqtt_session([T0 + 30 * i for i in range(8)], PINGREQ), "msgbeacon/no state")
    f = flows(ev)
    check("msgbeacon/no state: not timed, said so and counted; still MQTT by payload",
          len(f) == 1 and f[0]["details"].get("message_timing_cut") == "no_state" and
          "message_beacon" not in f[0] and f[0]["evidence"] == "payload" and
          f[0]["Protocol"] == "MQTT" and counters(ev).get("msg_timing_pool_full") == 1,
          json.dumps(f)[:400] + json.dumps(counters(ev)))

    # A pool of 2 held by two idle MQTT connections (CONNECT, then silence)
    # when a third opens and PUBLISHes every 60 s +- 1 s: the third takes the
    # state of the least recently active idle one (the first opened), so it is
    # timed; the first says its timing was reclaimed, the second is still
    # followed, one state was taken.
    pubs = [T0 + 60 * i + rnd.uniform(-1, 1) for i in range(7)]
    idle = [p for n, ip in enumerate(("10.0.0.6", "10.0.0.7"))
            for p in mqtt_idle(T0 - 100 + 10 * n, ip)]
    ev = replay(ONE_CONN + "tables:\n  message_timing_flows: 2\n",
                idle + mqtt_session(pubs, mqtt_publish("meter/7/energy", b"1234")),
                "msgbeacon/reclaimed")
    by_ip = {e["src_ip"]: e for e in flows(ev)}
    mb = by_ip.get("10.0.0.5", {}).get("message_beacon")
    check("msgbeacon/reclaimed: the third connection takes a state and is timed (PUBLISH ~60 s)",
          len(by_ip) == 3 and mb is not None and mb["kind"] == "publish" and
          59 <= mb["interval_s"] <= 61 and mb["samples"] == 6 and mb["messages"] == 7 and
          "message_timing_cut" not in by_ip["10.0.0.5"]["details"],
          json.dumps(flows(ev))[:800])
    check("msgbeacon/reclaimed: the least recently active idle one says reclaimed, the other not",
          len(by_ip) == 3 and
          by_ip["10.0.0.6"]["details"].get("message_timing_cut") == "reclaimed" and
          "message_timing_cut" not in by_ip["10.0.0.7"]["details"] and
          all(by_ip[ip]["Protocol"] == "MQTT" and by_ip[ip]["evidence"] == "payload"
              for ip in by_ip),
          json.dumps(flows(ev))[:800])
    check("msgbeacon/reclaimed: msg_timing_reclaimed 1, nothing left untimed",
          counters(ev).get("msg_timing_reclaimed") == 1 and
          counters(ev).get("msg_timing_pool_full") == 0 and
          counters(ev).get("msg_timing_followed") == 3, json.dumps(counters(ev)))


# --- command channels: SUBSCRIBE c2/commands/# and PUBLISH to a cmd topic ---

def test_command_channels():
    req = mqtt_connect("bot1") + mqtt_subscribe("c2/commands/#") + \
        mqtt_publish("status/bot1", b"up") + mqtt_publish("dev/CMD/out", b"secret-payload")
    ev = replay("sensor_name: cmd\n", mqtt_conns([T0, T0 + 7], server="198.51.100.9",
                                                   request=req), "command")
    s = groups(ev, "summary")
    d = s[0]["details"] if len(s) == 1 else {}
    check("command: details.command_topics lists the matching topic and filter only",
          sorted(d.get("command_topics", [])) == ["c2/commands/#", "dev/CMD/out"],
          json.dumps(d))
    check("command: a reason names the first",
          s and "command channel: topic 'c2/commands/#' and more" in s[0]["reasons"],
          json.dumps(s[0]["reasons"] if s else None))
    check("command: no payload bytes anywhere in the output",
          not any("secret-payload" in json.dumps(e) for e in ev))
    req = mqtt_connect("bot1") + mqtt_subscribe("#")
    ev = replay("sensor_name: cmd\n", mqtt_conns([T0, T0 + 7], server="198.51.100.9",
                                                   request=req), "command/#")
    s = groups(ev, "summary")
    check("command: SUBSCRIBE to # is a command channel",
          len(s) == 1 and s[0]["details"].get("command_topics") == ["#"], json.dumps(s)[:400])
    req = mqtt_connect("meter") + mqtt_subscribe("sensors/+/temp")
    ev = replay("sensor_name: cmd\n", mqtt_conns([T0, T0 + 7], server="198.51.100.9",
                                                   request=req), "command/control")
    s = groups(ev, "summary")
    check("command/control: ordinary topics are no command channel",
          len(s) == 1 and "command_topics" not in s[0]["details"] and
          not any("command channel" in r for r in s[0]["reasons"]), json.dumps(s)[:400])


# --- command channels in STOMP destinations and AMQP queue names ---

STOMP_CONNECTED = b"CONNECTED\nversion:1.2\n\n\x00"


def stomp_frame(command, headers, body=b""):
    head = command + "\n" + "".join(f"{k}:{v}\n" for k, v in headers) + "\n"
    return head.encode() + body + b"\x00"


def stomp_request(dest, verb="SUBSCRIBE"):
    frames = stomp_frame("CONNECT", [("accept-version", "1.2"), ("host", "/")]) + b"\n"
    if verb == "SUBSCRIBE":
        frames += stomp_frame("SUBSCRIBE", [("id", "0"), ("destination", dest), ("ack", "auto")])
    else:
        frames += stomp_frame("SEND", [("destination", dest), ("content-length", "2")], b"hi")
    return frames


def amqp_frame(ftype, channel, payload):
    return struct.pack("!BHI", ftype, channel, len(payload)) + payload + b"\xce"


def amqp_shortstr(s):
    b = s.encode()
    return bytes([len(b)]) + b


def amqp_method(cls, method, args):
    return amqp_frame(1, 1, struct.pack("!HH", cls, method) + args)


def amqp_request(queue):
    """Protocol header, channel.open, queue.declare and basic.consume of `queue`."""
    return (b"AMQP\x00\x00\x09\x01" + amqp_frame(1, 1, struct.pack("!HH", 20, 10) + b"\x00") +
            amqp_method(50, 10, b"\x00\x00" + amqp_shortstr(queue) + b"\x00" + b"\0\0\0\0") +
            amqp_method(60, 20, b"\x00\x00" + amqp_shortstr(queue) + amqp_shortstr("ctag") +
                        b"\x00" + b"\0\0\0\0"))


AMQP_START = amqp_frame(1, 0, struct.pack("!HH", 10, 10) + b"\x00\x09" + b"\0\0\0\0" +
                        b"\0\0\0\x05PLAIN" + b"\0\0\0\x05en_US")


def command_case(label, request, reply, port, proto, want_topics, want_reason):
    pkts = []
    for i, t in enumerate([T0, T0 + 7]):
        pkts += gen_pcap.conversation(t, "10.0.0.5", "198.51.100.9", 40000 + i, port, request,
                                      reply)
    ev = replay("sensor_name: cmd\nrules:\n  min_suspicion: low\n", pkts, label)
    s = groups(ev, "summary")
    d = s[0]["details"] if len(s) == 1 else {}
    check(f"{label}: one {proto} group whose details.topics name the channel",
          len(s) == 1 and s[0]["Protocol"] == proto and
          all(t in d.get("topics", []) for t in want_topics), json.dumps(s)[:400])
    if want_reason:
        check(f"{label}: details.command_topics {want_topics} and the reason",
              d.get("command_topics") == want_topics and
              f"command channel: destination '{want_topics[0]}'" in s[0]["reasons"],
              json.dumps(s)[:500])
    else:
        check(f"{label}: no command channel",
              "command_topics" not in d and
              not any("command channel" in r for r in s[0]["reasons"] if s), json.dumps(s)[:400])


def test_command_destinations():
    for port in (61613, 9999):
        command_case(f"command/stomp:{port}", stomp_request("/queue/c2.commands"),
                     STOMP_CONNECTED, port, "STOMP", ["/queue/c2.commands"], True)
    command_case("command/stomp SEND", stomp_request("/queue/agent.exec", "SEND"),
                 STOMP_CONNECTED, 61613, "STOMP", ["/queue/agent.exec"], True)
    command_case("command/stomp benign", stomp_request("/topic/weather"), STOMP_CONNECTED,
                 61613, "STOMP", ["/topic/weather"], False)
    for port in (5672, 15999):
        command_case(f"command/amqp:{port}", amqp_request("cmd-queue"), AMQP_START, port,
                     "AMQP", ["cmd-queue"], True)
    command_case("command/amqp benign", amqp_request("weather-readings"), AMQP_START, 5672,
                 "AMQP", ["weather-readings"], False)
    # the list bound (16 names): 15 and 16 whole, a 17th dropped and said, the rating unchanged
    seen = {}
    for n in (15, 16, 17):
        req = stomp_frame("CONNECT", [("accept-version", "1.2"), ("host", "/")])
        for i in range(n):
            req += stomp_frame("SUBSCRIBE", [("id", str(i)), ("destination", f"/queue/q{i}")])
        pkts = []
        for k, t in enumerate([T0, T0 + 7]):
            pkts += gen_pcap.conversation(t, "10.0.0.5", "198.51.100.9", 40000 + k, 61613, req,
                                          STOMP_CONNECTED)
        ev = replay("sensor_name: cmd\nrules:\n  min_suspicion: low\n", pkts, f"bound/{n}")
        s = groups(ev, "summary")
        g = s[0] if len(s) == 1 else {}
        seen[n] = g.get("Suspicion")
        want = [f"/queue/q{i}" for i in range(min(n, 16))]
        cut = "topics" if n > 16 else "empty"
        check(f"bound/{n}: details.topics {min(n, 16)} names, truncated {cut}",
              g.get("details", {}).get("topics") == want and
              g.get("truncated") == (["topics"] if n > 16 else []), json.dumps(g)[:400])
    check("bound: the rating is the same at 15, 16 and 17 names",
          seen[15] is not None and seen[15] == seen[16] == seen[17], str(seen))


# --- output.payload_bytes: nothing by default; N bytes, escaped, when asked ---

PAYLOAD = b'\x1b[2J"q"\\\x00\x07run:ls -la /tmp; echo pwned' + b"\xff\xfe" + b"Z" * 40


def escaped_text(b):
    """The sensor's documented form (escape.h): printable ASCII as is, a
    backslash doubled, control bytes, DEL and bytes that are not UTF-8 as \\xNN."""
    out = []
    for c in b:
        if c == 0x5c:
            out.append("\\\\")
        elif 0x20 <= c < 0x7f:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    return "".join(out)


def stomp_send_request(dest, body):
    return (stomp_frame("CONNECT", [("accept-version", "1.2"), ("host", "/")]) +
            stomp_frame("SEND", [("destination", dest), ("content-length", str(len(body)))], body))


def amqp_publish_request(exchange, key, body):
    publish = amqp_method(60, 40, b"\x00\x00" + amqp_shortstr(exchange) + amqp_shortstr(key) +
                          b"\x00")
    header = amqp_frame(2, 1, struct.pack("!HHQH", 60, 0, len(body), 0))
    return (b"AMQP\x00\x00\x09\x01" + amqp_frame(1, 1, struct.pack("!HH", 20, 10) + b"\x00") +
            publish + header + amqp_frame(3, 1, body))


def payload_case(label, request, reply, port, topic, n):
    pkts = []
    for i, t in enumerate([T0, T0 + 7]):
        pkts += gen_pcap.conversation(t, "10.0.0.5", "198.51.100.9", 40000 + i, port, request,
                                      reply)
    conf = "sensor_name: pay\nrules:\n  min_suspicion: low\n"
    if n is not None:
        conf += f"output:\n  payload_bytes: {n}\n"
    ev = replay(conf, pkts, label)
    detailed = [e for e in ev if "details" in e]
    if not n:
        check(f"{label}: no details.payloads and no payload byte in any event",
              detailed and not any("payloads" in e["details"] for e in detailed) and
              not any("pwned" in json.dumps(e) for e in ev), json.dumps(detailed)[:300])
        return
    want = {"topic": topic, "size": len(PAYLOAD), "text": escaped_text(PAYLOAD[:n]),
            "truncated": True}
    flows = [e for e in ev if e["event_type"] == "flow"]
    s = groups(ev, "summary")
    check(f"{label}: the group and every flow carry the first {n} bytes, escaped",
          len(s) == 1 and s[0]["details"].get("payloads") == [want] and len(flows) == 2 and
          all(f["details"].get("payloads") == [want] for f in flows),
          json.dumps(s[0]["details"] if s else ev)[:600] + " want " + json.dumps(want))
    check(f"{label}: nothing past byte {n} is written",
          not any("pwned" in json.dumps(e) for e in ev))


def test_payload_bytes():
    mqtt = mqtt_connect("bot1") + mqtt_publish("c2/out", PAYLOAD)
    stomp = stomp_send_request("/queue/c2.out", PAYLOAD)
    amqp = amqp_publish_request("", "c2.out", PAYLOAD)
    for n in (None, 0, 16):
        payload_case(f"payload_bytes {n}/mqtt", mqtt, CONNACK, 1883, "c2/out", n)
        payload_case(f"payload_bytes {n}/stomp", stomp, STOMP_CONNECTED, 61613, "/queue/c2.out", n)
        payload_case(f"payload_bytes {n}/amqp", amqp, AMQP_START, 5672, "c2.out", n)
    # the whole payload when it is shorter than N: not truncated, every byte escaped
    short = b'say "hi"\r\n\x00'
    req = mqtt_connect("bot1") + mqtt_publish("t/x", short)
    pkts = []
    for i, t in enumerate([T0, T0 + 7]):
        pkts += gen_pcap.conversation(t, "10.0.0.5", "198.51.100.9", 40000 + i, 1883, req,
                                      CONNACK)
    ev = replay("sensor_name: pay\noutput:\n  payload_bytes: 256\n", pkts, "payload_bytes 256")
    s = groups(ev, "summary")
    want = [{"topic": "t/x", "size": len(short), "text": escaped_text(short), "truncated": False}]
    check("payload_bytes 256: a short payload whole, truncated false",
          len(s) == 1 and s[0]["details"].get("payloads") == want, json.dumps(s)[:500])


# --- the broker's name from TLS SNI; public brokers ---

def client_hello(sni):
    name = sni.encode()
    sni_ext = struct.pack("!HBH", len(name) + 3, 0, len(name)) + name
    ext = struct.pack("!HH", 0, len(sni_ext)) + sni_ext
    body = b"\x03\x03" + bytes(32) + b"\x00" + b"\x00\x02\x13\x01" + b"\x01\x00" + \
        struct.pack("!H", len(ext)) + ext
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


SERVER_HELLO = b"\x16\x03\x03\x00\x04\x02\x00\x00\x00"


def tls_conns(sni, server="10.0.0.9", n=2):
    pkts = []
    for i in range(n):
        pkts += gen_pcap.conversation(T0 + 10 * i, "10.0.0.5", server, 41000 + i, 8883,
                                      client_hello(sni), SERVER_HELLO)
    return pkts


def test_public_broker():
    ev = replay("sensor_name: pb\n", tls_conns("broker.hivemq.com"), "public broker")
    s = groups(ev, "summary")
    flows = [e for e in ev if e["event_type"] == "flow"]
    check("public broker: group dest_host from the SNI, details.public_broker",
          len(s) == 1 and s[0].get("dest_host") == "broker.hivemq.com" and
          s[0]["details"].get("public_broker") == "broker.hivemq.com", json.dumps(s)[:500])
    check("public broker: reason, and internal MQTT (low) raised to medium, alerted",
          s and "public MQTT broker broker.hivemq.com" in s[0]["reasons"] and
          s[0]["Suspicion"] == "medium" and groups(ev, "alert"), json.dumps(s)[:500])
    check("public broker: flows carry dest_host",
          len(flows) == 2 and all(f.get("dest_host") == "broker.hivemq.com" for f in flows),
          json.dumps(flows)[:300])
    ev = replay("sensor_name: pb\nrules:\n  min_suspicion: low\n",
                tls_conns("mqtt.example.org"), "public broker/control")
    s = groups(ev, "summary")
    check("public broker/control: another name is no public broker, stays low",
          len(s) == 1 and s[0].get("dest_host") == "mqtt.example.org" and
          "public_broker" not in s[0]["details"] and s[0]["Suspicion"] == "low",
          json.dumps(s)[:400])


# --- the broker's name from DNS answers seen on the wire ---

def dns_name(name):
    return b"".join(bytes([len(x)]) + x.encode() for x in name.split(".")) + b"\0"


def dns_response(qname, cname, addr, ttl):
    """A response: qname CNAME cname (compressed pointer to the question), cname A addr."""
    hdr = struct.pack("!HHHHHH", 0x1234, 0x8180, 1, 2, 0, 0)
    q = dns_name(qname) + struct.pack("!HH", 1, 1)
    target = dns_name(cname)
    a1 = b"\xc0\x0c" + struct.pack("!HHIH", 5, 1, ttl, len(target)) + target
    cname_at = 12 + len(q) + 12  # where the CNAME's target name starts
    a2 = struct.pack("!H", 0xc000 | cname_at) + struct.pack("!HHIH", 1, 1, ttl, 4) + \
        bytes(int(x) for x in addr.split("."))
    return hdr + q + a1 + a2


def udp_frame(src, dst, sport, dport, payload):
    s, d = gen_pcap._ip4(src), gen_pcap._ip4(dst)
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, s, d)
    ip = ip[:10] + struct.pack("!H", gen_pcap._csum(ip)) + ip[12:]
    return b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00" + ip + udp


def test_dns_names():
    resp = dns_response("broker.hivemq.com", "edge.example-cdn.net", "198.51.100.77", 300)
    pkts = [(T0 - 1, udp_frame("10.0.0.53", "10.0.0.5", 53, 33000, resp))]
    pkts += mqtt_conns([T0, T0 + 5], server="198.51.100.77")
    # another client never saw the answer; a connection after the TTL is not named
    pkts += mqtt_conns([T0 + 10, T0 + 15], client="10.0.0.6", server="198.51.100.77")
    pkts += mqtt_conns([T0 + 400], server="198.51.100.77", port=1884)
    cfg = ("sensor_name: dns\nrules:\n  min_connections: 1\nprotocols:\n  mqtt:\n"
           "    ports: [1883, 1884]\n")
    ev = replay(cfg, pkts, "dns")
    s = {(e["src_ip"], e["dest_port"]): e for e in groups(ev, "summary")}
    g = s.get(("10.0.0.5", 1883), {})
    check("dns: the client that got the answer: dest_host broker.hivemq.com (through the CNAME)",
          g.get("dest_host") == "broker.hivemq.com", json.dumps(g)[:400])
    check("dns: public broker by its DNS name: details.public_broker and the reason",
          g.get("details", {}).get("public_broker") == "broker.hivemq.com" and
          "public MQTT broker broker.hivemq.com" in g.get("reasons", []), json.dumps(g)[:400])
    flows = [e for e in ev if e["event_type"] == "flow" and e["src_ip"] == "10.0.0.5" and
             e["dest_port"] == 1883]
    check("dns: its flows carry dest_host", len(flows) == 2 and
          all(f["dest_host"] == "broker.hivemq.com" for f in flows), json.dumps(flows)[:300])
    o = s.get(("10.0.0.6", 1883), {})
    check("dns: another client that saw no answer: dest_host null",
          o and o.get("dest_host") is None, json.dumps(o)[:300])
    st = [e for e in ev if e["event_type"] == "stats"]
    c = st[-1].get("counters", {}) if st else {}
    check("dns: stats count one response, one address, nothing malformed",
          c.get("dns_responses") == 1 and c.get("dns_addresses") == 1 and
          c.get("dns_malformed") == 0, json.dumps(c)[:400])
    late = s.get(("10.0.0.5", 1884), {})
    check("dns: after the record's TTL (300 s): dest_host null",
          late and late.get("dest_host") is None, json.dumps(late)[:300])


# --- the broker's name from DNS answers over TCP (RFC 7766) ---

DNS_TCP_MSG_MAX = 16384  # sensor/dnstcp.h SN_DNSTCP_MSG_MAX: the longest message read


def dns_answer(qname, records, pad_to=0):
    """A response to qname with records [(owner, type, rdata)]; a NULL record pads it
    to exactly pad_to bytes when pad_to is set.  Owners are written in full."""
    recs = [(dns_name(o), t, r) for o, t, r in records]
    hdr = struct.pack("!HHHHHH", 0x2222, 0x8180, 1, len(recs) + (1 if pad_to else 0), 0, 0)
    body = dns_name(qname) + struct.pack("!HH", 1, 1)
    body += b"".join(o + struct.pack("!HHIH", t, 1, 300, len(r)) + r for o, t, r in recs)
    if pad_to:
        fill = pad_to - len(hdr) - len(body) - 12
        body += b"\xc0\x0c" + struct.pack("!HHIH", 10, 1, 300, fill) + b"x" * fill
    msg = hdr + body
    assert not pad_to or len(msg) == pad_to
    return msg


def a_rec(addr):
    return bytes(int(x) for x in addr.split("."))


def framed(msg):
    return struct.pack("!H", len(msg)) + msg


def dns_tcp(t0, client, cport, stream, pieces=None, handshake=True, resolver="10.0.0.53"):
    """One TCP DNS connection: a query, then the server's `stream` as segments
    [(offset, length)] in the order given (default: 1400-byte segments in order);
    the client acknowledges the whole stream, both sides close."""
    c, s = 7000, 90000
    query = framed(dns_name("q.example") + b"\0\1\0\1")
    out = []

    def add(i, *args):
        out.append((t0 + i * 0.001, gen_pcap.frame(*args)))

    A, P, F, SYN = gen_pcap.ACK, gen_pcap.PSH, gen_pcap.FIN, gen_pcap.SYN
    if pieces is None:
        pieces = [(o, min(1400, len(stream) - o)) for o in range(0, len(stream), 1400)]
    if handshake:
        add(0, client, resolver, cport, 53, c, 0, SYN)
        add(1, resolver, client, 53, cport, s, c + 1, SYN | A)
        add(2, client, resolver, cport, 53, c + 1, s + 1, A)
    add(3, client, resolver, cport, 53, c + 1, s + 1, P | A, query)
    c2 = c + 1 + len(query)
    for i, (off, n) in enumerate(pieces):
        add(4 + i, resolver, client, 53, cport, s + 1 + off, c2, P | A, stream[off:off + n])
    k = 4 + len(pieces)
    end = s + 1 + len(stream)
    add(k, client, resolver, cport, 53, c2, end, A)
    add(k + 1, resolver, client, 53, cport, end, c2, F | A)
    add(k + 2, client, resolver, cport, 53, c2, end + 1, F | A)
    return out


def test_dns_tcp_names():
    hive = dns_answer("broker.hivemq.com", [
        ("broker.hivemq.com", 5, dns_name("edge.example-cdn.net")),
        ("edge.example-cdn.net", 5, dns_name("lb.example-cdn.net")),
        ("lb.example-cdn.net", 1, a_rec("198.51.100.71")),
        ("lb.example-cdn.net", 28, bytes.fromhex("20010db8000000000000000000000071"))])
    emqx = framed(dns_answer("broker.emqx.io", [("broker.emqx.io", 1, a_rec("198.51.100.72"))]))
    two = framed(dns_answer("one.example", [("one.example", 1, a_rec("198.51.100.73"))])) + \
        framed(dns_answer("two.example", [("two.example", 1, a_rec("198.51.100.74"))]))
    gap1 = framed(dns_answer("gap.example", [("gap.example", 1, a_rec("198.51.100.75"))]))
    gap = gap1 + framed(dns_answer("after-gap.example",
                                   [("after-gap.example", 1, a_rec("198.51.100.76"))]))
    late = framed(dns_answer("reordered.example", [("reordered.example", 1, a_rec("198.51.100.77"))]))
    bound = b"".join(framed(dns_answer(f"{n}.example", [(f"{n}.example", 1, a_rec(a))], pad_to=m))
                     for n, a, m in (("below", "198.51.100.78", DNS_TCP_MSG_MAX - 1),
                                     ("at", "198.51.100.79", DNS_TCP_MSG_MAX),
                                     ("above", "198.51.100.80", DNS_TCP_MSG_MAX + 1)))
    bound += framed(dns_answer("small.example", [("small.example", 1, a_rec("198.51.100.81"))]))
    mid = framed(dns_answer("midstream.example", [("midstream.example", 1, a_rec("198.51.100.82"))]))
    t = T0 - 30
    pkts = dns_tcp(t, "10.0.1.1", 50001, framed(hive))                       # one segment
    pkts += dns_tcp(t + 1, "10.0.1.2", 50002, emqx, [(0, 1), (1, 20), (21, len(emqx) - 21)])
    pkts += dns_tcp(t + 2, "10.0.1.3", 50003, two, [(0, len(two))])         # pipelined
    pkts += dns_tcp(t + 3, "10.0.1.4", 50004, gap,                          # bytes 15-29 lost
                    [(0, 15), (30, len(gap) - 30)])
    pkts += dns_tcp(t + 4, "10.0.1.5", 50005, late, [(25, len(late) - 25), (0, 25)])
    pkts += dns_tcp(t + 5, "10.0.1.6", 50006, bound)
    pkts += dns_tcp(t + 6, "10.0.1.7", 50007, mid, handshake=False)
    answered = [("10.0.1.1", "198.51.100.71", "broker.hivemq.com"),
                ("10.0.1.2", "198.51.100.72", "broker.emqx.io"),
                ("10.0.1.3", "198.51.100.73", "one.example"),
                ("10.0.1.3", "198.51.100.74", "two.example"),
                ("10.0.1.4", "198.51.100.75", None),
                ("10.0.1.4", "198.51.100.76", "after-gap.example"),
                ("10.0.1.5", "198.51.100.77", "reordered.example"),
                ("10.0.1.6", "198.51.100.78", "below.example"),
                ("10.0.1.6", "198.51.100.79", "at.example"),
                ("10.0.1.6", "198.51.100.80", None),
                ("10.0.1.6", "198.51.100.81", "small.example"),
                ("10.0.1.7", "198.51.100.82", None),
                ("10.0.1.2", "198.51.100.71", None)]  # another client's answer
    for i, (client, addr, _) in enumerate(answered):
        for port in (1883, 41883):  # the standard port, and one only the bytes reveal
            pkts += mqtt_conns([T0 + i, T0 + i + 100], client=client, server=addr, port=port)
    ev = replay("sensor_name: dnstcp\nrules:\n  min_connections: 1\n", pkts, "dns/tcp")
    s = {(e["src_ip"], e["dest_ip"], e["dest_port"]): e for e in groups(ev, "summary")}
    flows = [e for e in ev if e["event_type"] == "flow"]
    what = {"198.51.100.71": "one segment, CNAME chain of 2 to A and AAAA",
            "198.51.100.72": "length prefix split over 3 segments",
            "198.51.100.73": "first of 2 pipelined in one segment",
            "198.51.100.74": "second of 2 pipelined in one segment",
            "198.51.100.75": "a segment of it lost (client acknowledged it): no name",
            "198.51.100.76": "the next message after the lost bytes: read",
            "198.51.100.77": "segments captured out of order",
            "198.51.100.78": f"message of {DNS_TCP_MSG_MAX - 1} bytes",
            "198.51.100.79": f"message of {DNS_TCP_MSG_MAX} bytes (the bound)",
            "198.51.100.80": f"message of {DNS_TCP_MSG_MAX + 1} bytes: skipped, no name",
            "198.51.100.81": "the message after the skipped one: read",
            "198.51.100.82": "a connection picked up without its handshake: no name"}
    for client, addr, name in answered:
        for port in (1883, 41883):
            g = s.get((client, addr, port), {})
            fl = [f for f in flows if f["src_ip"] == client and f["dest_ip"] == addr and
                  f["dest_port"] == port]
            label = what.get(addr, "another client's answer: no name") if client != "10.0.1.2" \
                or addr != "198.51.100.71" else "another client's answer: no name"
            check(f"dns/tcp: {label}, port {port}: dest_host {name} on the group and its 2 flows",
                  g and g.get("dest_host") == name and len(fl) == 2 and
                  all(f.get("dest_host") == name for f in fl),
                  json.dumps([g.get("dest_host")] + [f.get("dest_host") for f in fl]))
    g = s.get(("10.0.1.1", "198.51.100.71", 1883), {})
    check("dns/tcp: public broker by a name read over TCP: details.public_broker",
          g.get("details", {}).get("public_broker") == "broker.hivemq.com", json.dumps(g)[:300])
    st = [e for e in ev if e["event_type"] == "stats"]
    c = st[-1].get("counters", {}) if st else {}
    want = {"dns_tcp_messages": 9, "dns_tcp_truncated": 1, "dns_tcp_gaps": 1,
            "dns_tcp_evicted": 0, "dns_tcp_unaligned": 1, "dns_responses": 9,
            "dns_addresses": 10, "dns_malformed": 0, "dns_replaced": 0}
    got = {k: c.get(k) for k in want}
    check("dns/tcp: counters " + ", ".join(f"{k} {v}" for k, v in want.items()), got == want,
          json.dumps(got))


# --- allow lists: server name, client id, source network (process: unit tests) ---

def test_allow_lists():
    cases = [
        ("allow_server_names: [hivemq.com]", tls_conns("broker.hivemq.com", "198.51.100.9"),
         "rules.allow_server_names[0]"),
        ("allow_client_ids: ['^nothing$', '^DEV[0-9]+$']",
         mqtt_conns([T0, T0 + 5], server="198.51.100.9"), "rules.allow_client_ids[1]"),
        ("allow_sources: [10.0.0.0/24]", mqtt_conns([T0, T0 + 5], server="198.51.100.9"),
         "rules.allow_sources[0]"),
    ]
    for line, pkts, by in cases:
        ev = replay(f"sensor_name: allow\nrules:\n  {line}\n", pkts, f"allow/{by}")
        s = groups(ev, "summary")
        check(f"allow/{by}: no alert, one summary naming the entry, counted",
              not groups(ev, "alert") and len(s) == 1 and s[0].get("allowed_by") == by and
              s[0]["ConnectionCount"] == 2, json.dumps(groups(ev))[:400])
        ev = replay("sensor_name: allow\n", pkts, f"allow/{by} control")
        check(f"allow/{by} control: without the list the same capture alerts",
              len(groups(ev, "alert")) == 1, json.dumps(groups(ev))[:300])


TESTS = [test_beacons, test_message_beacons, test_command_channels, test_command_destinations,
         test_payload_bytes, test_public_broker, test_dns_names, test_dns_tcp_names,
         test_allow_lists]


def main():
    for t in TESTS:
        t()
    print(f"intel: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
