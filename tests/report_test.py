#!/usr/bin/python3
"""report_test.py - `pubsub-sensor report` over several sensors' logs.

1. Two sensors: pcaps/demo.pcap split by connection (tests/split-pcap.py
   --by-connection) into two captures, replayed as sensor_name a and b with
   flow events on; `report` over both logs (one of them gzip'd) must give
   exactly the groups one replay of the whole capture alerts on (key,
   ConnectionCount, bytes, FirstSeen, LastSeen, Users, Suspicion), each split
   group naming both sensors, and print the replay's own table line for line.
   Neither sensor alone sees every group: the merge is what finds them.
2. Logs without flow events (--no-flows): the latest summary per sensor and
   group, summed across sensors.
3. CSV and HTML escaping: a hand-made log whose user names and process name
   are a spreadsheet formula and markup: CSV cells get a leading ', the page
   holds no raw markup from the log.
4. HTML in headless Chromium (Debian's chromium): the page loads with no
   console error (checked to catch one on a page that throws), makes no
   network request (Content-Security-Policy), and every group is in the DOM
   (rows, timeline, bytes chart, reasons); a screenshot is kept in
   build/test-artifacts/report.png.
5. Errors: no log, an unreadable log, a bad --format.

Prints "report: N passed, M failed[, K skipped]".
"""
import argparse
import gzip
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
ARTIFACTS = os.path.join(TOP, "build", "test-artifacts")


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


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=120, **kw)


def events(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(x) for x in f if x.strip()]


def key(e):
    return (e["src_ip"], e["dest_ip"], e["dest_port"], e["Protocol"], e["IsExternal"], e["process_name"])


def alerted_groups(evs):
    """The groups a replay alerted on, with their final (summary) figures."""
    alerted = {key(e) for e in evs if e["event_type"] == "alert"}
    final = {}
    for e in evs:
        if e["event_type"] == "summary" and key(e) in alerted:
            final[key(e)] = e
    return final


FIELDS = ("ConnectionCount", "BytesSent", "BytesReceived", "FirstSeen", "LastSeen", "Users", "Suspicion")


def table_rows(text):
    return [line for line in text.splitlines() if re.match(r"^\d{4}-\d\d-\d\d ", line)]


