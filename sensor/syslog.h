/*
 * syslog.h - every event as one RFC 5424 message to a syslog receiver.
 *
 * An output beside the event log (events.h: struct sn_event_output): it is
 * handed each finished JSON line and sends it as the MSG of one RFC 5424
 * message (APP-NAME pubsub-sensor, MSGID the event type, structured data
 * with the sensor's name) to a local socket (datagram or stream), UDP, or
 * TCP with octet-counting framing (RFC 6587).  Sending never blocks: it runs
 * on a libuv loop (the daemon's, or a private one that replay runs as
 * events come and drains at the end, bounded in time).  Messages wait in a
 * bounded queue while the receiver is slow or away; what does not fit is
 * dropped and counted (stats counter syslog_dropped).  A lost connection is
 * retried with backoff; messages it had not yet taken are sent again.
 */
#ifndef SN_SYSLOG_H
#define SN_SYSLOG_H

#include <stddef.h>
#include <stdint.h>

struct sn_syslog;

struct sn_syslog_options {
	const char *target;       /* unix:PATH, unix-stream:PATH, udp://HOST:PORT, tcp://HOST:PORT */
	uint32_t facility;        /* RFC 5424 facility code (21 = local5) */
	uint32_t queue_events;    /* messages waiting at most */
	uint64_t queue_bytes;     /* and their bytes at most; 0 = SN_SYSLOG_QUEUE_BYTES */
	const char *sensor;       /* the sensor's name, for the structured data */
	void *loop;               /* uv_loop_t * to run on, or NULL for a private loop */
};

enum sn_syslog_transport {
	SN_SYSLOG_UNIX_DGRAM = 0,
	SN_SYSLOG_UNIX_STREAM,
	SN_SYSLOG_UDP,
	SN_SYSLOG_TCP,
};

#define SN_SYSLOG_QUEUE_BYTES (64ULL << 20) /* events are ~1 KiB; 10000 big ones must not take 640 MiB */
#define SN_SYSLOG_DRAIN_MS 5000   /* how long the end of a run waits for the receiver */
#define SN_SYSLOG_BACKOFF_MIN_MS 100
#define SN_SYSLOG_BACKOFF_MAX_MS 2000

/* Opens the output and starts connecting.  0, or -1 with a one-line reason in err. */
int sn_syslog_open(struct sn_syslog **out, const struct sn_syslog_options *o, char *err,
		   size_t errlen);

/* struct sn_event_output callback: one event line (ending in '\n'). ctx is struct sn_syslog. */
void sn_syslog_event(void *ctx, const char *event_type, const char *line, size_t len,
		     uint64_t ts_us);

/*
 * Formats one message into buf (no framing): "<PRI>1 TIMESTAMP HOST
 * pubsub-sensor PID MSGID [pubsub@32473 sensor=\"NAME\"] JSON".  Returns its
 * length, or 0 when it does not fit.
 */
size_t sn_syslog_format(char *buf, size_t cap, uint32_t facility, const char *hostname,
			unsigned long pid, const char *sensor, const char *event_type,
			const char *json, size_t json_len, uint64_t ts_us);

/*
 * Ends the output: sends what is queued for at most timeout_ms, then closes
 * its handles; what is still queued then is counted as dropped.  With a
 * private loop this runs it to the end; on the daemon's loop it returns and
 * the loop finishes the work.
 */
void sn_syslog_finish(struct sn_syslog *s, uint32_t timeout_ms);

/* Frees the output (after sn_syslog_finish and, on a shared loop, after the loop ended). */
void sn_syslog_free(struct sn_syslog *s);

uint64_t sn_syslog_dropped(const struct sn_syslog *s);
uint64_t sn_syslog_sent(const struct sn_syslog *s);
uint64_t sn_syslog_queued(const struct sn_syslog *s);
enum sn_syslog_transport sn_syslog_transport(const struct sn_syslog *s);

#endif /* SN_SYSLOG_H */
