/*
 * daemon.c - the live event loop: capture fd polled by libuv, signals,
 * timers, configuration reload and privilege drop.
 *
 * Packet time stays the clock: the timer advances it only while the link is
 * idle, by the wall time elapsed since the last packet.  Each poll wakeup
 * dispatches a bounded batch so timers and signals are never starved.
 *
 * capture.workers: 1 (the default) captures on the loop thread itself.  With
 * more, worker threads (workers.c) own capture, decode and flows, and this
 * loop owns only the aggregator: an async handle drains their report rings.
 */
#include "daemon.h"

#include <errno.h>
#include <grp.h>
#include <pcap/pcap.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "capture.h"
#include "clock.h"
#include "pipeline.h"
#include "safefile.h"
#include "workers.h"

#define SN_BATCH 512            /* packets per pcap_dispatch call */
#define SN_BATCHES_PER_WAKEUP 8 /* then yield to the loop */
#define SN_TICK_MS 200
#define SN_MAX_EXTRA SN_STATS_COUNTERS

struct sn_daemon {
	uv_loop_t *loop;
	uv_poll_t poll;
	uv_timer_t tick;
	uv_signal_t sig_int, sig_term, sig_hup, sig_usr1;
	uv_async_t reports;          /* workers > 1: report rings have data */
	bool poll_active;

	struct sn_config cfg;        /* in force; rules point at it */
	const struct sn_daemon_options *opt;
	char interface[64];
	char log_path[SN_CFG_STR];
	pcap_t *pcap;
	struct sn_worker worker;
	struct sn_workers *workers;  /* workers > 1: the capture threads, else NULL */
	struct sn_aggregator *ag;

	uint64_t last_packet_us;     /* packet time of the newest packet */
	uint64_t wall_at_last_ms;    /* uv_now() when it arrived */
	uint64_t next_stats_ms;
	uint64_t next_live_report_ms;
	uint64_t next_error_report_ms;
	uint64_t log_errors_reported;
	bool log_reader_gone;        /* EPIPE told once: the reader never returns */
	uint64_t next_retry_ms;
	bool capture_lost;
	int exit_code;
	bool stopping;
};

/* Packet time now: the last packet's time plus the idle wall time since. */
static uint64_t daemon_now_us(struct sn_daemon *d)
{
	if (d->workers)
		return sn_workers_clock(d->workers);
	if (d->last_packet_us == 0)
		return sn_wall_clock_us();
	uint64_t idle_ms = uv_now(d->loop) - d->wall_at_last_ms;
	return d->last_packet_us + idle_ms * 1000ULL;
}

static void write_stats(struct sn_daemon *d)
{
	struct sn_stats_view view;
	uint64_t values[SN_MAX_EXTRA];
	const char *names[SN_MAX_EXTRA];
	struct pcap_stat ps;
	if (d->workers)
		sn_workers_stats_collect(d->workers, d->ag, &view, values, names, SN_MAX_EXTRA);
	else
		sn_stats_collect(&d->worker, d->ag, &view, values, names, SN_MAX_EXTRA);
	view.live = true;
	if (!d->workers && d->pcap && pcap_stats(d->pcap, &ps) == 0) {
		view.dropped = ps.ps_drop;
		view.if_dropped = ps.ps_ifdrop;
	}
	sn_events_write_stats(&d->ag->events, &view, daemon_now_us(d));
	if (d->ag->have_log)
		sn_eventlog_flush(&d->ag->log);
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
	struct sn_daemon *d = (struct sn_daemon *)user;
	uint64_t ts = sn_capture_time_us(h);
	if (ts > d->last_packet_us) {
		d->last_packet_us = ts;
		d->wall_at_last_ms = uv_now(d->loop);
	}
	sn_worker_packet(&d->worker, data, h->caplen, h->len, ts);
	sn_aggregator_tick(d->ag, d->worker.now_us);
}

static void stop_capture_poll(struct sn_daemon *d)
{
	if (d->poll_active) {
		uv_poll_stop(&d->poll);
		uv_close((uv_handle_t *)&d->poll, NULL);
		d->poll_active = false;
	}
}

