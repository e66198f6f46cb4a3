/*
 * daemon.c - the live event loop under libuv: signals, timers, configuration
 * reload, the event log's reopening and privilege drop.
 *
 * Capture, decode and flows run in capture.workers worker threads
 * (workers.c, one by default): the one capture loop, with its idle packet
 * clock, failure and retry.  This loop owns the aggregator: an async handle
 * and the timer drain the workers' report rings into it, and it writes
 * stats, reloads the configuration and reopens the log.
 */
#include "daemon.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
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

#define SN_TICK_MS 200

struct sn_daemon {
	uv_loop_t *loop;
	uv_timer_t tick;
	uv_signal_t sig_int, sig_term, sig_hup, sig_usr1;
	uv_async_t reports;          /* the workers' report rings have data */

	struct sn_config cfg;        /* in force */
	const struct sn_daemon_options *opt;
	char interface[64];
	char log_path[SN_CFG_STR];
	struct sn_workers *workers;  /* the capture threads */
	struct sn_aggregator *ag;
	struct sn_attr *attr;        /* host attribution (capture.attribution), or NULL */

	uint64_t next_stats_ms;
	uint64_t next_error_report_ms;
	uint64_t log_errors_reported;
	bool log_reader_gone;        /* EPIPE told once: the reader never returns */
	int exit_code;
	bool stopping;
};

/* Packet time every worker has reached (idle links advance by wall time). */
static uint64_t daemon_now_us(struct sn_daemon *d)
{
	return sn_workers_clock(d->workers);
}

static void write_stats(struct sn_daemon *d)
{
	struct sn_worker_counts counts;
	struct sn_live_counts live;
	sn_workers_counts(d->workers, &counts, &live);
	sn_aggregator_write_stats(d->ag, &counts, &live, daemon_now_us(d));
}

static void daemon_stop(struct sn_daemon *d, int code)
{
	if (d->stopping)
		return;
	d->stopping = true;
	d->exit_code = code;
	/* the threads flush their flows into the rings; all of it reaches groups */
	sn_workers_stop(d->workers, sn_aggregator_report, d->ag);
	uv_close((uv_handle_t *)&d->reports, NULL);
	sn_aggregator_flush(d->ag, daemon_now_us(d));
	write_stats(d);
	sn_aggregator_finish_outputs(d->ag); /* the loop runs on until syslog is drained or gives up */
	uv_timer_stop(&d->tick);
	uv_close((uv_handle_t *)&d->tick, NULL);
	uv_close((uv_handle_t *)&d->sig_int, NULL);
	uv_close((uv_handle_t *)&d->sig_term, NULL);
	uv_close((uv_handle_t *)&d->sig_hup, NULL);
	uv_close((uv_handle_t *)&d->sig_usr1, NULL);
}

/* Tells the operator about lost event lines once per interval. */
static void report_log_errors(struct sn_daemon *d, uint64_t now_ms)
{
	uint64_t errors;
	int last_errno;
	if (now_ms < d->next_error_report_ms ||
	    !sn_aggregator_log_errors(d->ag, &errors, &last_errno))
		return;
	if (errors == d->log_errors_reported)
		return;
	if (last_errno == EPIPE) {
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
		strerror(last_errno));
	d->log_errors_reported = errors;
	d->next_error_report_ms = now_ms + d->cfg.output.error_report_interval * 1000ULL;
}

/*
 * The clock every worker has reached is read before the drain, so no
 * report older than it can still be on its way.
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

static void on_tick(uv_timer_t *t)
{
	struct sn_daemon *d = t->data;
	uint64_t now_ms = uv_now(d->loop);
	drain_reports(d);
	if (d->cfg.output.stats_interval && now_ms >= d->next_stats_ms) {
		write_stats(d);
		d->next_stats_ms = now_ms + d->cfg.output.stats_interval * 1000ULL;
	}
	sn_aggregator_flush_log(d->ag);
	report_log_errors(d, now_ms);
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
	/* Capture, tables and output settings need a restart; keep the running ones. */
	next.capture = d->cfg.capture;
	next.tables = d->cfg.tables;
	next.output = d->cfg.output;
	next.daemon = d->cfg.daemon;
	if (d->opt->min_connections) /* the command line still wins */
		next.rules.min_connections = d->opt->min_connections;
	if (d->opt->min_suspicion >= 0)
		next.rules.min_suspicion = (enum sn_suspicion)d->opt->min_suspicion;
	if (sn_aggregator_reload(d->ag, &next, msg, sizeof msg) != 0) {
		fprintf(stderr, "pubsub-sensor: reload refused, keeping the running configuration: %s\n", msg);
		return;
	}
	d->cfg = next;
	sn_workers_reload(d->workers, &d->cfg); /* their port maps */
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
	case SIGHUP: {
		int rc = sn_aggregator_reopen_log(d->ag);
		if (rc != 0)
			fprintf(stderr, "pubsub-sensor: cannot reopen event log '%s': %s; still writing to the old file\n",
				d->log_path, strerror(-rc));
		reload_config(d);
		break;
	}
	case SIGUSR1:
		write_stats(d);
		break;
	default:
		break;
	}
}

