# brokers.sh - start and stop real brokers on loopback for the live tests.
# Sourced by test scripts; every wait is bounded.  Brokers listen on
# 127.0.0.1 only and run from a private directory ($BROKER_DIR).

BROKER_DIR=${BROKER_DIR:-$(mktemp -d)}
BROKER_PIDS=""

# wait_port PORT SECONDS: until something listens on 127.0.0.1:PORT.
wait_port() {
	i=0
	while [ $i -lt $(($2 * 10)) ]; do
		if ss -ltn "sport = :$1" 2>/dev/null | grep -q LISTEN; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

start_mosquitto() {
	cat >"$BROKER_DIR/mosquitto.conf" <<CONF
listener 1883 127.0.0.1
allow_anonymous true
persistence false
log_dest file $BROKER_DIR/mosquitto.log
CONF
	chmod 755 "$BROKER_DIR"
	mosquitto -c "$BROKER_DIR/mosquitto.conf" >/dev/null 2>&1 &
	BROKER_PIDS="$BROKER_PIDS $!"
	wait_port 1883 10
}

start_prosody() {
	mkdir -p "$BROKER_DIR/prosody-data"
	chown prosody:prosody "$BROKER_DIR/prosody-data" 2>/dev/null
	cat >"$BROKER_DIR/prosody.cfg.lua" <<CONF
pidfile = "$BROKER_DIR/prosody-data/prosody.pid"
data_path = "$BROKER_DIR/prosody-data"
log = { info = "$BROKER_DIR/prosody-data/prosody.log" }
certificates = "$BROKER_DIR/prosody-data"
interfaces = { "127.0.0.1" }
c2s_ports = { 5222 }
s2s_ports = { }
http_ports = { }
https_ports = { }
modules_enabled = { "roster"; "saslauth"; "disco"; "ping" }
modules_disabled = { "s2s" }
authentication = "internal_plain"
allow_registration = false
c2s_require_encryption = false
VirtualHost "localhost"
CONF
	chmod 755 "$BROKER_DIR"
	chmod 644 "$BROKER_DIR/prosody.cfg.lua"
	# Prosody refuses to run as root: start it as its own system user.
	runuser -u prosody -- prosody -F --config "$BROKER_DIR/prosody.cfg.lua" >"$BROKER_DIR/prosody.out" 2>&1 &
	BROKER_PIDS="$BROKER_PIDS $!"
	wait_port 5222 15
}

stop_brokers() {
	for p in $BROKER_PIDS; do
		kill "$p" 2>/dev/null
	done
	for p in $BROKER_PIDS; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$p" 2>/dev/null
	done
	BROKER_PIDS=""
}
