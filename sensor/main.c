/*
 * main.c - the command line: options, configuration, and which driver runs
 * (offline replay or the live daemon).  No packet logic lives here.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "config.h"
#include "daemon.h"
#include "replay.h"
#include "report.h"
#include "safefile.h"

#ifndef SN_VERSION
#define SN_VERSION "0.0.0"
#endif

#define SN_EXIT_RUNTIME 1
#define SN_EXIT_USAGE 2
#define SN_MAX_FILES 4096
#define SN_FILTER_MAX 1024 /* = sizeof capture.filter */

static void usage(FILE *out)
{
	fputs("usage: pubsub-sensor -r FILE [-r FILE ...] [-o PATH] [-c CONFIG] [--table|--no-table] [--flows|--no-flows] [EXPRESSION]\n"
	      "       pubsub-sensor -i IFACE [-c CONFIG] [-o PATH] [--flows|--no-flows] [EXPRESSION]\n"
	      "       pubsub-sensor report [--format table|csv|json|html] [-c CONFIG] [-o FILE] EVENTS.json...\n"
	      "       pubsub-sensor --check-config [-c CONFIG]\n"
	      "\n"
	      "Finds command-and-control over MQTT, XMPP, AMQP and STOMP (MITRE ATT&CK T1071.005).\n"
	      "\n"
	      "  -r, --read FILE     replay a pcap or pcapng file, plain or gzip-compressed ('-' =\n"
	      "                      standard input); repeat for several files, read in order as\n"
	      "                      one timeline\n"
	      "  -i, --interface IF  capture live on IF ('any' for all interfaces); give it once\n"
	      "  -f, --filter EXPR   BPF filter (tcpdump syntax) for replay and live capture; it\n"
	      "                      replaces capture.filter.  Words after the options are\n"
	      "                      joined into the same filter, as tcpdump does\n"
	      "  -o, --output PATH   write the JSON Lines event log to PATH ('-' = standard output);\n"
	      "                      an existing file is appended to, never truncated\n"
	      "  -c, --config FILE   YAML configuration (see config/pubsub-sensor.yaml)\n"
	      "      --table         print the search's table after a replay (default)\n"
	      "      --no-table      do not print the table\n"
	      "      --table-format FORMAT  text (aligned columns, the default) or csv; a value\n"
	      "                      a spreadsheet would run as a formula gets a leading '\n"
	      "      --flows         one 'flow' event per pub/sub connection (default: output.flows)\n"
	      "      --no-flows      no 'flow' events\n"
	      "      --min-connections N  alert on groups of at least N connections (replaces\n"
	      "                      rules.min_connections, default 2)\n"
	      "      --min-suspicion LEVEL  alert from LEVEL (low, medium, high) up (replaces\n"
	      "                      rules.min_suspicion, default medium)\n"
	      "      --check-config  validate the configuration, print it, and exit\n"
	      "  -h, --help          this help\n"
	      "      --version       print the version\n"
	      "\n"
	      "Exit status: 0 success, 1 runtime error, 2 usage or configuration error.\n",
	      out);
}

static int usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "pubsub-sensor: %s%s%s%s\n", msg, arg ? " '" : "", arg ? arg : "",
		arg ? "'" : "");
	fprintf(stderr, "Try 'pubsub-sensor --help' for more information.\n");
	return SN_EXIT_USAGE;
}

enum {
	OPT_TABLE = 256, OPT_NO_TABLE, OPT_FLOWS, OPT_NO_FLOWS, OPT_CHECK_CONFIG, OPT_VERSION,
	OPT_MIN_CONNECTIONS, OPT_MIN_SUSPICION, OPT_TABLE_FORMAT,
};

struct cli {
	const char *files[SN_MAX_FILES];
	size_t n_files;
	const char *interface;
	const char *output;
	const char *config;
	char filter[SN_FILTER_MAX]; /* -f or the words after the options */
	bool have_filter;
	int table; /* -1 default, 0 off, 1 on */
	int flows; /* -1 config, 0 off, 1 on */
	bool check_config;
	uint32_t min_connections; /* --min-connections; 0 = rules.min_connections */
	int min_suspicion;        /* --min-suspicion (enum sn_suspicion); -1 = rules.min_suspicion */
	bool table_csv;           /* --table-format csv */
};

/* --min-connections N: the same range as rules.min_connections. */
static int parse_min_connections(struct cli *c, const char *arg)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || *end || errno || v < 1 || v > 1000000000ULL)
		return usage_error("--min-connections wants a whole number from 1 to 1000000000, not",
				   arg);
	c->min_connections = (uint32_t)v;
	return -1;
}

/* --min-suspicion low|medium|high, as rules.min_suspicion. */
static int parse_min_suspicion(struct cli *c, const char *arg)
{
	static const enum sn_suspicion levels[] = { SN_SUSP_LOW, SN_SUSP_MEDIUM, SN_SUSP_HIGH };
	for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
		if (strcmp(arg, sn_suspicion_name(levels[i])) == 0) {
			c->min_suspicion = (int)levels[i];
			return -1;
		}
	}
	return usage_error("--min-suspicion wants low, medium or high, not", arg);
}