static void daemon_stop(struct sn_daemon *d, int code)
{
	if (d->stopping)
		return;
	d->stopping = true;
	d->exit_code = code;
	stop_capture_poll(d);
	if (d->workers) {
		/* the threads flush their flows into the rings; all of it reaches groups */
		sn_workers_stop(d->workers, sn_aggregator_report, d->ag);
		uv_close((uv_handle_t *)&d->reports, NULL);
	} else {
		sn_flow_table_flush(d->worker.flows, daemon_now_us(d), SN_CLOSE_SHUTDOWN);
	}
	sn_groups_flush(d->ag->groups, daemon_now_us(d));
	write_stats(d);
	uv_timer_stop(&d->tick);
	uv_close((uv_handle_t *)&d->tick, NULL);
	uv_close((uv_handle_t *)&d->sig_int, NULL);
	uv_close((uv_handle_t *)&d->sig_term, NULL);
	uv_close((uv_handle_t *)&d->sig_hup, NULL);
	uv_close((uv_handle_t *)&d->sig_usr1, NULL);
}

static void capture_failed(struct sn_daemon *d, const char *why)
{
	if (d->cfg.daemon.retry_interface) {
		fprintf(stderr, "pubsub-sensor: capture on '%s' failed: %s; retrying every %u s\n",
			d->interface, why, d->cfg.daemon.retry_interval);
		stop_capture_poll(d);
		pcap_close(d->pcap);
		d->pcap = NULL;
		d->capture_lost = true;
		d->next_retry_ms = uv_now(d->loop) + d->cfg.daemon.retry_interval * 1000ULL;
		return;
	}
	fprintf(stderr,
		"pubsub-sensor: capture on '%s' failed: %s; stopping (set daemon.retry_interface: true to "
		"wait for the interface to return)\n",
		d->interface, why);
	daemon_stop(d, 1);
}

static void on_readable(uv_poll_t *h, int status, int events)
{
	struct sn_daemon *d = h->data;
	(void)events;
	if (status < 0) {
		/* libuv turns POLLERR into EBADF; libpcap knows the real cause
		 * (e.g. "The interface disappeared"), so ask it once. */
		bool pcap_knows = pcap_dispatch(d->pcap, SN_BATCH, on_packet, (u_char *)d) < 0;
		capture_failed(d, pcap_knows ? pcap_geterr(d->pcap) : uv_strerror(status));
		return;
	}
	for (int i = 0; i < SN_BATCHES_PER_WAKEUP; i++) {
		int n = pcap_dispatch(d->pcap, SN_BATCH, on_packet, (u_char *)d);
		if (n < 0) {
			capture_failed(d, pcap_geterr(d->pcap));
			return;
		}
		if (n < SN_BATCH)
			break;
	}
}

static int start_capture_poll(struct sn_daemon *d)
{
	int fd = pcap_get_selectable_fd(d->pcap);
	if (fd < 0)
		return -1;
	uv_poll_init(d->loop, &d->poll, fd);
	d->poll.data = d;
	d->poll_active = true;
	return uv_poll_start(&d->poll, UV_READABLE, on_readable);
}

static void retry_capture(struct sn_daemon *d)
{
	char err[SN_CAPTURE_ERRLEN];
	d->next_retry_ms = uv_now(d->loop) + d->cfg.daemon.retry_interval * 1000ULL;
	pcap_t *p = sn_capture_open_interface(&d->cfg, d->interface, 0, err);
	if (!p)
		return;
	d->pcap = p;
	d->worker.linktype = pcap_datalink(p);
	d->capture_lost = false;
	if (start_capture_poll(d) != 0) {
		capture_failed(d, "cannot poll the capture handle");
		return;
	}
	fprintf(stderr, "pubsub-sensor: capture on '%s' resumed\n", d->interface);
}

