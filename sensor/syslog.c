/*
 * syslog.c - every event as one RFC 5424 message (syslog.h).
 *
 * Owns the message format (RFC 5424 header, structured data, the event's
 * JSON as MSG), the framing (octet counting, RFC 6587, on stream sockets;
 * one datagram per message otherwise), the bounded queue and its drop
 * counter, and the connection: connect, detect loss (a stream is read so a
 * peer's close is seen before the next write), reconnect with exponential
 * backoff.  Runs on a libuv loop and never blocks it: stream writes go
 * through uv_write, datagrams through a non-blocking socket watched by
 * uv_poll when the receiver's buffer is full.
 *
 * Delivery: a message leaves the queue when the kernel took all of it; a
 * write that failed with the connection is sent again on the next one.  A
 * message is lost only when the queue is full (counted in `dropped`), when
 * a datagram is refused or too long (counted), or when the end-of-run drain
 * times out (counted).  Plain TCP cannot tell what a receiver that dies
 * had read: for guaranteed delivery hand messages to a local rsyslog that
 * forwards over RELP (packaging/rsyslog/).
 */
#include "syslog.h"

#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#define SN_SYSLOG_BATCH 64
#define SN_SYSLOG_MSG_MAX (66 * 1024) /* an event line (64 KiB) plus the header */
#define SN_SYSLOG_SD_ID "pubsub@32473" /* RFC 5612 documentation enterprise number */

struct sn_msg {
	size_t len;
	char data[];
};

enum conn_state { ST_DOWN = 0, ST_CONNECTING, ST_UP, ST_CLOSING };

struct sn_syslog {
	uv_loop_t *loop;
	uv_loop_t own_loop;
	bool owns_loop;
	enum sn_syslog_transport transport;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char target[256];
	uint32_t facility;
	char hostname[256];
	char sensor[256];
	unsigned long pid;

	/* the queue: q[head .. head+count) in a ring of cap; the first inflight are in a write */
	struct sn_msg **q;
	uint32_t cap, head, count, inflight;
	uint64_t bytes, max_bytes;  /* queued bytes and their bound */

	enum conn_state state;
	union {
		uv_handle_t handle;
		uv_stream_t stream;
		uv_tcp_t tcp;
		uv_pipe_t pipe;
		uv_poll_t poll;
	} h;
	int dfd;                 /* datagram socket, -1 when none */
	bool poll_started;
	uv_connect_t connect_req;
	uv_write_t write_req;
	uv_buf_t bufs[SN_SYSLOG_BATCH];
	uv_timer_t retry, deadline;
	uint32_t backoff_ms;
	int open_handles;        /* handles not yet closed (timers + connection) */
	bool finishing, done;
	bool failing;            /* last attempt failed; said so once */
	uint64_t sent, dropped;
	char scratch[SN_SYSLOG_MSG_MAX];
};

uint64_t sn_syslog_dropped(const struct sn_syslog *s) { return s->dropped; }
uint64_t sn_syslog_sent(const struct sn_syslog *s) { return s->sent; }
uint64_t sn_syslog_queued(const struct sn_syslog *s) { return s->count; }
enum sn_syslog_transport sn_syslog_transport(const struct sn_syslog *s) { return s->transport; }

static bool is_stream(const struct sn_syslog *s)
{
	return s->transport == SN_SYSLOG_TCP || s->transport == SN_SYSLOG_UNIX_STREAM;
}

/* ---- message format ---------------------------------------------------- */

/* RFC 5424 severity by event type: alerts are warnings, group news notices. */
static unsigned severity_of(const char *type)
{
	if (strcmp(type, "alert") == 0)
		return 4;
	if (strcmp(type, "update") == 0 || strcmp(type, "summary") == 0)
		return 5;
	return 6;
}

/* HOSTNAME, APP-NAME, MSGID: printable US-ASCII without spaces, or "-". */
static void header_token(char *out, size_t cap, const char *in, size_t max)
{
	size_t n = 0;
	for (; in[n] && n < max && n + 1 < cap; n++) {
		unsigned char c = (unsigned char)in[n];
		out[n] = (c >= 33 && c <= 126) ? (char)c : '_';
	}
	if (n == 0 && cap > 1)
		out[n++] = '-';
	out[n] = '\0';
}