/* The command line's thresholds replace the configuration's. */
static void use_cli_thresholds(const struct cli *c, struct sn_config *cfg)
{
	if (c->min_connections)
		cfg->rules.min_connections = c->min_connections;
	if (c->min_suspicion >= 0)
		cfg->rules.min_suspicion = (enum sn_suspicion)c->min_suspicion;
}

static int interface_twice(const char *first, const char *second)
{
	fprintf(stderr,
		"pubsub-sensor: -i given twice ('%s' and '%s'): a sensor captures on one interface; "
		"use -i any for all of them, or run one sensor per interface\n",
		first, second);
	return SN_EXIT_USAGE;
}

/*
 * The words after the options are one filter expression, joined with
 * spaces as tcpdump does (`pubsub-sensor -r x.pcap tcp port 5222`).
 * Returns -1 to go on, or an exit code.
 */
static int join_filter(struct cli *c, int n, char **words)
{
	if (c->have_filter)
		return usage_error("give the filter either with -f or after the options, not both; "
				   "unexpected argument", words[0]);
	size_t len = 0;
	for (int i = 0; i < n; i++) {
		size_t w = strlen(words[i]);
		if (len + w + (i > 0) >= sizeof c->filter)
			return usage_error("filter too long (at most 1023 characters)", NULL);
		if (i > 0)
			c->filter[len++] = ' ';
		memcpy(c->filter + len, words[i], w + 1);
		len += w;
	}
	c->have_filter = true;
	return -1;
}

/* Parses argv into *c; returns -1 to go on, or an exit code. */
static int parse_args(int argc, char **argv, struct cli *c)
{
	static const struct option longopts[] = {
		{ "read", required_argument, NULL, 'r' },
		{ "interface", required_argument, NULL, 'i' },
		{ "filter", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "config", required_argument, NULL, 'c' },
		{ "table", no_argument, NULL, OPT_TABLE },
		{ "no-table", no_argument, NULL, OPT_NO_TABLE },
		{ "flows", no_argument, NULL, OPT_FLOWS },
		{ "no-flows", no_argument, NULL, OPT_NO_FLOWS },
		{ "check-config", no_argument, NULL, OPT_CHECK_CONFIG },
		{ "min-connections", required_argument, NULL, OPT_MIN_CONNECTIONS },
		{ "min-suspicion", required_argument, NULL, OPT_MIN_SUSPICION },
		{ "table-format", required_argument, NULL, OPT_TABLE_FORMAT },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	int ch, rc;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":r:i:o:c:f:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			if (c->n_files == SN_MAX_FILES)
				return usage_error("too many -r files", NULL);
			c->files[c->n_files++] = optarg;
			break;
		case 'i':
			if (c->interface)
				return interface_twice(c->interface, optarg);
			c->interface = optarg;
			break;
		case 'f':
			if (c->have_filter)
				return usage_error("-f given twice; give one filter, e.g. -f 'port 1883 or port 5222'",
						   NULL);
			if (strlen(optarg) >= sizeof c->filter)
				return usage_error("filter too long (at most 1023 characters)", NULL);
			snprintf(c->filter, sizeof c->filter, "%s", optarg);
			c->have_filter = true;
			break;
		case 'o': c->output = optarg; break;
		case 'c': c->config = optarg; break;
		case OPT_TABLE: c->table = 1; break;
		case OPT_NO_TABLE: c->table = 0; break;
		case OPT_FLOWS: c->flows = 1; break;
		case OPT_NO_FLOWS: c->flows = 0; break;
		case OPT_CHECK_CONFIG: c->check_config = true; break;
		case OPT_MIN_CONNECTIONS:
			if ((rc = parse_min_connections(c, optarg)) >= 0)
				return rc;
			break;
		case OPT_TABLE_FORMAT:
			if (strcmp(optarg, "csv") != 0 && strcmp(optarg, "text") != 0)
				return usage_error("--table-format wants text or csv, not", optarg);
			c->table_csv = strcmp(optarg, "csv") == 0;
			break;
		case OPT_MIN_SUSPICION:
			if ((rc = parse_min_suspicion(c, optarg)) >= 0)
				return rc;
			break;
		case 'h': usage(stdout); return 0;
		case OPT_VERSION: printf("pubsub-sensor %s\n", SN_VERSION); return 0;
		case ':': return usage_error("missing argument for", argv[optind - 1]);
		default: return usage_error("unknown option", argv[optind - 1]);
		}
	}
	if (optind < argc) {
		rc = join_filter(c, argc - optind, argv + optind);
		if (rc >= 0)
			return rc;
	}
	if (c->n_files && c->interface)
		return usage_error("use either -r (replay) or -i (live), not both", NULL);
	return -1;
}