/* Tells the operator about lost event lines once per interval. */
static void report_log_errors(struct sn_daemon *d, uint64_t now_ms)
{
	if (!d->ag->have_log || now_ms < d->next_error_report_ms)
		return;
	uint64_t errors = d->ag->log.errors;
	if (errors == d->log_errors_reported)
		return;
	if (d->ag->log.last_errno == EPIPE) {
		/* `-o - | reader` and the reader exited: say so once, keep capturing */
		if (!d->log_reader_gone)
			fprintf(stderr, "pubsub-sensor: event log '%s': %s (its reader is gone); events are "
				"lost from now on (counter event_log_write_errors), capture goes on\n",
				d->log_path, strerror(EPIPE));
		d->log_reader_gone = true;
		d->log_errors_reported = errors;
		return;
	}
	fprintf(stderr, "pubsub-sensor: event log '%s': %llu lines lost to write errors (%s); will keep trying\n",
		d->log_path, (unsigned long long)(errors - d->log_errors_reported),
		strerror(d->ag->log.last_errno));
	d->log_errors_reported = errors;
	d->next_error_report_ms = now_ms + d->cfg.output.error_report_interval * 1000ULL;
}

/*
 * workers > 1: the clock every worker has reached is read before the drain,
 * so no report older than it can still be on its way.
 */
static void drain_reports(struct sn_daemon *d)
{
	uint64_t now = sn_workers_clock(d->workers);
	sn_workers_drain(d->workers, sn_aggregator_report, d->ag);
	sn_aggregator_tick(d->ag, now);
}

static void on_reports(uv_async_t *a)
{
	struct sn_daemon *d = a->data;
	if (d->stopping)
		return;
	drain_reports(d);
	if (sn_workers_failed(d->workers))
		daemon_stop(d, 1);
}

/* The per-connection side of a tick: only when this loop captures itself. */
static void tick_worker(struct sn_daemon *d, uint64_t now_ms)
{
	uint64_t now = daemon_now_us(d);
	sn_worker_advance(&d->worker, now);
	sn_aggregator_tick(d->ag, now);
	if (now_ms >= d->next_live_report_ms) {
		sn_flow_table_report_live(d->worker.flows, now);
		d->next_live_report_ms = now_ms + d->cfg.tables.update_interval * 1000ULL;
	}
}

static void on_tick(uv_timer_t *t)
{
	struct sn_daemon *d = t->data;
	uint64_t now_ms = uv_now(d->loop);
	if (d->workers)
		drain_reports(d);
	else
		tick_worker(d, now_ms);
	if (d->cfg.output.stats_interval && now_ms >= d->next_stats_ms) {
		write_stats(d);
		d->next_stats_ms = now_ms + d->cfg.output.stats_interval * 1000ULL;
	}
	if (d->ag->have_log)
		sn_eventlog_flush(&d->ag->log);
	report_log_errors(d, now_ms);
	if (d->capture_lost && now_ms >= d->next_retry_ms)
		retry_capture(d);
}

/* Validates the configuration file and, if good, puts it in force. */
static void reload_config(struct sn_daemon *d)
{
	if (!d->opt->config_path)
		return;
	static struct sn_config next;
	struct sn_error err;
	sn_config_defaults(&next);
	if (sn_config_load_file(&next, d->opt->config_path, &err) != 0) {
		char line[1024];
		sn_error_format(&err, line, sizeof line);
		fprintf(stderr, "pubsub-sensor: reload refused, keeping the running configuration: %s\n", line);
		return;
	}
	char msg[512];
	struct sn_rules probe;
	if (sn_rules_init(&probe, &next, msg, sizeof msg) != 0) {
		fprintf(stderr, "pubsub-sensor: reload refused, keeping the running configuration: %s\n", msg);
		return;
	}
	sn_rules_free(&probe);
	/* Capture, tables and output settings need a restart; keep the running ones. */
	next.capture = d->cfg.capture;
	if (d->workers) /* the threads' port maps are fixed at start */
		memcpy(next.protocols, d->cfg.protocols, sizeof next.protocols);
	next.tables = d->cfg.tables;
	next.output = d->cfg.output;
	next.daemon = d->cfg.daemon;
	sn_rules_free(&d->ag->rules);
	d->cfg = next;
	if (sn_rules_init(&d->ag->rules, &d->cfg, msg, sizeof msg) != 0) {
		fprintf(stderr, "pubsub-sensor: reload failed: %s\n", msg);
		daemon_stop(d, 1);
		return;
	}
	sn_groups_set_rules(d->ag->groups, &d->ag->rules);
	fprintf(stderr, "pubsub-sensor: configuration reloaded from '%s'\n", d->opt->config_path);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct sn_daemon *d = s->data;
	switch (signum) {
	case SIGINT:
	case SIGTERM:
		daemon_stop(d, 0);
		break;
	case SIGHUP:
		if (d->ag->have_log) {
			sn_eventlog_flush(&d->ag->log);
			int rc = sn_eventlog_reopen(&d->ag->log);
			if (rc != 0)
				fprintf(stderr, "pubsub-sensor: cannot reopen event log '%s': %s; still writing to the old file\n",
					d->log_path, strerror(-rc));
		}
		reload_config(d);
		break;
	case SIGUSR1:
		write_stats(d);
		break;
	default:
		break;
	}
}

