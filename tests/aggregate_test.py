#!/usr/bin/python3
"""aggregate_test.py - the aggregator's judgement over real captures.

Replays the shared captures under small configurations and checks the
group events against what the captures hold and the contract says:
refuted connections (rules.refuted: count, demote, ignore), allow-listed
users in every protocol, and groups that span the group window in replay.
Every event must validate against tests/spec/events.schema.json.
Prints "aggregate: N passed, M failed" and exits non-zero on a failure.
"""
import json
import os
import subprocess
import sys
import tempfile

import jsonschema

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_pcap  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
SENSOR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(TOP, "pubsub-sensor")
PCAPS = os.path.join(TOP, "pcaps")

with open(os.path.join(HERE, "spec", "events.schema.json"), encoding="utf-8") as f:
    VALIDATOR = jsonschema.Draft202012Validator(json.load(f))

passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name}" + (f": {detail}" if detail else ""))


def replay(config, pcaps, table=False):
    """Runs the sensor; returns (events, table text).  Every event is validated."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "c.yaml")
        log = os.path.join(tmp, "events.json")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write(config)
        cmd = [SENSOR, "-c", cfg, "-o", log, "--flows"]
        for p in pcaps:
            cmd += ["-r", p if os.path.isabs(p) else os.path.join(PCAPS, p)]
        cmd.append("--table" if table else "--no-table")
        p = subprocess.run(cmd, capture_output=True, timeout=60, check=False)
        with open(log, encoding="utf-8") if os.path.exists(log) else open(os.devnull) as f:
            events = [json.loads(line) for line in f if line.strip()]
    bad = [e for e in events if not VALIDATOR.is_valid(e)]
    check(f"exit 0 and schema-valid events ({' '.join(os.path.basename(x) for x in pcaps)})",
          p.returncode == 0 and not bad and events,
          p.stderr.decode()[-300:] if p.returncode else
          (next(iter(VALIDATOR.iter_errors(bad[0]))).message if bad else "no events"))
    return events, p.stdout.decode("utf-8", "replace")


def ran(events):
    """The replay ended with its stats event: a check that something is
    absent means nothing unless the run itself completed."""
    return bool(events) and events[-1].get("event_type") == "stats"


def groups(events, kind=None):
    return [e for e in events if e["event_type"] in ("alert", "update", "summary")
            and (kind is None or e["event_type"] == kind)]


LOW1 = "rules:\n  min_connections: 1\n  min_suspicion: low\n"

# --- item: refuted connections (HTTP on STOMP's port 61613, two connections) ---

def test_refuted():
    ev, _ = replay(LOW1, ["neg-http-on-61613-curl.pcap"])
    s = groups(ev, "summary")
    check("refuted/count: one summary, evidence refuted", len(s) == 1 and
          s[0]["evidence"] == "refuted" and s[0]["ConnectionCount"] == 2, json.dumps(s)[:400])
    if s:
        r = s[0]["reasons"]
        check("refuted/count: one reason about the payload, none saying nothing refuted it",
              "port 61613 but payload is not STOMP" in r and
              not any("no payload confirmed or refuted" in x for x in r), str(r))
        check("refuted/count: rated as the search does (internal STOMP: medium)",
              s[0]["Suspicion"] == "medium", s[0]["Suspicion"])
    ev, _ = replay(LOW1 + "  refuted: demote\n", ["neg-http-on-61613-curl.pcap"])
    s = groups(ev, "summary")
    check("refuted/demote: one step lower (low) with a reason",
          len(s) == 1 and s[0]["Suspicion"] == "low" and
          any("rules.refuted: demote" in x for x in s[0]["reasons"]), json.dumps(s)[:400])
    ev, _ = replay("rules:\n  refuted: demote\n", ["neg-http-on-61613-curl.pcap"])
    check("refuted/demote: no alert at the default min_suspicion medium", ran(ev) and not groups(ev))
    ev, _ = replay(LOW1 + "  refuted: ignore\n", ["neg-http-on-61613-curl.pcap"])
    flows = [e for e in ev if e["event_type"] == "flow"]
    check("refuted/ignore: no group, both flows still written",
          not groups(ev) and len(flows) == 2 and all(f["evidence"] == "refuted" for f in flows),
          f"{len(groups(ev))} group events, {len(flows)} flows")


# --- item: allow_users in every protocol (c2user logs in to AMQP and STOMP) ---

ALLOW = [("amqp091-pika-userpass-5672.pcap", "c2user"), ("amqp091-nonstd-port-5673-pika.pcap", "c2user"),
         ("stomp12-stomppy-activemq-61613.pcap", "c2user")]


def test_allow_users():
    for pcap, user in ALLOW:
        for cfg in ("", "  min_connections: 1\n  min_suspicion: low\n"):
            ev, _ = replay(f"rules:\n  allow_users: [nobody, {user}]\n" + cfg, [pcap])
            flows = [e for e in ev if e["event_type"] == "flow"]
            a, s = groups(ev, "alert") + groups(ev, "update"), groups(ev, "summary")
            check(f"allow/{pcap} ({'any' if cfg else 'default'} thresholds): no alert or update",
                  ran(ev) and not a, json.dumps(a)[:300] if a else "the replay did not finish")
            check(f"allow/{pcap}: one summary naming rules.allow_users[1], counted whole",
                  len(s) == 1 and s[0].get("allowed_by") == "rules.allow_users[1]" and
                  s[0]["Users"] == [user] and s[0]["ConnectionCount"] == len(flows) == 2 and
                  s[0]["BytesSent"] == sum(f["BytesSent"] for f in flows) and
                  s[0]["BytesReceived"] == sum(f["BytesReceived"] for f in flows) and
                  sorted(s[0]["flow_ids"]) == sorted(f["flow_id"] for f in flows),
                  json.dumps(s)[:500])
    # `report` over summaries only: an allowed group's summary is not a row
    with tempfile.TemporaryDirectory() as tmp:
        log, cfg = os.path.join(tmp, "a.json"), os.path.join(tmp, "low.yaml")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write(LOW1 + "  allow_users: [c2user]\n")
        subprocess.run([SENSOR, "-c", cfg, "-r", os.path.join(PCAPS, ALLOW[0][0]), "-o", log,
                        "--no-flows", "--no-table"], capture_output=True, timeout=60, check=False)
        r = subprocess.run([SENSOR, "report", "-c", cfg, log], capture_output=True,
                           timeout=60, check=False)
        out = r.stdout.decode()
        check("allow: report over summaries shows no row for the allowed group",
              r.returncode == 0 and "c2user" not in out and "no group met the rule" in out, out)
    # without the allow list the same capture alerts, with the same figures
    ev, _ = replay(LOW1, ["amqp091-pika-userpass-5672.pcap"])
    s = groups(ev, "summary")
    check("allow: without the list the AMQP capture alerts (control)",
          groups(ev, "alert") and len(s) == 1 and "allowed_by" not in s[0] and
          s[0]["Users"] == ["c2user"], json.dumps(s)[:300])


# --- item: groups across windows (five XMPP connections over five months) ---

XMPP_HELLO = (b"<?xml version='1.0'?><stream:stream to='chat.example.net' xmlns='jabber:client' "
              b"xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>")
XMPP_REPLY = (b"<?xml version='1.0'?><stream:stream from='chat.example.net' id='x1' "
              b"xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
              b"version='1.0'>")
MONTH = 30 * 86400


def test_groups_span_the_replay():
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, "months.pcap")
        pkts = []
        for i in range(5):
            pkts += gen_pcap.conversation(1767225600 + i * MONTH, "10.0.0.5", "198.51.100.9",
                                          40000 + i, 5222, XMPP_HELLO, XMPP_REPLY)
        gen_pcap.write_pcap(pcap, pkts)
        # the shipped defaults: min_connections 2, min_suspicion medium, one-day window
        ev, table = replay("sensor_name: months\n", [pcap], table=True)
    a, s = groups(ev, "alert"), groups(ev, "summary")
    check("windows: five connections months apart alert in replay (one group)",
          len(a) == 1 and a[0]["ConnectionCount"] == 2 and a[0]["Suspicion"] == "high",
          json.dumps(a)[:300])
    check("windows: one summary over the whole replay, 5 connections, FirstSeen to LastSeen",
          len(s) == 1 and s[0]["ConnectionCount"] == 5 and
          s[0]["FirstSeen"].startswith("2026-01-01") and s[0]["LastSeen"].startswith("2026-05-01"),
          json.dumps(s)[:400])
    rows = [l for l in table.splitlines() if "198.51.100.9" in l]
    check("windows: the table has one row with the 5 connections",
          len(rows) == 1 and " 5 " in rows[0], table[-500:])


def main():
    for name, fn in sorted(globals().items()):
        if name.startswith("test_") and callable(fn):
            fn()
    print(f"aggregate: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
