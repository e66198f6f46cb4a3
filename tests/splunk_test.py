#!/usr/bin/python3
"""splunk_test.py - the Splunk add-on in packaging/splunk/TA-pubsub-sensor.

Parses every .conf file as Splunk does (stanzas, key = value, backslash
continuation lines) and runs the syntax checks Splunk's AppInspect runs on
an add-on: only known files in default/, no local/ and no local.meta, no
duplicate stanzas or keys, no key outside a stanza, UTF-8 without BOM and
LF line endings, app.conf's id/version/label, tags only enabled/disabled on
defined eventtypes, inputs disabled.  Then checks the add-on against the
sensor: TRUNCATE covers the longest event the sensor can write, TIME_PREFIX
and TIME_FORMAT give back every event's "timestamp" of a real replay, every
field the saved searches read exists in tests/spec/events.schema.json for
the event type they search, the original search equals the one quoted in
README, and `make splunk-app` builds an archive holding exactly the app.

Usage: splunk_test.py --sensor ./pubsub-sensor
Prints "splunk: N passed, M failed".
"""
import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
APP = os.path.join(TOP, "packaging", "splunk", "TA-pubsub-sensor")
KNOWN_CONFS = {"app.conf", "inputs.conf", "props.conf", "eventtypes.conf", "tags.conf",
               "savedsearches.conf", "transforms.conf"}


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def expect(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL {what}")
        return ok


def parse_conf(path, c):
    """Returns [(stanza, {key: value})] in file order; reports syntax errors."""
    name = os.path.relpath(path, APP)
    raw = open(path, "rb").read()
    c.expect(not raw.startswith(b"\xef\xbb\xbf"), f"{name}: no byte order mark")
    c.expect(b"\r" not in raw, f"{name}: LF line endings")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        c.expect(False, f"{name}: UTF-8")
        return []
    lines = text.split("\n")
    for n, line in enumerate(lines, 1):
        c.expect(not re.search(r"\\[ \t]+$", line), f"{name}:{n}: whitespace after a backslash (the line does not continue)")
    stanzas, cur, seen = [], None, set()
    i = 0
    ok = True
    while i < len(lines):
        line, lineno = lines[i], i + 1
        i += 1
        # continuation: a value line ending in a backslash goes on
        while line.endswith("\\") and i < len(lines):
            line = line[:-1] + "\n" + lines[i]
            i += 1
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if s.startswith("["):
            if not s.endswith("]"):
                ok = c.expect(False, f"{name}:{lineno}: unterminated stanza {s!r}")
                continue
            st = s[1:-1]
            ok &= c.expect(st not in seen, f"{name}:{lineno}: duplicate stanza [{st}]")
            seen.add(st)
            cur = (st, {})
            stanzas.append(cur)
            continue
        m = re.match(r"^([A-Za-z0-9_.:\-]+)\s*=\s?(.*)$", line, re.S)
        if not m:
            ok &= c.expect(False, f"{name}:{lineno}: not 'key = value': {s!r}")
            continue
        if cur is None:
            ok &= c.expect(False, f"{name}:{lineno}: key {m.group(1)} outside a stanza")
            continue
        key, val = m.group(1), m.group(2).strip()
        ok &= c.expect(key not in cur[1], f"{name}:{lineno}: duplicate key {key} in [{cur[0]}]")
        cur[1][key] = val
    c.expect(ok, f"{name}: syntax")
    return stanzas


def spl_fields(search):
    """(field, segment) pairs the search reads before it defines them, and the
    fields each segment keeps: a crude SPL reader, enough for our searches."""
    search = search.replace("\n", " ")
    segs, cur, q = [], "", False
    for ch in search:
        if ch == '"':
            q = not q
        if ch == "|" and not q:
            segs.append(cur)
            cur = ""
        else:
            cur += ch
    segs.append(cur)
    words = {"index", "sourcetype", "eval", "stats", "where", "sort", "table", "count", "AS",
             "by", "AND", "OR", "NOT", "IN", "case", "if", "like", "true", "sum", "earliest",
             "latest", "values", "min", "max", "dc", "null", "coalesce", "mvindex"}
    out = []
    for seg in segs:
        seg = seg.strip()
        body = re.sub(r'"[^"]*"', " ", seg)
        cmd = body.split()[0] if body.split() else ""
        defined = set(re.findall(r"\bAS\s+([A-Za-z_][A-Za-z0-9_]*)", body))
        if cmd == "eval":
            defined |= set(re.findall(r"^eval\s+([A-Za-z_][A-Za-z0-9_]*)\s*=", body))
        reads = []
        for m in re.finditer(r"[A-Za-z_][A-Za-z0-9_]*(\{\})?", body):
            w = m.group(0)
            after = body[m.end():].lstrip()
            if w in words or w == cmd or after.startswith("("):
                continue
            if re.fullmatch(r"[0-9]+", w):
                continue
            prev = body[:m.start()].rstrip()
            if prev.endswith("=") and not prev.endswith(("==", "!=")):
                continue  # field=value: a literal
            if prev.endswith("AS"):
                continue
            if cmd == "eval" and re.match(r"^eval\s+$", body[:m.start()]):
                continue
            reads.append(w)
        byf = []
        if cmd == "stats" and " by " in body:
            byf = [f.strip() for f in body.split(" by ", 1)[1].split(",")]
        out.append((cmd, seg, reads, defined, byf))
    return out


def schema_fields(schema, event_type):
    props = set(schema["properties"])
    d = schema["$defs"]
    if event_type == "flow":
        props |= set(d["flow"]["properties"])
    elif event_type in ("alert", "update", "summary"):
        props |= set(d["group"]["properties"])
    return props


def check_search_fields(c, title, search, schema):
    m = re.search(r"\bevent_type=(\w+)", search)
    if not c.expect(m, f"[{title}] searches one event_type"):
        return
    avail = schema_fields(schema, m.group(1))
    # what the add-on itself adds at search time (props.conf EVAL/FIELDALIAS)
    avail |= {"_time", "src", "dest", "user", "severity", "dvc", "bytes", "packets", "vendor_product"}
    missing = []
    for cmd, seg, reads, defined, byf in spl_fields(search):
        for w in reads:
            base = w[:-2] if w.endswith("{}") else w
            if base not in avail and w not in avail:
                missing.append(f"{w} (in '{seg[:40]}...')")
        if cmd == "stats":
            avail = set(defined) | set(byf)   # stats keeps only its outputs
        elif cmd == "table":
            avail = set(reads)
        else:
            avail |= defined
    c.expect(not missing, f"[{title}] fields not in the schema: {missing}")


def check_timestamps(c, props, sensor):
    st = props["pubsub:sensor"]
    fmt = st["TIME_FORMAT"].replace("%6N", "%f")
    prefix = re.compile(st["TIME_PREFIX"].replace("\\{", "{").replace("{", "\\{"))
    look = int(st.get("MAX_TIMESTAMP_LOOKAHEAD", "128"))
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "e.json")
        subprocess.run([sensor, "-r", os.path.join(TOP, "pcaps", "demo.pcap"), "-o", log,
                        "--flows", "--no-table"], check=True, stderr=subprocess.DEVNULL)
        lines = open(log, encoding="utf-8").read().splitlines()
    bad, longest = [], 0
    for line in lines:
        longest = max(longest, len(line.encode()))
        ev = json.loads(line)
        m = prefix.search(line)
        if not m:
            bad.append("no TIME_PREFIX match")
            continue
        text = line[m.end():m.end() + look]
        try:
            t, rest = datetime.datetime.strptime(text[:27], fmt), text[27:]
        except ValueError as e:
            bad.append(str(e))
            continue
        want = datetime.datetime.strptime(ev["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ")
        if t != want:
            bad.append(f"{t} != {want}")
    c.expect(len(lines) > 10 and not bad, f"TIME_PREFIX/TIME_FORMAT give each timestamp ({len(lines)} events): {bad[:3]}")
    hdr = open(os.path.join(TOP, "sensor", "events.h"), encoding="utf-8").read()
    cap = int(re.search(r"#define SN_EVENT_LINE_MAX (\d+)", hdr).group(1))
    c.expect(int(st["TRUNCATE"]) >= cap >= longest, f"TRUNCATE {st['TRUNCATE']} >= event buffer {cap} >= longest event {longest}")


def readme_search():
    text = open(os.path.join(TOP, "README.md"), encoding="utf-8").read()
    m = re.search(r"## Flow events and the original search.*?```\n(.*?)```", text, re.S)
    return m.group(1).strip() if m else ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sensor", default="./pubsub-sensor")
    a = ap.parse_args()
    c = Checks()
    schema = json.load(open(os.path.join(HERE, "spec", "events.schema.json"), encoding="utf-8"))

    # layout
    c.expect(not os.path.exists(os.path.join(APP, "local")), "no local/ directory")
    c.expect(not os.path.exists(os.path.join(APP, "metadata", "local.meta")), "no metadata/local.meta")
    c.expect(os.path.isfile(os.path.join(APP, "metadata", "default.meta")), "metadata/default.meta")
    for root, dirs, files in os.walk(APP):
        for f in files + dirs:
            p = os.path.join(root, f)
            c.expect(not f.startswith(".") and not f.endswith((".pyc", "~")), f"no hidden or stray file {p}")
            if os.path.isfile(p):
                c.expect(not os.access(p, os.X_OK), f"{p} not executable")
    confs = {}
    for f in sorted(os.listdir(os.path.join(APP, "default"))):
        c.expect(f in KNOWN_CONFS, f"default/{f} is a known .conf")
        confs[f] = dict(parse_conf(os.path.join(APP, "default", f), c))
    parse_conf(os.path.join(APP, "metadata", "default.meta"), c)

    # app.conf
    app = confs.get("app.conf", {})
    ver = re.search(r"^VERSION := (\S+)", open(os.path.join(TOP, "Makefile")).read(), re.M).group(1)
    c.expect(app.get("package", {}).get("id") == "TA-pubsub-sensor", "app.conf [package] id is the directory name")
    c.expect(app.get("id", {}).get("name") == "TA-pubsub-sensor", "app.conf [id] name")
    c.expect(app.get("launcher", {}).get("version") == ver == app.get("id", {}).get("version"), f"app.conf version {ver}")
    c.expect(bool(app.get("ui", {}).get("label")), "app.conf [ui] label")
    c.expect(app.get("install", {}).get("is_configured") in ("false", "0"), "app.conf is_configured false")

    # inputs.conf: disabled monitor of the event log
    inputs = confs.get("inputs.conf", {})
    mons = [s for s in inputs if s.startswith("monitor://")]
    c.expect(mons == ["monitor:///var/log/pubsub-sensor/events.json"], f"inputs monitor the default event log: {mons}")
    for s in mons:
        c.expect(inputs[s].get("disabled") in ("true", "1"), f"[{s}] disabled")
        c.expect(inputs[s].get("sourcetype") == "pubsub:sensor", f"[{s}] sourcetype")
    cfg = open(os.path.join(TOP, "config", "pubsub-sensor.yaml")).read()
    c.expect('event_log: "/var/log/pubsub-sensor/events.json"' in cfg, "monitored path is the shipped config's event_log")

    # props.conf
    props = confs.get("props.conf", {})
    st = props.get("pubsub:sensor", {})
    c.expect(st.get("SHOULD_LINEMERGE") == "false", "one event per line (SHOULD_LINEMERGE = false)")
    c.expect((st.get("KV_MODE") == "json") != (st.get("INDEXED_EXTRACTIONS") == "json"),
             "exactly one of KV_MODE=json or INDEXED_EXTRACTIONS=json (never both: fields twice)")
    c.expect(st.get("TIME_FORMAT") == "%Y-%m-%dT%H:%M:%S.%6NZ", "TIME_FORMAT with microseconds")
    c.expect(st.get("TZ") == "UTC", "TZ = UTC")
    for k in st:
        if k.startswith(("FIELDALIAS-", "EVAL-")):
            c.expect(re.fullmatch(r"(FIELDALIAS|EVAL)-[A-Za-z0-9_]+", k) is not None, f"props class name {k}")
    for k, v in st.items():
        if k.startswith("FIELDALIAS-"):
            parts = v.split()
            ok = len(parts) % 3 == 0 and all(parts[i + 1] == "AS" for i in range(0, len(parts), 3))
            c.expect(ok, f"{k}: 'field AS alias' pairs")
            for i in range(0, len(parts), 3):
                c.expect(parts[i] in schema_fields(schema, "flow") | schema_fields(schema, "alert"),
                         f"{k}: source field {parts[i]} in the schema")
    check_timestamps(c, props, a.sensor)

    # eventtypes and tags: flow -> Network_Traffic, alert -> Intrusion_Detection
    et = confs.get("eventtypes.conf", {})
    tags = confs.get("tags.conf", {})
    for s, kv in et.items():
        c.expect("search" in kv, f"eventtype {s} has a search")
    for s, kv in tags.items():
        c.expect(s.startswith("eventtype=") and s[len("eventtype="):] in et, f"tags [{s}] names a defined eventtype")
        for k, v in kv.items():
            c.expect(v in ("enabled", "disabled"), f"tags [{s}] {k} = enabled|disabled")
    flow_et = [s for s, kv in et.items() if "event_type=flow" in kv.get("search", "")]
    alert_et = [s for s, kv in et.items() if "event_type=alert" in kv.get("search", "")]
    c.expect(len(flow_et) == 1 and {"network", "communicate"} <= set(tags.get("eventtype=" + flow_et[0], {})),
             "flow events tagged network + communicate (Network_Traffic)")
    c.expect(len(alert_et) == 1 and {"ids", "attack"} <= set(tags.get("eventtype=" + alert_et[0], {})),
             "alert events tagged ids + attack (Intrusion_Detection)")

    # saved searches
    ss = confs.get("savedsearches.conf", {})
    c.expect(len(ss) == 2, f"two saved searches: {list(ss)}")
    flows_search = [kv["search"] for kv in ss.values() if "event_type=flow" in kv.get("search", "")]
    summ_search = [kv["search"] for kv in ss.values() if "event_type=summary" in kv.get("search", "")]
    c.expect(len(flows_search) == 1 and len(summ_search) == 1, "one search over flows, one over summaries")
    for title, kv in ss.items():
        c.expect(kv.get("search", "").startswith("index="), f"[{title}] search starts with index=")
        c.expect(kv.get("enableSched", "0") in ("0", "1"), f"[{title}] enableSched boolean")
        check_search_fields(c, title, kv.get("search", ""), schema)
    if flows_search:
        norm = lambda s: re.sub(r"\s+", " ", s).strip()
        c.expect(norm(flows_search[0]) == norm(readme_search()), "the flow search is the one README quotes")
        for piece in ("dest_port IN (1883, 8883, 5222, 5223, 5269, 5672, 5671, 61613, 61614)", "action=allowed",
                      "sum(bytes_out)", "sum(bytes_in)", "values(src_user)",
                      "by src_ip, dest_ip, dest_port, Protocol, IsExternal, process_name",
                      "where ConnectionCount > 1", "sort Suspicion, - ConnectionCount"):
            c.expect(piece in flows_search[0], f"the flow search keeps the original's '{piece}'")
    if summ_search:
        c.expect(re.search(r"latest\(.*by sensor,", summ_search[0]) is not None, "summaries: latest per sensor and group")
        c.expect("sum(ConnectionCount)" in summ_search[0], "summaries: summed across sensors")

    # make splunk-app
    r = subprocess.run(["make", "-s", "splunk-app"], cwd=TOP, capture_output=True, text=True)
    tgz = os.path.join(TOP, "build", "TA-pubsub-sensor-%s.tgz" % ver)
    if c.expect(r.returncode == 0 and os.path.isfile(tgz), f"make splunk-app builds {tgz}: {r.stderr.strip()}"):
        with tarfile.open(tgz) as t:
            names = t.getnames()
            members = t.getmembers()
        want = set()
        for root, dirs, files in os.walk(APP):
            for f in files:
                want.add(os.path.relpath(os.path.join(root, f), os.path.dirname(APP)))
        got = {n for n, m in zip(names, members) if m.isfile()}
        c.expect(got == want, f"archive holds exactly the app's files: {sorted(got ^ want)}")
        c.expect(all(n.split("/")[0] == "TA-pubsub-sensor" and not n.startswith("/") and ".." not in n for n in names),
                 "archive paths all under TA-pubsub-sensor/")
        c.expect(all(m.uid == 0 and m.gid == 0 for m in members), "archive owned by root (no build user leaks)")

    print(f"splunk: {c.passed} passed, {c.failed} failed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