/* Switches from root to the configured user; 0, or -1 with a message. */
static int drop_privileges(const struct sn_config *cfg)
{
	if (geteuid() != 0)
		return 0;
	if (cfg->daemon.allow_root) {
		fprintf(stderr, "pubsub-sensor: warning: running as root (daemon.allow_root is true)\n");
		return 0;
	}
	struct passwd *pw = getpwnam(cfg->daemon.user);
	if (!pw) {
		fprintf(stderr,
			"pubsub-sensor: user '%s' does not exist: create it (adduser --system --group %s), "
			"set daemon.user, or set daemon.allow_root: true to stay root\n",
			cfg->daemon.user, cfg->daemon.user);
		return -1;
	}
	gid_t gid = pw->pw_gid;
	if (cfg->daemon.group[0]) {
		struct group *gr = getgrnam(cfg->daemon.group);
		if (!gr) {
			fprintf(stderr, "pubsub-sensor: group '%s' does not exist: create it or set daemon.group\n",
				cfg->daemon.group);
			return -1;
		}
		gid = gr->gr_gid;
	}
	if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(pw->pw_uid) != 0) {
		fprintf(stderr, "pubsub-sensor: cannot switch to user '%s': %s\n", cfg->daemon.user,
			strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		fprintf(stderr, "pubsub-sensor: privileges could not be dropped; refusing to run\n");
		return -1;
	}
	return 0;
}

/* Written as root before privileges drop: never through a link (safefile.h). */
static void write_pid_file(const char *path)
{
	if (!path[0])
		return;
	int rc = sn_safefile_write_pid(path, (long)getpid());
	if (rc != 0)
		fprintf(stderr, "pubsub-sensor: warning: cannot write pid file '%s': %s\n", path,
			strerror(-rc));
}

static void wake_loop(void *ctx)
{
	struct sn_daemon *d = ctx;
	uv_async_send(&d->reports);
}

/*
 * workers > 1: every handle joins one fanout group; the id is the process's
 * own, so two sensors on one host never share a group by accident.
 */
static struct sn_workers *open_workers(struct sn_daemon *d, char err[SN_CAPTURE_ERRLEN])
{
	struct sn_workers_options wo = {
		.cfg = &d->cfg,
		.interface = d->interface,
		.count = d->cfg.capture.workers,
		.fanout_group = (int)(getpid() % 0xfffe) + 1,
		.seed = sn_random_seed(),
		.wake = wake_loop,
		.wake_ctx = d,
	};
	return sn_workers_open(&wo, err);
}

/* Capture handles first: opening them needs the privileges dropped next. */
static int open_captures(struct sn_daemon *d)
{
	char err[SN_CAPTURE_ERRLEN];
	if (d->cfg.capture.workers > 1)
		d->workers = open_workers(d, err);
	else
		d->pcap = sn_capture_open_interface(&d->cfg, d->interface, 0, err);
	if (!d->pcap && !d->workers) {
		fprintf(stderr, "pubsub-sensor: %s\n", err);
		return -1;
	}
	return 0;
}

