#!/usr/bin/python3
"""websocket_live_test.py - MQTT and STOMP over WebSocket from real software,
captured live on lo.

mosquitto with a `websockets` listener on 127.0.0.1:8080 (Debian's
mosquitto is built with libwebsockets) and python3-paho-mqtt with
transport="websockets": once with paho's default path (/mqtt), once with a
non-default path.  Then, when Debian's rabbitmq-server is installed (it
ships the rabbitmq_web_stomp plugin), RabbitMQ with Web-STOMP on
127.0.0.1:15674 in a private RABBITMQ_* environment, and a STOMP CONNECT
sent over a WebSocket from python (the handshake and masked frames of RFC
6455).  The sensor captures live on lo; the flow events must say MQTT (or
STOMP) with evidence payload, details.carrier websocket, the path the
client used, and the client id; the alert must carry the carrier and the
client ids.  The STOMP client then subscribes and sends to
/queue/c2.commands, which the flow's details.topics must name.  The same
RabbitMQ node serves AMQP 0-9-1 on 127.0.0.1:25672, where two python3-pika
connections declare, consume and publish to the queue cmd-queue: the flows
name it in details.topics and the group's alert in details.command_topics
with the reason.  Prints "websocket: N passed, M failed[, K skipped]".
"""
import argparse
import base64
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MQTT_PORT = 8080
STOMP_PORT = 15674
AMQP_PORT = 25672


def wait_for(pred, seconds, step=0.05):
    deadline = time.time() + seconds
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class T:
    def __init__(self, sensor, work):
        self.sensor, self.work = sensor, work
        self.log = os.path.join(work, "events.json")
        self.passed = self.failed = self.skipped = 0
        self.procs = []

    def check(self, cond, name, detail=""):
        if cond:
            self.passed += 1
            print(f"ok   {name}")
        else:
            self.failed += 1
            print(f"FAIL {name}" + (f": {detail}" if detail else ""))
        return cond

    def skip(self, name, why):
        self.skipped += 1
        print(f"skip {name}: {why}")

    def events(self):
        out = []
        if os.path.exists(self.log):
            with open(self.log, encoding="utf-8") as f:
                for line in f:
                    if line.strip():
                        out.append(json.loads(line))
        return out

    def flows(self, port):
        return [e for e in self.events() if e["event_type"] == "flow" and e.get("dest_port") == port]

    def stderr(self):
        p = os.path.join(self.work, "sensor.err")
        return open(p, encoding="utf-8", errors="replace").read() if os.path.exists(p) else ""