def part_two_sensors(c, sensor, tmp):
    a, b = os.path.join(tmp, "a.pcap"), os.path.join(tmp, "b.pcap")
    r = run(["/usr/bin/python3", os.path.join(HERE, "split-pcap.py"), "--by-connection",
             os.path.join(TOP, "pcaps", "demo.pcap"), a, b])
    c.expect(r.returncode == 0, f"split-pcap.py --by-connection: {r.stderr}")
    logs = {}
    for name, pcap in (("a", a), ("b", b), ("whole", os.path.join(TOP, "pcaps", "demo.pcap"))):
        cfg = os.path.join(tmp, f"{name}.yaml")
        with open(cfg, "w") as f:
            f.write(f"sensor_name: {name}\noutput:\n  flows: true\n")
        log = os.path.join(tmp, f"{name}.json")
        r = run([sensor, "-c", cfg, "-r", pcap, "-o", log])
        c.expect(r.returncode == 0, f"replay {name}: {r.stderr}")
        logs[name] = (log, r.stdout)
    with open(logs["b"][0], "rb") as f, gzip.open(logs["b"][0] + ".gz", "wb") as g:
        g.write(f.read())
    inputs = [logs["a"][0], logs["b"][0] + ".gz"]

    whole = alerted_groups(events(logs["whole"][0]))
    only_a = alerted_groups(events(logs["a"][0]))
    only_b = alerted_groups(events(logs["b"][0]))
    flows_a = [e for e in events(logs["a"][0]) if e["event_type"] == "flow"]
    flows_b = [e for e in events(logs["b"][0]) if e["event_type"] == "flow"]
    c.expect(flows_a and flows_b, f"both sensors saw connections ({len(flows_a)}, {len(flows_b)})")
    c.expect(len(whole) >= 9, f"the whole capture alerts on {len(whole)} groups")
    c.expect(len(only_a) + len(only_b) < len(whole),
             f"no single sensor sees every group (a {len(only_a)}, b {len(only_b)}, whole {len(whole)})")

    r = run([sensor, "report", "--format", "json"] + inputs)
    c.expect(r.returncode == 0, f"report --format json exits 0: {r.stderr}")
    rows = json.loads(r.stdout) if r.returncode == 0 else []
    got = {key(x): x for x in rows}
    c.expect(set(got) == set(whole), f"report's groups equal the whole replay's: only report {set(got) - set(whole)}, "
                                     f"only replay {set(whole) - set(got)}")
    for k in set(got) & set(whole):
        diff = [f for f in FIELDS if got[k][f] != whole[k][f]]
        c.expect(not diff, f"group {k}: {[(f, got[k][f], whole[k][f]) for f in diff]}")
        sensors_of_conns = sorted({x["sensor"] for x in got[k]["connections"]})
        c.expect(got[k]["sensors"] == sensors_of_conns and len(got[k]["connections"]) == got[k]["ConnectionCount"],
                 f"group {k}: connections {len(got[k]['connections'])} from sensors {got[k]['sensors']}")
    split = [k for k in got if got[k]["sensors"] == ["a", "b"]]
    c.expect(len(split) >= 5, f"groups split across both sensors come out whole: {len(split)}")

    r = run([sensor, "report"] + inputs)
    c.expect(r.returncode == 0 and table_rows(r.stdout) == table_rows(logs["whole"][1]) and table_rows(r.stdout),
             "report's table is the whole replay's table, row for row")
    c.expect(r.stdout.splitlines()[0] == logs["whole"][1].splitlines()[0], "same table header")

    # 2. summaries only: two sensors (two taps) that both saw the whole capture,
    # without flow events: the latest summary of each sensor, summed
    for name in ("a", "b"):
        log = os.path.join(tmp, f"{name}-noflows.json")
        run([sensor, "-c", os.path.join(tmp, f"{name}.yaml"), "-r", os.path.join(TOP, "pcaps", "demo.pcap"),
             "-o", log, "--no-flows", "--no-table"])
    na, nb = os.path.join(tmp, "a-noflows.json"), os.path.join(tmp, "b-noflows.json")
    r = run([sensor, "report", "--format", "json", na, nb, na])  # a twice: still its latest summary once
    srows = {key(x): x for x in json.loads(r.stdout)} if r.returncode == 0 else {}
    c.expect(r.returncode == 0 and srows, f"report over summaries only: {r.stderr}")
    c.expect(all(x["source"] == "summaries" and x["sensors"] == ["a", "b"] for x in srows.values()),
             "rows come from both sensors' summaries")
    c.expect(set(srows) == set(whole), f"summed summaries give the replay's groups ({len(srows)} vs {len(whole)})")
    for k in set(srows) & set(whole):
        diff = [f for f in ("ConnectionCount", "BytesSent", "BytesReceived") if srows[k][f] != 2 * whole[k][f]]
        diff += [f for f in ("FirstSeen", "LastSeen", "Suspicion", "Users") if srows[k][f] != whole[k][f]]
        c.expect(not diff, f"summed group {k}: {diff}")
    return inputs, rows