/* workers > 1: the async handle the threads wake, then the threads. */
static int start_workers(struct sn_daemon *d)
{
	uv_async_init(d->loop, &d->reports, on_reports);
	d->reports.data = d;
	int rc = sn_workers_start(d->workers);
	if (rc != 0)
		fprintf(stderr, "pubsub-sensor: cannot start %u capture workers: %s\n",
			d->cfg.capture.workers, strerror(-rc));
	return rc;
}

static int setup(struct sn_daemon *d)
{
	if (open_captures(d) != 0)
		return -1;
	write_pid_file(d->cfg.daemon.pid_file);
	if (drop_privileges(&d->cfg) != 0)
		return -1;
	d->ag = calloc(1, sizeof *d->ag);
	char msg[512];
	const char *log = d->log_path[0] ? d->log_path : NULL;
	if (!d->ag || sn_aggregator_init(d->ag, &d->cfg, log, false, msg, sizeof msg) != 0) {
		fprintf(stderr, "pubsub-sensor: %s\n", d->ag ? msg : "out of memory");
		free(d->ag);
		d->ag = NULL;
		return -1;
	}
	if (d->workers)
		return 0;
	if (sn_worker_init(&d->worker, &d->cfg, &d->ag->rules, sn_aggregator_report, d->ag,
			   sn_random_seed()) != 0) {
		fprintf(stderr, "pubsub-sensor: cannot allocate a table of %u flows; lower tables.max_flows\n",
			d->cfg.tables.max_flows);
		return -1;
	}
	d->worker.linktype = pcap_datalink(d->pcap);
	return 0;
}

static void start_loop(struct sn_daemon *d)
{
	uv_timer_init(d->loop, &d->tick);
	d->tick.data = d;
	uv_timer_start(&d->tick, on_tick, SN_TICK_MS, SN_TICK_MS);
	uv_signal_t *sigs[] = { &d->sig_int, &d->sig_term, &d->sig_hup, &d->sig_usr1 };
	int nums[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1 };
	for (size_t i = 0; i < 4; i++) {
		uv_signal_init(d->loop, sigs[i]);
		sigs[i]->data = d;
		uv_signal_start(sigs[i], on_signal, nums[i]);
	}
	uint64_t now_ms = uv_now(d->loop);
	d->next_stats_ms = now_ms + d->cfg.output.stats_interval * 1000ULL;
	d->next_live_report_ms = now_ms + d->cfg.tables.update_interval * 1000ULL;
}

int sn_daemon_run(const struct sn_config *cfg, const struct sn_daemon_options *o)
{
	static struct sn_daemon d;
	memset(&d, 0, sizeof d);
	d.cfg = *cfg;
	d.opt = o;
	if (o->flows >= 0)
		d.cfg.output.flows = o->flows == 1;
	snprintf(d.interface, sizeof d.interface, "%s", o->interface ? o->interface : cfg->capture.interface);
	snprintf(d.log_path, sizeof d.log_path, "%s", o->log_path ? o->log_path : cfg->output.event_log);
	d.loop = uv_default_loop();
	int code = 1;
	if (setup(&d) != 0)
		goto out;
	start_loop(&d);
	if (d.workers) {
		if (start_workers(&d) != 0)
			daemon_stop(&d, 1);
	} else if (start_capture_poll(&d) != 0) {
		fprintf(stderr, "pubsub-sensor: cannot poll the capture on '%s'\n", d.interface);
		daemon_stop(&d, 1);
	}
	char threads[32] = "";
	if (d.workers)
		snprintf(threads, sizeof threads, " with %u workers", d.cfg.capture.workers);
	fprintf(stderr, "pubsub-sensor %s: capturing on '%s'%s, events to '%s'\n", SN_VERSION,
		d.interface, threads, d.log_path[0] ? d.log_path : "(none)");
	uv_run(d.loop, UV_RUN_DEFAULT);
	code = d.exit_code;
out:
	sn_workers_close(d.workers);
	if (d.ag) {
		sn_worker_free(&d.worker);
		sn_aggregator_free(d.ag);
		free(d.ag);
	}
	if (d.pcap)
		pcap_close(d.pcap);
	uv_loop_close(d.loop);
	if (cfg->daemon.pid_file[0])
		unlink(cfg->daemon.pid_file);
	return code;
}
