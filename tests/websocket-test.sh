#!/bin/sh
# websocket-test.sh SENSOR - MQTT over WebSocket from paho-mqtt to mosquitto's
# websockets listener, and STOMP over WebSocket to RabbitMQ Web-STOMP, both on
# loopback, captured live on lo (tests/websocket_live_test.py).  Needs root;
# bounded to 300 s.  Ends with "websocket: N passed, M failed".
if [ "$(id -u)" != 0 ]; then
	echo "websocket live tests need root (capture on lo, brokers): skipped"
	echo "websocket: 0 passed, 0 failed, 1 skipped"
	exit 0
fi
exec timeout 300 /usr/bin/python3 \
	"$(dirname "$0")/websocket_live_test.py" --sensor "${1:-./pubsub-sensor}"