def start_mosquitto(t):
    conf = os.path.join(t.work, "mosquitto.conf")
    with open(conf, "w") as f:
        # mosquitto 2.0.11 starts a websockets listener only beside an ordinary
        # one, and libwebsockets binds it to an interface, not an address
        # (upstream issues 2284, 3045): the ordinary listener is on 127.0.0.1,
        # the websockets one on lo; all traffic stays on loopback.
        f.write(f"listener 18830 127.0.0.1\nallow_anonymous true\n"
                f"listener {MQTT_PORT}\nprotocol websockets\nbind_interface lo\nallow_anonymous true\n"
                f"persistence false\nlog_dest file {t.work}/mosquitto.log\n")
    p = subprocess.Popen(["mosquitto", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t.procs.append(p)
    return wait_for(lambda: port_open(MQTT_PORT), 10)


def paho_ws(client_id, path):
    """One paho-mqtt connection over WebSocket: CONNECT, PUBLISH, DISCONNECT."""
    code = f"""
import paho.mqtt.client as mqtt, time
c = mqtt.Client(client_id={client_id!r}, transport="websockets")
c.ws_set_options(path={path!r})
c.connect("127.0.0.1", {MQTT_PORT}, keepalive=30)
c.loop_start()
info = c.publish("c2/ws/beacon", b"hello", qos=1)
info.wait_for_publish(5)
c.disconnect()
c.loop_stop()
"""
    return subprocess.run(["/usr/bin/python3", "-c", code], capture_output=True, text=True, timeout=20)


def test_mqtt(t):
    if not t.check(start_mosquitto(t), f"mosquitto websockets listener on 127.0.0.1:{MQTT_PORT}",
                   open(os.path.join(t.work, "mosquitto.log")).read()[-400:]
                   if os.path.exists(os.path.join(t.work, "mosquitto.log")) else ""):
        return
    runs = [("ws-live-default", "/mqtt"), ("ws-live-custom", "/c2/updates/stream")]
    for cid, path in runs:
        r = paho_ws(cid, path)
        t.check(r.returncode == 0, f"paho websockets client {cid} on {path}", r.stderr[-300:])
        time.sleep(0.3)
    flows = wait_for(lambda: len(t.flows(MQTT_PORT)) >= 2 and t.flows(MQTT_PORT), 15)
    by_cid = {tuple(f.get("client_ids") or []): f for f in flows or []}
    for cid, path in runs:
        f = by_cid.get((cid,))
        if not t.check(f is not None, f"flow event with client id {cid}",
                       f"flows: {[(x.get('client_ids'), x.get('evidence')) for x in flows or []]}"):
            continue
        d = f.get("details") or {}
        t.check(f.get("Protocol") == "MQTT" and f.get("evidence") == "payload",
                f"{cid}: MQTT, evidence payload", f"{f.get('Protocol')} {f.get('evidence')}")
        t.check(d.get("carrier") == "websocket", f"{cid}: details.carrier websocket", str(d))
        t.check(d.get("ws_path") == path, f"{cid}: details.ws_path {path}", str(d.get("ws_path")))
        t.check(d.get("ws_host") == f"127.0.0.1:{MQTT_PORT}", f"{cid}: details.ws_host", str(d.get("ws_host")))
    alerts = wait_for(lambda: [e for e in t.events() if e["event_type"] == "alert"
                               and e.get("dest_port") == MQTT_PORT], 10)
    if t.check(bool(alerts), "alert for the WebSocket MQTT connections"):
        a = alerts[-1]
        t.check((a.get("details") or {}).get("carrier") == "websocket", "alert: details.carrier websocket",
                str(a.get("details")))
        t.check(set(a.get("client_ids") or []) >= {"ws-live-default"} or
                set(a.get("client_ids") or []) >= {"ws-live-custom"},
                "alert: client ids", str(a.get("client_ids")))


# ---- RabbitMQ Web-STOMP ----------------------------------------------------

def rabbit_plugin_dir():
    base = "/usr/lib/rabbitmq/lib"
    if not os.path.isdir(base):
        return None
    for d in sorted(os.listdir(base)):
        p = os.path.join(base, d, "plugins")
        if os.path.isdir(p) and any(x.startswith("rabbitmq_web_stomp-") for x in os.listdir(p)):
            return p
    return None


def start_rabbitmq(t):
    t.epmd_before = epmd_pids()
    home = os.path.join(t.work, "rabbit")
    os.makedirs(home, exist_ok=True)
    with open(os.path.join(home, "enabled_plugins"), "w") as f:
        f.write("[rabbitmq_web_stomp].\n")
    with open(os.path.join(home, "rabbitmq.conf"), "w") as f:
        f.write(f"listeners.tcp.1 = 127.0.0.1:{AMQP_PORT}\nloopback_users = none\n"
                f"web_stomp.tcp.port = {STOMP_PORT}\nweb_stomp.tcp.ip = 127.0.0.1\n"
                "stomp.listeners.tcp = none\n")
    env = dict(os.environ, RABBITMQ_HOME="/usr/lib/rabbitmq", RABBITMQ_BASE=home,
               RABBITMQ_MNESIA_BASE=os.path.join(home, "mnesia"), RABBITMQ_LOG_BASE=home,
               RABBITMQ_CONFIG_FILE=os.path.join(home, "rabbitmq"),
               RABBITMQ_ENABLED_PLUGINS_FILE=os.path.join(home, "enabled_plugins"),
               RABBITMQ_NODENAME="pubsubws@localhost", RABBITMQ_NODE_IP_ADDRESS="127.0.0.1",
               RABBITMQ_NODE_PORT="25672", RABBITMQ_DIST_PORT="25673",
               RABBITMQ_PID_FILE=os.path.join(home, "rabbit.pid"), HOME=home,
               ERL_EPMD_ADDRESS="127.0.0.1")
    p = subprocess.Popen(["/usr/lib/rabbitmq/bin/rabbitmq-server"], env=env, stdout=open(
        os.path.join(home, "server.out"), "w"), stderr=subprocess.STDOUT, start_new_session=True)
    t.procs.append(p)
    t.rabbit, t.rabbit_env = p, env
    return wait_for(lambda: port_open(STOMP_PORT), 60, 0.5)


def ws_text_frame(payload):
    key = os.urandom(4)
    n = len(payload)
    hdr = bytes([0x81, 0x80 | n]) if n < 126 else bytes([0x81, 0x80 | 126]) + struct.pack(">H", n)
    return hdr + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def stomp_over_ws():
    """RFC 6455 handshake without Sec-WebSocket-Protocol, then a masked STOMP CONNECT."""
    s = socket.create_connection(("127.0.0.1", STOMP_PORT), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{STOMP_PORT}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Protocol: v12.stomp\r\n\r\n").encode())
    resp = s.recv(4096)
    if not resp.startswith(b"HTTP/1.1 101"):
        s.close()
        return f"upgrade refused: {resp[:80]!r}"
    s.sendall(ws_text_frame(b"CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\x00"))
    got = s.recv(4096)
    s.sendall(ws_text_frame(b"SUBSCRIBE\nid:0\ndestination:/queue/c2.commands\nack:auto\n\n\x00"))
    s.sendall(ws_text_frame(b"SEND\ndestination:/queue/c2.commands\ncontent-length:2\n\nls\x00"))
    time.sleep(0.3)
    s.sendall(bytes([0x88, 0x80]) + os.urandom(4))  # close
    s.close()
    return "" if b"CONNECTED" in got else f"no CONNECTED: {got[:80]!r}"


def test_stomp(t):
    if not rabbit_plugin_dir() or not os.path.exists("/usr/lib/rabbitmq/bin/rabbitmq-server"):
        t.skip("rabbitmq web-stomp", "rabbitmq-server with rabbitmq_web_stomp not installed")
        return
    if not t.check(start_rabbitmq(t), f"RabbitMQ Web-STOMP on 127.0.0.1:{STOMP_PORT}",
                   open(os.path.join(t.work, "rabbit", "server.out")).read()[-600:]):
        return
    err = stomp_over_ws()
    t.check(err == "", "STOMP CONNECT over WebSocket answered CONNECTED", err)
    flows = wait_for(lambda: t.flows(STOMP_PORT), 15)
    if t.check(bool(flows), "flow event for the Web-STOMP connection"):
        f = flows[0]
        d = f.get("details") or {}
        t.check(f.get("Protocol") == "STOMP" and f.get("evidence") == "payload",
                "Web-STOMP: STOMP, evidence payload", f"{f.get('Protocol')} {f.get('evidence')}")
        t.check(d.get("carrier") == "websocket" and d.get("ws_path") == "/ws" and
                d.get("ws_protocol") == "v12.stomp", "Web-STOMP: carrier, path, subprotocol", str(d))
        t.check("guest" in (f.get("Users") or []), "Web-STOMP: login in Users", str(f.get("Users")))
        t.check("/queue/c2.commands" in (d.get("topics") or []),
                "Web-STOMP: SUBSCRIBE/SEND destination in details.topics", str(d))


def pika_session():
    """One AMQP 0-9-1 connection: declare, consume and publish to cmd-queue."""
    import pika  # python3-pika
    params = pika.ConnectionParameters("127.0.0.1", AMQP_PORT, "/",
                                       pika.PlainCredentials("guest", "guest"),
                                       socket_timeout=5, blocked_connection_timeout=5)
    conn = pika.BlockingConnection(params)
    try:
        ch = conn.channel()
        ch.queue_declare("cmd-queue")
        ch.basic_consume("cmd-queue", lambda *a: None, auto_ack=True)
        ch.basic_publish("", "cmd-queue", b"whoami")
    finally:
        conn.close()


def test_amqp_queue(t):
    if getattr(t, "rabbit", None) is None or not port_open(AMQP_PORT):
        t.skip("rabbitmq amqp 0-9-1", "RabbitMQ is not running")
        return
    err = ""
    for _ in range(2):
        try:
            pika_session()
        except Exception as e:  # noqa: BLE001 - any client failure is the test's detail
            err = repr(e)
    if not t.check(err == "", "pika: two sessions declare, consume and publish cmd-queue", err):
        return
    flows = wait_for(lambda: len(t.flows(AMQP_PORT)) >= 2 and t.flows(AMQP_PORT), 15)
    t.check(bool(flows) and all("cmd-queue" in ((f.get("details") or {}).get("topics") or [])
                                for f in flows),
            "AMQP flows: queue cmd-queue in details.topics",
            str([f.get("details") for f in flows or []])[:400])

    def alert():
        return [e for e in t.events() if e["event_type"] in ("alert", "update") and
                e.get("Protocol") == "AMQP" and e.get("dest_port") == AMQP_PORT]
    groups = wait_for(alert, 15)
    g = groups[-1] if groups else {}
    t.check((g.get("details") or {}).get("command_topics") == ["cmd-queue"] and
            "command channel: destination 'cmd-queue'" in (g.get("reasons") or []),
            "AMQP alert: details.command_topics and the reason", str(g)[:500])


def epmd_pids():
    r = subprocess.run(["pgrep", "-x", "epmd"], capture_output=True, text=True, check=False)
    return {int(x) for x in r.stdout.split()}


def stop_all(t):
    env = getattr(t, "rabbit_env", None)
    if env:
        try:
            subprocess.run(["/usr/lib/rabbitmq/bin/rabbitmqctl", "-n", env["RABBITMQ_NODENAME"], "stop"],
                           env=env, capture_output=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            print(f"note: rabbitmqctl stop: {e}")
    for p in t.procs:
        if p.poll() is None:
            try:
                if p is getattr(t, "rabbit", None):
                    os.killpg(p.pid, signal.SIGTERM)  # the node and its helpers
                else:
                    p.terminate()
            except ProcessLookupError:
                pass
    for p in t.procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
    # an epmd the node started (none was running before): ended by its id
    for pid in epmd_pids() - getattr(t, "epmd_before", epmd_pids()):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sensor", required=True)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="pubsub-ws-live-")
    os.chmod(work, 0o755)
    t = T(os.path.abspath(a.sensor), work)
    cfg = os.path.join(work, "live.yaml")
    shutil.copy(os.path.join(HERE, "data", "live.yaml"), cfg)
    sensor = None
    try:
        err = open(os.path.join(work, "sensor.err"), "w")
        sensor = subprocess.Popen([t.sensor, "-i", "lo", "-c", cfg, "-o", t.log, "--flows"],
                                  stdout=subprocess.DEVNULL, stderr=err)
        if not t.check(wait_for(lambda: "capturing on" in t.stderr(), 10), "sensor capturing on lo",
                       t.stderr()[-400:]):
            return 1
        test_mqtt(t)
        test_stomp(t)
        test_amqp_queue(t)
    finally:
        if sensor and sensor.poll() is None:
            sensor.send_signal(signal.SIGTERM)
            try:
                sensor.wait(timeout=10)
            except subprocess.TimeoutExpired:
                sensor.kill()
        stop_all(t)
        if t.failed:
            print("sensor stderr:\n" + t.stderr()[-1500:])
        shutil.rmtree(work, ignore_errors=True)
        s = f", {t.skipped} skipped" if t.skipped else ""
        print(f"websocket: {t.passed} passed, {t.failed} failed{s}")
    return 0 if t.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
