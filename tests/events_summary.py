#!/usr/bin/python3
"""events_summary.py groups|stats FILE - compact views of an event log for shell tests.

groups: one sorted line per summary event with the fields live and offline
runs must agree on; stats: "packets dropped" of the last stats event
("-1 -1" when there is none).
"""
import json
import sys

GROUP_FIELDS = ("src_ip", "dest_ip", "dest_port", "Protocol", "ConnectionCount", "BytesSent",
                "BytesReceived", "Suspicion")


def events(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


def main():
    what, path = sys.argv[1], sys.argv[2]
    if what == "groups":
        rows = ["\t".join(str(e[k]) for k in GROUP_FIELDS)
                for e in events(path) if e.get("event_type") == "summary"]
        print("\n".join(sorted(rows)))
    else:
        stats = [e for e in events(path) if e.get("event_type") == "stats"]
        last = stats[-1] if stats else {}
        print(last.get("packets", -1), last.get("dropped", -1))


if __name__ == "__main__":
    main()
