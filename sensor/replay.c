/*
 * replay.c - offline replay of capture files as one timeline.
 *
 * Every file is opened and its link type checked before anything is
 * written, so a bad argument produces one error line and no output.  A
 * capture cut off mid-record gives a warning naming the file and packet;
 * everything before it is processed and reported.  Files are read through
 * a large stdio buffer (capture.h): with the default one, read(2) calls
 * cost as much as the rest of the sensor.
 */
#include "replay.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "clock.h"
#include "lookahead.h"
#include "pipeline.h"

static void close_all(struct sn_capture_file *files, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sn_capture_file_close(&files[i]);
}

/*
 * Opens every file up front, each with capture.filter (the command line's
 * filter when one was given); on failure prints the reason and returns the
 * exit code (2 for a filter that does not compile for a file's link type).
 */
static int open_all(const struct sn_config *cfg, const struct sn_replay_options *o,
		    struct sn_capture_file *files)
{
	char err[SN_CAPTURE_ERRLEN];
	size_t stdin_uses = 0;
	for (size_t i = 0; i < o->n_files; i++) {
		if (strcmp(o->files[i], "-") == 0 && ++stdin_uses > 1) {
			fprintf(stderr, "pubsub-sensor: standard input ('-') can be read only once\n");
			close_all(files, i);
			return 1;
		}
		if (sn_capture_file_open(&files[i], o->files[i], err) != 0 ||
		    !sn_capture_check_linktype(files[i].pcap, o->files[i], err)) {
			fprintf(stderr, "pubsub-sensor: %s\n", err);
			close_all(files, i + 1);
			return 1;
		}
		if (sn_capture_set_filter(files[i].pcap, cfg->capture.filter, o->files[i], err) != 0) {
			fprintf(stderr, "pubsub-sensor: %s\n", err);
			close_all(files, i + 1);
			return 2;
		}
	}
	return 0;
}

/* The reader of the event log went away (`-o - | head`): nothing more can arrive. */
static bool log_reader_gone(const struct sn_aggregator *ag)
{
	uint64_t lost;
	int last_errno;
	return sn_aggregator_log_errors(ag, &lost, &last_errno) && last_errno == EPIPE;
}

/*
 * capture.checksum_validation `auto`: each file is a capture of its own, so
 * its first frames are read once more, before it is replayed, until the
 * policy has seen enough whole segments (or the file ends) to decide.
 * Standard input cannot be read twice: there the policy samples as the
 * packets come and drops nothing until it has decided.
 */
static void checksum_prescan(const char *path, int linktype, struct sn_worker *w)
{
	struct sn_capture_file cf;
	char err[SN_CAPTURE_ERRLEN];
	struct pcap_pkthdr *h;
	const u_char *data;
	sn_worker_checksum_restart(w);
	if (!sn_worker_checksum_undecided(w) || strcmp(path, "-") == 0)
		return;
	if (sn_capture_file_open(&cf, path, err) != 0)
		return; /* opened a moment ago; undecided, it drops nothing */
	sn_worker_set_linktype(w, linktype);
	/* Bounded by the sample size in checkable segments and by frames read. */
	for (uint64_t n = 0; n < 100u * SN_CSUM_SAMPLE && sn_worker_checksum_undecided(w) &&
			     pcap_next_ex(cf.pcap, &h, &data) == 1;
	     n++)
		sn_worker_checksum_sample(w, data, h->caplen, h->len);
	sn_worker_checksum_decide(w);
	sn_capture_file_close(&cf);
}

/* What the replay loop hands the window for its per-packet work. */
struct replay_ctx {
	struct sn_aggregator *ag;
	bool gone; /* log_reader_gone(ag) as of the last packet */
};

/*
 * After a packet that reached the aggregator's deadline (sn_aggregator_due:
 * its next tick, or a lost event line): its periodic work at the worker's
 * time, then whether the log's reader went away.  Lines are only lost in
 * reports and ticks, so `gone` is what log_reader_gone() would say after
 * any packet.
 */