static int load_config(struct sn_config *cfg, const char *path)
{
	sn_config_defaults(cfg);
	if (!path)
		return 0;
	struct sn_error err;
	if (sn_config_load_file(cfg, path, &err) != 0) {
		char line[1024];
		sn_error_format(&err, line, sizeof line);
		fprintf(stderr, "pubsub-sensor: %s\n", line);
		return -1;
	}
	return 0;
}

/*
 * The files the sensor will create, checked before anything runs: as root
 * it must not write where another user can plant a link (safefile.h).
 */
static int check_output_paths(const struct cli *c, const struct sn_config *cfg, bool live)
{
	char msg[1024];
	const char *log = c->output ? c->output : live ? cfg->output.event_log : NULL;
	if (log && log[0] && strcmp(log, "-") != 0 &&
	    sn_safefile_check("event log", log, msg, sizeof msg) != 0) {
		fprintf(stderr, "pubsub-sensor: %s\n", msg);
		return -1;
	}
	if (live && cfg->daemon.pid_file[0] &&
	    sn_safefile_check("pid file", cfg->daemon.pid_file, msg, sizeof msg) != 0) {
		fprintf(stderr, "pubsub-sensor: %s\n", msg);
		return -1;
	}
	return 0;
}

/* capture.filter's check in the configuration: BPF for Ethernet frames. */
static int check_config_filter(const char *filter, char *msg, size_t cap)
{
	return sn_capture_check_filter(filter, DLT_EN10MB, msg, cap);
}

/*
 * The command line's filter replaces capture.filter, in replay as live;
 * it must compile (for Ethernet; each file's own link type is checked
 * when it is opened).  0, or an exit code.
 */
static int use_cli_filter(const struct cli *c, struct sn_config *cfg)
{
	char msg[1200];
	if (!c->have_filter)
		return 0;
	if (c->filter[0] && sn_capture_check_filter(c->filter, DLT_EN10MB, msg, sizeof msg) != 0) {
		fprintf(stderr, "pubsub-sensor: %s\n", msg);
		return SN_EXIT_USAGE;
	}
	snprintf(cfg->capture.filter, sizeof cfg->capture.filter, "%s", c->filter);
	return 0;
}

/* `pubsub-sensor x.pcap`: the word is a file, not a filter. */
static int nothing_to_do(const struct cli *c)
{
	if (c->have_filter && !strchr(c->filter, ' ') && access(c->filter, F_OK) == 0) {
		fprintf(stderr, "pubsub-sensor: '%s' is a file: replay it with -r %s\n", c->filter,
			c->filter);
		return SN_EXIT_USAGE;
	}
	return usage_error("nothing to do: give -r FILE to replay a capture or -i IFACE to capture live",
			   NULL);
}

static int run_replay(struct sn_config *cfg, const struct cli *c)
{
	struct sn_replay_options o = {
		.files = c->files,
		.n_files = c->n_files,
		.log_path = c->output,
		.table_out = NULL,
		.table_csv = c->table_csv,
	};
	bool log_on_stdout = c->output && strcmp(c->output, "-") == 0;
	if (c->table == 1)
		o.table_out = log_on_stdout ? stderr : stdout;
	else if (c->table == -1 && !log_on_stdout)
		o.table_out = stdout;
	if (c->flows >= 0)
		cfg->output.flows = c->flows == 1;
	return sn_replay_run(cfg, &o);
}

int main(int argc, char **argv)
{
	static struct cli c;
	c.table = -1;
	c.flows = -1;
	c.min_suspicion = -1;
	if (argc > 1 && strcmp(argv[1], "report") == 0)
		return sn_report_main(argc - 1, argv + 1);
	/* A closed output pipe is an error to report (EPIPE), not a silent death. */
	signal(SIGPIPE, SIG_IGN);
	int rc = parse_args(argc, argv, &c);
	if (rc >= 0)
		return rc;

	static struct sn_config cfg;
	sn_config_set_filter_check(check_config_filter);
	if (load_config(&cfg, c.config) != 0)
		return SN_EXIT_USAGE;
	use_cli_thresholds(&c, &cfg);
	if (c.check_config) {
		if ((rc = use_cli_filter(&c, &cfg)) != 0)
			return rc;
		sn_config_print(stdout, &cfg);
		fprintf(stderr, "pubsub-sensor: configuration %s is valid\n",
			c.config ? c.config : "(built-in defaults)");
		return 0;
	}
	bool live = !c.n_files && (c.interface || cfg.capture.interface[0]);
	if (!c.n_files && !live)
		return nothing_to_do(&c);
	if ((rc = use_cli_filter(&c, &cfg)) != 0)
		return rc;
	if (check_output_paths(&c, &cfg, live) != 0)
		return SN_EXIT_USAGE;
	if (c.n_files)
		return run_replay(&cfg, &c);
	struct sn_daemon_options o = {
		.config_path = c.config,
		.interface = c.interface,
		.log_path = c.output,
		.flows = c.flows,
		.min_connections = c.min_connections,
		.min_suspicion = c.min_suspicion,
	};
	return sn_daemon_run(&cfg, &o);
}