size_t sn_syslog_format(char *buf, size_t cap, uint32_t facility, const char *hostname,
			unsigned long pid, const char *sensor, const char *event_type,
			const char *json, size_t json_len, uint64_t ts_us)
{
	char host[256], msgid[33], ts[96];
	time_t sec = (time_t)(ts_us / 1000000);
	struct tm tm;

	header_token(host, sizeof host, hostname, 255);
	header_token(msgid, sizeof msgid, event_type, 32);
	gmtime_r(&sec, &tm);
	snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%06luZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned long)(ts_us % 1000000));
	int n = snprintf(buf, cap, "<%u>1 %s %s pubsub-sensor %lu %s [" SN_SYSLOG_SD_ID " sensor=\"",
			 facility * 8 + severity_of(event_type), ts, host, pid, msgid);
	if (n < 0 || (size_t)n >= cap)
		return 0;
	size_t len = (size_t)n;
	/* PARAM-VALUE: '"', '\' and ']' escaped with a backslash (RFC 5424 6.3.3) */
	for (const char *p = sensor; *p; p++) {
		if (len + 3 >= cap)
			return 0;
		if (*p == '"' || *p == '\\' || *p == ']')
			buf[len++] = '\\';
		buf[len++] = *p;
	}
	if (json_len && json[json_len - 1] == '\n')
		json_len--;
	if (len + 3 + json_len > cap)
		return 0;
	memcpy(buf + len, "\"] ", 3);
	len += 3;
	memcpy(buf + len, json, json_len);
	return len + json_len;
}

/* ---- the queue --------------------------------------------------------- */

static struct sn_msg *q_at(const struct sn_syslog *s, uint32_t i)
{
	return s->q[(s->head + i) % s->cap];
}

static void q_pop(struct sn_syslog *s)
{
	s->bytes -= s->q[s->head]->len;
	free(s->q[s->head]);
	s->q[s->head] = NULL;
	s->head = (s->head + 1) % s->cap;
	s->count--;
}

/* ---- connection -------------------------------------------------------- */

static void flush(struct sn_syslog *s);
static void connect_start(struct sn_syslog *s);
static void retry_later(struct sn_syslog *s);
static void shutdown_all(struct sn_syslog *s);

static void say_failure(struct sn_syslog *s, const char *what, int uverr)
{
	if (s->failing)
		return; /* once per outage */
	s->failing = true;
	fprintf(stderr,
		"pubsub-sensor: syslog target '%s': %s: %s; queueing up to %u messages and retrying\n",
		s->target, what, uv_strerror(uverr), s->cap);
}

static void on_handle_closed(uv_handle_t *h)
{
	struct sn_syslog *s = h->data;
	s->open_handles--;
}

static void on_conn_closed(uv_handle_t *h)
{
	struct sn_syslog *s = h->data;
	s->open_handles--;
	if (s->dfd >= 0) {
		close(s->dfd);
		s->dfd = -1;
	}
	s->state = ST_DOWN;
	s->inflight = 0;
	if (s->done)
		return;
	retry_later(s); /* also while finishing: the drain wants the receiver back */
}

static void on_retry(uv_timer_t *t)
{
	connect_start(t->data);
}

static void retry_later(struct sn_syslog *s)
{
	uv_timer_start(&s->retry, on_retry, s->backoff_ms, 0);
	s->backoff_ms = s->backoff_ms * 2 > SN_SYSLOG_BACKOFF_MAX_MS ? SN_SYSLOG_BACKOFF_MAX_MS
								      : s->backoff_ms * 2;
}

static void conn_close(struct sn_syslog *s)
{
	if (s->state == ST_DOWN || s->state == ST_CLOSING)
		return;
	if (is_stream(s) && s->state == ST_UP)
		uv_read_stop(&s->h.stream);
	if (!is_stream(s) && s->poll_started)
		uv_poll_stop(&s->h.poll);
	s->poll_started = false;
	s->state = ST_CLOSING;
	uv_close(&s->h.handle, on_conn_closed);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	static char sink[256]; /* what a receiver says is not read */
	(void)h;
	(void)suggested;
	*buf = uv_buf_init(sink, sizeof sink);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	struct sn_syslog *s = st->data;
	(void)buf;
	if (nread >= 0)
		return;
	say_failure(s, "connection closed by the receiver", (int)nread);
	conn_close(s);
}