def hostile_log(path):
    base = {"timestamp": "2026-11-28T01:00:01.000000Z", "event_type": "flow", "sensor": "<script>alert(1)</script><b>1</b>\x1b]0;t\x07",
            "src_ip": "10.1.1.1", "dest_ip": "203.0.113.9", "dest_port": 1883, "Protocol": "MQTT",
            "IsExternal": "yes", "process_name": "=cmd|' /C calc'!A0", "PacketsSent": 3, "PacketsReceived": 2,
            "evidence": "payload", "client_ids": ["<img src=x onerror=alert(1)>"], "details": {}, "close": "fin",
            "transport": "tcp", "app": "mqtt", "action": "allowed"}
    lines = []
    for i, user in enumerate(["=HYPERLINK(\"http://evil\")", "@SUM(1+1)"]):
        e = dict(base, src_port=40000 + i, Users=[user], src_user=user, BytesSent=100, BytesReceived=50,
                 bytes_out=100, bytes_in=50, FirstSeen=f"2026-11-28T01:00:0{i}.000000Z",
                 LastSeen=f"2026-11-28T01:00:0{i}.500000Z")
        lines.append(json.dumps(e))
    lines.append("not json at all")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def part_escaping(c, sensor, tmp):
    log = os.path.join(tmp, "hostile.json")
    hostile_log(log)
    r = run([sensor, "report", "--format", "csv", log])
    c.expect(r.returncode == 0, f"report csv over a hostile log: {r.stderr}")
    c.expect("\"'=cmd|' /C calc'!A0\"" in r.stdout, "CSV: a process name starting with = gets a leading '")
    c.expect("\"'=HYPERLINK(\"\"http://evil\"\"),@SUM(1+1)\"" in r.stdout,
             f"CSV: a users cell starting with = gets a leading ', quotes doubled: {r.stdout}")
    c.expect("\x1b" not in r.stdout and "\x07" not in r.stdout and "\\x1b]0;t\\x07" in r.stdout,
             "CSV: control characters from the log are spelled out, never raw")
    c.expect("1 lines were not events" in r.stderr, f"a line that is not JSON is counted: {r.stderr.strip()}")
    page = os.path.join(tmp, "hostile.html")
    r = run([sensor, "report", "--format", "html", "-o", page, log])
    text = open(page, encoding="utf-8").read() if r.returncode == 0 else ""
    c.expect(r.returncode == 0 and "&lt;script&gt;alert(1)&lt;/script&gt;" in text, "HTML: markup from the log is escaped")
    c.expect("<script>alert" not in text and "<b>1</b>" not in text and "<img" not in text,
             "HTML: no raw markup from the log")
    return page


class DomGroups(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.conns, self.bars, self.why, self.ids = 0, 0, 0, 0, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = a.get("class", "")
        if tag == "tr" and "group" in cls.split():
            self.rows += 1
            self.ids.append(a.get("id"))
        if tag == "rect" and cls == "conn":
            self.conns += 1
        if tag == "rect" and cls == "sent":
            self.bars += 1
        if tag == "section" and cls == "why":
            self.why += 1


def chromium(args, tmp):
    exe = shutil.which("chromium")
    prof = tempfile.mkdtemp(prefix="chrome-", dir=tmp)
    base = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
            "--disable-background-networking", "--disable-sync", "--disable-component-update",
            "--enable-logging=stderr", "--v=0", f"--user-data-dir={prof}"]
    return subprocess.run(base + args, capture_output=True, text=True, timeout=90)


def console_errors(stderr):
    return [l for l in stderr.splitlines() if "CONSOLE" in l or "Uncaught" in l or "Refused to" in l]