/*
 * Host attribution reads other users' /proc/PID/fd: after the switch to
 * the sensor's user, CAP_SYS_PTRACE alone stays (permitted and effective),
 * every other capability is gone.  Without it attribution names only the
 * sensor user's own processes (the misses are counted).
 */
static void keep_ptrace_only(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof data);
	data[0].permitted = data[0].effective = 1u << CAP_SYS_PTRACE;
	if (syscall(SYS_capset, &h, data) != 0)
		fprintf(stderr, "pubsub-sensor: warning: cannot keep CAP_SYS_PTRACE for "
				"capture.attribution (%s): only the sensor user's processes are named\n",
			strerror(errno));
	prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L);
}

/* Switches from root to the configured user; 0, or -1 with a message. */
static int drop_privileges(const struct sn_config *cfg, bool attribution)
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
	bool keep = attribution;
	if (keep)
		prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L);
	if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(pw->pw_uid) != 0) {
		fprintf(stderr, "pubsub-sensor: cannot switch to user '%s': %s\n", cfg->daemon.user,
			strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		fprintf(stderr, "pubsub-sensor: privileges could not be dropped; refusing to run\n");
		return -1;
	}
	if (keep)
		keep_ptrace_only();
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
 * Several workers: every handle joins one fanout group; the id is the
 * process's own, so two sensors on one host never share a group by accident.
 * One worker joins none.
 */
static struct sn_workers *open_workers(struct sn_daemon *d, char err[SN_CAPTURE_ERRLEN])
{
	struct sn_workers_options wo = {
		.cfg = &d->cfg,
		.interface = d->interface,
		.count = d->cfg.capture.workers,
		.fanout_group = d->cfg.capture.workers > 1 ? (int)(getpid() % 0xfffe) + 1 : 0,
		.seed = sn_random_seed(),
		.wake = wake_loop,
		.wake_ctx = d,
		.attr = d->attr,
	};
	return sn_workers_open(&wo, err);
}

/* Capture handles first: opening them needs the privileges dropped next. */
static int open_captures(struct sn_daemon *d)
{
	char err[SN_CAPTURE_ERRLEN];
	d->workers = open_workers(d, err);
	if (!d->workers) {
		fprintf(stderr, "pubsub-sensor: %s\n", err);
		return -1;
	}
	return 0;
}

/* The async handle the threads wake, then the threads. */
static int start_workers(struct sn_daemon *d)
{
	uv_async_init(d->loop, &d->reports, on_reports);
	d->reports.data = d;
	int rc = sn_workers_start(d->workers);
	if (rc != 0)
		fprintf(stderr, "pubsub-sensor: cannot start %u capture worker%s: %s\n",
			d->cfg.capture.workers, d->cfg.capture.workers > 1 ? "s" : "", strerror(-rc));
	return rc;
}

static int setup(struct sn_daemon *d)
{
	d->attr = sn_attribution_open(&d->cfg, d->interface, sn_random_seed());
	d->cfg.capture.immediate = d->attr != NULL; /* capture.c: attribution needs each SYN at once */
	if (open_captures(d) != 0)
		return -1;
	write_pid_file(d->cfg.daemon.pid_file);
	if (drop_privileges(&d->cfg, d->attr != NULL) != 0)
		return -1;
	char msg[512];
	const char *log = d->log_path[0] ? d->log_path : NULL;
	d->ag = sn_aggregator_create(&d->cfg, log, false, msg, sizeof msg);
	if (!d->ag || sn_aggregator_open_syslog(d->ag, d->loop, msg, sizeof msg) != 0) {
		fprintf(stderr, "pubsub-sensor: %s\n", msg);
		return -1;
	}
	if (sn_aggregator_set_attribution(d->ag, d->attr) != 0) {
		fprintf(stderr, "pubsub-sensor: out of memory for capture.attribution: set it to off\n");
		return -1;
	}
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
	d->next_stats_ms = uv_now(d->loop) + d->cfg.output.stats_interval * 1000ULL;
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
	if (start_workers(&d) != 0)
		daemon_stop(&d, 1);
	char threads[32] = "";
	if (d.cfg.capture.workers > 1)
		snprintf(threads, sizeof threads, " with %u workers", d.cfg.capture.workers);
	fprintf(stderr, "pubsub-sensor %s: capturing on '%s'%s, events to '%s'\n", SN_VERSION,
		d.interface, threads, d.log_path[0] ? d.log_path : "(none)");
	uv_run(d.loop, UV_RUN_DEFAULT);
	code = d.exit_code;
out:
	sn_workers_close(d.workers);
	sn_aggregator_destroy(d.ag);
	sn_attribution_close(d.attr);
	uv_loop_close(d.loop);
	if (cfg->daemon.pid_file[0])
		unlink(cfg->daemon.pid_file);
	return code;
}