static void on_up(struct sn_syslog *s)
{
	s->state = ST_UP;
	s->backoff_ms = SN_SYSLOG_BACKOFF_MIN_MS;
	if (s->failing)
		fprintf(stderr, "pubsub-sensor: syslog target '%s': connected again\n", s->target);
	s->failing = false;
	flush(s);
}

static void on_connect(uv_connect_t *req, int status)
{
	struct sn_syslog *s = req->data;
	if (s->state != ST_CONNECTING)
		return; /* closed meanwhile */
	if (status < 0) {
		say_failure(s, "cannot connect", status);
		conn_close(s);
		return;
	}
	uv_read_start(&s->h.stream, on_alloc, on_read);
	on_up(s);
}

static int dgram_open(struct sn_syslog *s)
{
	int fd = socket(s->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&s->addr, s->addrlen) != 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	s->dfd = fd;
	return 0;
}

static void connect_start(struct sn_syslog *s)
{
	if (s->done || s->state != ST_DOWN)
		return;
	s->h.handle.data = s;
	s->connect_req.data = s;
	if (!is_stream(s)) {
		int rc = dgram_open(s);
		if (rc != 0) {
			say_failure(s, "cannot open", rc);
			retry_later(s);
			return;
		}
		uv_poll_init(s->loop, &s->h.poll, s->dfd);
		s->h.handle.data = s;
		s->open_handles++;
		on_up(s);
		return;
	}
	s->state = ST_CONNECTING;
	s->open_handles++;
	if (s->transport == SN_SYSLOG_TCP) {
		uv_tcp_init(s->loop, &s->h.tcp);
		s->h.handle.data = s;
		int rc = uv_tcp_connect(&s->connect_req, &s->h.tcp,
					(const struct sockaddr *)&s->addr, on_connect);
		if (rc < 0) {
			say_failure(s, "cannot connect", rc);
			conn_close(s);
		}
	} else {
		uv_pipe_init(s->loop, &s->h.pipe, 0);
		s->h.handle.data = s;
		uv_pipe_connect(&s->connect_req, &s->h.pipe, s->path, on_connect);
	}
}

/* ---- sending ----------------------------------------------------------- */

static void maybe_finished(struct sn_syslog *s)
{
	if (s->finishing && s->count == 0)
		shutdown_all(s);
}

static void on_write(uv_write_t *req, int status)
{
	struct sn_syslog *s = req->data;
	uint32_t n = s->inflight;
	s->inflight = 0;
	if (status < 0) {
		if (s->done) {
			s->dropped += n; /* counted at shutdown as in flight: now known lost */
			return;
		}
		say_failure(s, "write failed", status);
		conn_close(s); /* the messages stay queued for the next connection */
		return;
	}
	for (uint32_t i = 0; i < n; i++)
		q_pop(s);
	s->sent += n;
	if (s->done)
		return;
	flush(s);
	maybe_finished(s);
}

static void on_writable(uv_poll_t *p, int status, int events)
{
	struct sn_syslog *s = p->data;
	(void)events;
	uv_poll_stop(p);
	s->poll_started = false;
	if (status < 0) {
		conn_close(s);
		return;
	}
	flush(s);
}