def part_chromium(c, sensor, tmp, inputs, rows):
    if not shutil.which("chromium"):
        c.skipped += 1
        print("chromium not installed: HTML rendering check skipped")
        return
    # the console check must see an error when there is one
    bad = os.path.join(tmp, "bad.html")
    with open(bad, "w") as f:
        f.write("<!DOCTYPE html><html><body><p>x</p><script>undefined_function_here();</script></body></html>")
    r = chromium(["--dump-dom", "file://" + bad], tmp)
    c.expect(console_errors(r.stderr), "the console check catches a page that throws")

    page = os.path.join(tmp, "report.html")
    r = run([sensor, "report", "--format", "html", "-o", page] + inputs)
    c.expect(r.returncode == 0, f"report --format html: {r.stderr}")
    text = open(page, encoding="utf-8").read()
    c.expect(not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", text), "the page references nothing outside itself")
    r = chromium(["--dump-dom", "file://" + page], tmp)
    errs = console_errors(r.stderr)
    c.expect(r.returncode == 0 and not errs, f"the page loads in chromium with no console error: {errs[:3]}")
    dom = DomGroups()
    dom.feed(r.stdout)
    n = len(rows)
    conns = sum(x["ConnectionCount"] for x in rows)
    c.expect(dom.rows == n, f"every group is a table row in the DOM ({dom.rows} of {n})")
    c.expect(dom.conns == conns, f"the timeline draws every connection ({dom.conns} of {conns})")
    c.expect(dom.bars == n and dom.why == n, f"bytes bar and reasons for every group ({dom.bars}, {dom.why} of {n})")
    for x in rows:
        c.expect(x["dest_ip"] in r.stdout and all(reason in r.stdout for reason in x["reasons"]),
                 f"group {x['src_ip']} -> {x['dest_ip']}:{x['dest_port']} and its reasons in the DOM")
    # the sorter: a click on BytesSent (column 11) orders the rows by it, ascending
    clicked = os.path.join(tmp, "clicked.html")
    with open(clicked, "w", encoding="utf-8") as f:
        f.write(text.replace("</body>", "<script>document.querySelectorAll('#groups th')[10].click();"
                                         "</script></body>"))
    r2 = chromium(["--dump-dom", "file://" + clicked], tmp)
    order = [int(m) for m in re.findall(r'<tr class="group[^"]*" id="group-\d+">(?:<td[^>]*>[^<]*</td>){10}'
                                         r'<td class="num">(\d+)</td>', r2.stdout)]
    c.expect(len(order) == n and order == sorted(order) and order != [x["BytesSent"] for x in rows],
             f"clicking BytesSent sorts the rows by it: {order}")
    c.expect(not console_errors(r2.stderr), "sorting raises no console error")
    os.makedirs(ARTIFACTS, exist_ok=True)
    shot = os.path.join(ARTIFACTS, "report.png")
    if os.path.exists(shot):
        os.unlink(shot)
    r = chromium([f"--screenshot={shot}", "--window-size=1600,1900", "--hide-scrollbars", "file://" + page], tmp)
    c.expect(os.path.exists(shot) and os.path.getsize(shot) > 10000, f"screenshot kept in {shot}")
    shutil.copy(page, os.path.join(ARTIFACTS, "report.html"))
    print(f"screenshot: {shot}")


def part_errors(c, sensor, tmp):
    r = run([sensor, "report"])
    c.expect(r.returncode == 2 and "give one or more event logs" in r.stderr, f"no log: exit 2 ({r.returncode})")
    r = run([sensor, "report", os.path.join(tmp, "absent.json")])
    c.expect(r.returncode == 1 and "cannot open" in r.stderr and "absent.json" in r.stderr,
             f"unreadable log: one line naming it, exit 1 ({r.returncode}: {r.stderr.strip()})")
    r = run([sensor, "report", "--format", "xml", os.path.join(tmp, "a.json")])
    c.expect(r.returncode == 2 and "xml" in r.stderr, f"bad --format: exit 2 ({r.returncode})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sensor", default="./pubsub-sensor")
    a = ap.parse_args()
    sensor = os.path.abspath(a.sensor)
    c = Checks()
    tmp = tempfile.mkdtemp(prefix="sn-report-")
    try:
        inputs, rows = part_two_sensors(c, sensor, tmp)
        part_escaping(c, sensor, tmp)
        part_chromium(c, sensor, tmp, inputs, rows)
        part_errors(c, sensor, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    sk = f", {c.skipped} skipped" if c.skipped else ""
    print(f"report: {c.passed} passed, {c.failed} failed{sk}")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