static void tick_after_packet(void *ctx, struct sn_worker *w)
{
	struct replay_ctx *rc = ctx;
	sn_aggregator_tick(rc->ag, sn_worker_now(w));
	rc->gone = log_reader_gone(rc->ag);
}

/*
 * Pushes the records that lie whole in the read block, while *gone stays
 * false (it is checked before each); returns how many.  A plain file's
 * records are walked with the position in registers (pcapread.h).
 */
static uint64_t push_in_block(struct sn_pcapread *r, struct sn_lookahead *la, const bool *gone)
{
	uint64_t n = 0;
	if (!r->plain) {
		struct pcap_pkthdr h;
		const uint8_t *d;
		while (!*gone && sn_pcapread_next_in_block_any(r, &h, &d)) {
			n++;
			sn_lookahead_push_stable(la, d, h.caplen, h.len, sn_capture_time_us(&h));
		}
		return n;
	}
	/* its own header and data pointer, never handed to a call: registers */
	struct pcap_pkthdr rh;
	const uint8_t *rd;
	struct sn_pcapread_walk wk;
	sn_pcapread_walk_start(r, &wk);
	while (!*gone && sn_pcapread_walk_next(&wk, &rh, &rd)) {
		n++;
		sn_lookahead_push_stable(la, rd, rh.caplen, rh.len, sn_capture_time_us(&rh));
	}
	sn_pcapread_walk_end(r, &wk);
	return n;
}

/*
 * Replays one file into the worker; returns packets read.  Packets pass
 * through a short lookahead window (lookahead.h) so that the flow table's
 * memory reads for later packets overlap the work on earlier ones.
 */
static uint64_t replay_file(struct sn_capture_file *cf, bool filtered, const char *name,
			    struct sn_worker *w, struct sn_aggregator *ag)
{
	pcap_t *p = cf->pcap;
	struct pcap_pkthdr *h;
	const u_char *data;
	struct sn_lookahead la;
	uint64_t n = 0;
	int rc = 0;
	const char *why = NULL;
	/* Records straight from the read block (no filter to apply): no copies. */
	bool blocks = cf->classic && !filtered;
	struct replay_ctx ctx = { .ag = ag, .gone = log_reader_gone(ag) };
	sn_worker_set_linktype(w, pcap_datalink(p));
	checksum_prescan(name, pcap_datalink(p), w);
	/* without memory for copies: no window */
	(void)sn_lookahead_init(&la, w, tick_after_packet, &ctx, !blocks);
	sn_lookahead_set_due(&la, sn_aggregator_due(ag));
	if (blocks) {
		struct pcap_pkthdr rh;
		const uint8_t *rd;
		while (!ctx.gone) {
			n += push_in_block(&cf->records, &la, &ctx.gone);
			if (ctx.gone)
				break;
			sn_lookahead_drain(&la); /* the block is about to move */
			if ((rc = sn_pcapread_next(&cf->records, &rh, &rd)) != 1)
				break;
			n++;
			sn_lookahead_push_stable(&la, rd, rh.caplen, rh.len, sn_capture_time_us(&rh));
		}
		if (rc < 0)
			why = cf->records.err;
	} else {
		while (!ctx.gone && (rc = pcap_next_ex(p, &h, &data)) == 1) {
			n++;
			sn_lookahead_push(&la, data, h->caplen, h->len, sn_capture_time_us(h));
		}
		if (rc == PCAP_ERROR)
			why = pcap_geterr(p);
	}
	sn_lookahead_drain(&la);
	sn_lookahead_free(&la);
	if (why)
		fprintf(stderr,
			"pubsub-sensor: warning: '%s' is cut off or damaged at packet %llu (%s); "
			"the %llu packets before it were processed\n",
			strcmp(name, "-") == 0 ? "standard input" : name, (unsigned long long)(n + 1),
			why, (unsigned long long)n);
	return n;
}