static void flush_dgram(struct sn_syslog *s)
{
	while (s->state == ST_UP && s->count > 0) {
		struct sn_msg *m = q_at(s, 0);
		if (send(s->dfd, m->data, m->len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) {
			q_pop(s);
			s->sent++;
			continue;
		}
		int e = errno;
		if (e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS) {
			if (!s->poll_started)
				uv_poll_start(&s->h.poll, UV_WRITABLE, on_writable);
			s->poll_started = true;
			return;
		}
		if (e == EMSGSIZE || (s->transport == SN_SYSLOG_UDP && e == ECONNREFUSED)) {
			q_pop(s); /* this message cannot go: too long, or nobody listens */
			s->dropped++;
			if (e == ECONNREFUSED)
				say_failure(s, "datagram refused", -e);
			continue;
		}
		say_failure(s, "send failed", -e);
		conn_close(s);
		return;
	}
	maybe_finished(s);
}

static void flush(struct sn_syslog *s)
{
	if (s->done || s->state != ST_UP || s->count == 0)
		return;
	if (!is_stream(s)) {
		flush_dgram(s);
		return;
	}
	if (s->inflight)
		return;
	uint32_t n = s->count < SN_SYSLOG_BATCH ? s->count : SN_SYSLOG_BATCH;
	for (uint32_t i = 0; i < n; i++) {
		struct sn_msg *m = q_at(s, i);
		s->bufs[i] = uv_buf_init(m->data, (unsigned)m->len);
	}
	s->write_req.data = s;
	int rc = uv_write(&s->write_req, &s->h.stream, s->bufs, n, on_write);
	if (rc < 0) {
		say_failure(s, "write failed", rc);
		conn_close(s);
		return;
	}
	s->inflight = n;
}

void sn_syslog_event(void *ctx, const char *event_type, const char *line, size_t len,
		     uint64_t ts_us)
{
	struct sn_syslog *s = ctx;
	if (s->finishing || s->done) {
		s->dropped++;
		return;
	}
	if (s->owns_loop)
		uv_run(s->loop, UV_RUN_NOWAIT); /* see a closed peer before writing to it */
	size_t n = sn_syslog_format(s->scratch, sizeof s->scratch, s->facility, s->hostname, s->pid,
				    s->sensor, event_type, line, len, ts_us);
	if (n == 0 || s->count == s->cap || (s->transport == SN_SYSLOG_UDP && n > 65507)) {
		s->dropped++;
		return;
	}
	char prefix[24] = "";
	if (is_stream(s))
		snprintf(prefix, sizeof prefix, "%zu ", n); /* octet counting, RFC 6587 3.4.1 */
	size_t plen = strlen(prefix);
	struct sn_msg *m = NULL;
	if (s->bytes + plen + n <= s->max_bytes)
		m = malloc(sizeof *m + plen + n);
	if (!m) { /* the byte bound (or memory) is reached: dropped like a full queue */
		s->dropped++;
		return;
	}
	memcpy(m->data, prefix, plen);
	memcpy(m->data + plen, s->scratch, n);
	m->len = plen + n;
	s->q[(s->head + s->count) % s->cap] = m;
	s->count++;
	s->bytes += m->len;
	flush(s);
	if (s->owns_loop)
		uv_run(s->loop, UV_RUN_NOWAIT);
}

/* ---- setup and end ----------------------------------------------------- */

static int resolve(struct sn_syslog *s, const char *hostport, int socktype, char *err,
		   size_t errlen)
{
	char host[256];
	const char *colon = strrchr(hostport, ':');
	const char *close_br = strchr(hostport, ']');
	if (!colon || colon == hostport || (hostport[0] == '[' && (!close_br || close_br + 1 != colon))) {
		snprintf(err, errlen, "syslog target '%s': expected HOST:PORT", s->target);
		return -1;
	}
	const char *h = hostport;
	size_t hl = (size_t)(colon - hostport);
	if (hostport[0] == '[') {
		h = hostport + 1;
		hl = (size_t)(close_br - h);
	}
	if (hl >= sizeof host) {
		snprintf(err, errlen, "syslog target '%s': host name too long", s->target);
		return -1;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	struct addrinfo hints = { .ai_socktype = socktype, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(host, colon + 1, &hints, &res);
	if (rc != 0 || !res) {
		snprintf(err, errlen, "syslog target '%s': cannot resolve '%s': %s; give an address",
			 s->target, host, gai_strerror(rc));
		return -1;
	}
	memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
	s->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int parse_target(struct sn_syslog *s, const char *t, char *err, size_t errlen)
{
	const char *rest;
	if (strncmp(t, "unix-stream:", 12) == 0) {
		s->transport = SN_SYSLOG_UNIX_STREAM;
		rest = t + 12;
	} else if (strncmp(t, "unix:", 5) == 0) {
		s->transport = SN_SYSLOG_UNIX_DGRAM;
		rest = t + 5;
	} else if (strncmp(t, "udp://", 6) == 0) {
		s->transport = SN_SYSLOG_UDP;
		return resolve(s, t + 6, SOCK_DGRAM, err, errlen);
	} else if (strncmp(t, "tcp://", 6) == 0) {
		s->transport = SN_SYSLOG_TCP;
		return resolve(s, t + 6, SOCK_STREAM, err, errlen);
	} else {
		snprintf(err, errlen,
			 "syslog target '%s': expected unix:PATH, unix-stream:PATH, udp://HOST:PORT "
			 "or tcp://HOST:PORT", t);
		return -1;
	}
	if (rest[0] == '\0' || strlen(rest) >= sizeof s->path) {
		snprintf(err, errlen, "syslog target '%s': the socket path is empty or too long", t);
		return -1;
	}
	snprintf(s->path, sizeof s->path, "%s", rest);
	struct sockaddr_un *un = (struct sockaddr_un *)&s->addr;
	un->sun_family = AF_UNIX;
	memcpy(un->sun_path, s->path, strlen(s->path) + 1);
	s->addrlen = (socklen_t)sizeof *un;
	return 0;
}

int sn_syslog_open(struct sn_syslog **out, const struct sn_syslog_options *o, char *err,
		   size_t errlen)
{
	*out = NULL;
	struct sn_syslog *s = calloc(1, sizeof *s);
	uint32_t cap = o->queue_events ? o->queue_events : 1;
	if (!s || !(s->q = calloc(cap, sizeof *s->q))) {
		free(s);
		snprintf(err, errlen, "syslog: out of memory for a queue of %u messages", cap);
		return -1;
	}
	s->cap = cap;
	s->max_bytes = o->queue_bytes ? o->queue_bytes : SN_SYSLOG_QUEUE_BYTES;
	s->dfd = -1;
	snprintf(s->target, sizeof s->target, "%s", o->target);
	if (parse_target(s, o->target, err, errlen) != 0) {
		free(s->q);
		free(s);
		return -1;
	}
	s->facility = o->facility > 23 ? 21 : o->facility;
	snprintf(s->sensor, sizeof s->sensor, "%s", o->sensor ? o->sensor : "");
	if (gethostname(s->hostname, sizeof s->hostname - 1) != 0)
		s->hostname[0] = '\0';
	s->pid = (unsigned long)getpid();
	if (o->loop) {
		s->loop = o->loop;
	} else {
		uv_loop_init(&s->own_loop);
		s->loop = &s->own_loop;
		s->owns_loop = true;
	}
	uv_timer_init(s->loop, &s->retry);
	uv_timer_init(s->loop, &s->deadline);
	s->retry.data = s->deadline.data = s;
	s->open_handles = 2;
	s->backoff_ms = SN_SYSLOG_BACKOFF_MIN_MS;
	connect_start(s);
	*out = s;
	return 0;
}

static void shutdown_all(struct sn_syslog *s)
{
	if (s->done)
		return;
	s->done = true;
	s->dropped += s->count - s->inflight; /* in-flight ones are settled by on_write */
	if (s->count > s->inflight)
		fprintf(stderr, "pubsub-sensor: syslog target '%s': %u messages not sent at exit\n",
			s->target, s->count - s->inflight);
	uv_timer_stop(&s->retry);
	uv_timer_stop(&s->deadline);
	uv_close((uv_handle_t *)&s->retry, on_handle_closed);
	uv_close((uv_handle_t *)&s->deadline, on_handle_closed);
	conn_close(s);
}

static void on_deadline(uv_timer_t *t)
{
	shutdown_all(t->data);
}

void sn_syslog_finish(struct sn_syslog *s, uint32_t timeout_ms)
{
	if (!s || s->finishing)
		return;
	s->finishing = true;
	if (s->count == 0)
		shutdown_all(s);
	else
		uv_timer_start(&s->deadline, on_deadline, timeout_ms, 0);
	if (s->owns_loop)
		uv_run(s->loop, UV_RUN_DEFAULT); /* ends when every handle is closed */
}

void sn_syslog_free(struct sn_syslog *s)
{
	if (!s)
		return;
	if (!s->done) {
		s->finishing = true;
		shutdown_all(s);
	}
	/* close callbacks still due (a loop that was not run to its end) */
	for (int i = 0; i < 100 && s->open_handles > 0; i++)
		uv_run(s->loop, UV_RUN_NOWAIT);
	if (s->owns_loop)
		uv_loop_close(&s->own_loop);
	for (uint32_t i = 0; i < s->count; i++)
		free(q_at(s, i));
	free(s->q);
	free(s);
}