/* End of input: every flow closed, every group summarised, the stats event. */
static void finish(struct sn_worker *w, struct sn_aggregator *ag)
{
	struct sn_worker_counts counts;
	uint64_t end = sn_worker_now(w);
	sn_worker_flush(w, end, SN_CLOSE_END_OF_INPUT);
	sn_aggregator_tick(ag, end);
	uint64_t last = sn_aggregator_now(ag) > end ? sn_aggregator_now(ag) : end;
	sn_aggregator_flush(ag, last);
	sn_worker_counts(w, &counts);
	sn_aggregator_write_stats(ag, &counts, NULL, last);
}

/*
 * Lost event lines make the replay fail: one line naming the log, the
 * cause and how many were lost.  0 when the log is whole.
 */
static int check_log(const struct sn_aggregator *ag, const char *path)
{
	uint64_t errors;
	int last_errno;
	if (!sn_aggregator_log_errors(ag, &errors, &last_errno) || errors == 0)
		return 0;
	unsigned long long lost = errors;
	fprintf(stderr, "pubsub-sensor: event log '%s'%s: %s; %llu event%s lost%s\n", path,
		strcmp(path, "-") == 0 ? " (standard output)" : "", strerror(last_errno),
		lost, lost == 1 ? "" : "s", log_reader_gone(ag) ? "; replay stopped" : "");
	return -1;
}

/* The table went to a stream that failed (a closed pipe, a full disk). */
static int check_table(FILE *out)
{
	if (fflush(out) == 0 && !ferror(out))
		return 0;
	fprintf(stderr, "pubsub-sensor: cannot write the table to %s: %s\n",
		out == stderr ? "standard error" : "standard output", strerror(errno));
	return -1;
}

int sn_replay_run(const struct sn_config *cfg, const struct sn_replay_options *o)
{
	struct sn_capture_file *files = calloc(o->n_files ? o->n_files : 1, sizeof *files);
	if (!files) {
		fprintf(stderr, "pubsub-sensor: out of memory\n");
		return 1;
	}
	int opened = open_all(cfg, o, files);
	if (opened != 0) {
		free(files);
		return opened;
	}
	char err[512];
	int status = 1;
	struct sn_worker *w = NULL;
	/* The search's stats has no window: in replay a group spans the whole
	 * input (it ends at eviction or the end), so connections months apart
	 * count together.  The daemon keeps tables.group_window. */
	struct sn_config *whole = malloc(sizeof *whole);
	struct sn_aggregator *ag = NULL;
	if (whole) {
		*whole = *cfg;
		whole->tables.group_window = 0;
		ag = sn_aggregator_create(whole, o->log_path, o->table_out != NULL, err, sizeof err);
		free(whole);
	} else {
		snprintf(err, sizeof err, "out of memory");
	}
	if (!ag || sn_aggregator_open_syslog(ag, NULL, err, sizeof err) != 0) {
		fprintf(stderr, "pubsub-sensor: %s\n", err);
		goto out;
	}
	w = sn_worker_create(cfg, pcap_datalink(files[0].pcap), sn_aggregator_report, ag,
			     sn_random_seed());
	if (!w) {
		fprintf(stderr, "pubsub-sensor: cannot allocate a table of %u flows; lower tables.max_flows\n",
			cfg->tables.max_flows);
		goto out;
	}
	for (size_t i = 0; i < o->n_files && !log_reader_gone(ag); i++)
		replay_file(&files[i], cfg->capture.filter[0] != '\0', o->files[i], w, ag);
	finish(w, ag); /* the stats event flushes the log */
	sn_aggregator_finish_outputs(ag); /* syslog: send what is queued, a few seconds at most */
	status = check_log(ag, o->log_path) != 0 ? 1 : 0;
	if (o->table_out && !log_reader_gone(ag)) {
		if (o->table_csv)
			sn_aggregator_print_table_csv(ag, o->table_out, stderr);
		else
			sn_aggregator_print_table(ag, o->table_out);
		if (check_table(o->table_out) != 0)
			status = 1;
	}
out:
	sn_worker_destroy(w);
	sn_aggregator_destroy(ag);
	close_all(files, o->n_files);
	free(files);
	return status;
}
