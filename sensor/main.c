/*
 * main.c - the command line: options, configuration, and which driver runs
 * (offline replay or the live daemon).  No packet logic lives here.
 */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "daemon.h"
#include "replay.h"
#include "safefile.h"

#ifndef SN_VERSION
#define SN_VERSION "0.0.0"
#endif

#define SN_EXIT_RUNTIME 1
#define SN_EXIT_USAGE 2
#define SN_MAX_FILES 4096

static void usage(FILE *out)
{
	fputs("usage: pubsub-sensor -r FILE [-r FILE ...] [-o PATH] [-c CONFIG] [--table|--no-table] [--flows|--no-flows]\n"
	      "       pubsub-sensor -i IFACE [-c CONFIG] [-o PATH] [--flows|--no-flows]\n"
	      "       pubsub-sensor --check-config [-c CONFIG]\n"
	      "\n"
	      "Finds command-and-control over MQTT, XMPP, AMQP and STOMP (MITRE ATT&CK T1071.005).\n"
	      "\n"
	      "  -r, --read FILE     replay a pcap or pcapng file ('-' = standard input); repeat for\n"
	      "                      several files, read in order as one timeline\n"
	      "  -i, --interface IF  capture live on IF ('any' for all interfaces)\n"
	      "  -o, --output PATH   write the JSON Lines event log to PATH ('-' = standard output)\n"
	      "  -c, --config FILE   YAML configuration (see config/pubsub-sensor.yaml)\n"
	      "      --table         print the search's table after a replay (default)\n"
	      "      --no-table      do not print the table\n"
	      "      --flows         one 'flow' event per pub/sub connection (default: output.flows)\n"
	      "      --no-flows      no 'flow' events\n"
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

enum { OPT_TABLE = 256, OPT_NO_TABLE, OPT_FLOWS, OPT_NO_FLOWS, OPT_CHECK_CONFIG, OPT_VERSION };

struct cli {
	const char *files[SN_MAX_FILES];
	size_t n_files;
	const char *interface;
	const char *output;
	const char *config;
	int table; /* -1 default, 0 off, 1 on */
	int flows; /* -1 config, 0 off, 1 on */
	bool check_config;
};

/* Parses argv into *c; returns -1 to go on, or an exit code. */
static int parse_args(int argc, char **argv, struct cli *c)
{
	static const struct option longopts[] = {
		{ "read", required_argument, NULL, 'r' },
		{ "interface", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "config", required_argument, NULL, 'c' },
		{ "table", no_argument, NULL, OPT_TABLE },
		{ "no-table", no_argument, NULL, OPT_NO_TABLE },
		{ "flows", no_argument, NULL, OPT_FLOWS },
		{ "no-flows", no_argument, NULL, OPT_NO_FLOWS },
		{ "check-config", no_argument, NULL, OPT_CHECK_CONFIG },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	int ch;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":r:i:o:c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			if (c->n_files == SN_MAX_FILES)
				return usage_error("too many -r files", NULL);
			c->files[c->n_files++] = optarg;
			break;
		case 'i': c->interface = optarg; break;
		case 'o': c->output = optarg; break;
		case 'c': c->config = optarg; break;
		case OPT_TABLE: c->table = 1; break;
		case OPT_NO_TABLE: c->table = 0; break;
		case OPT_FLOWS: c->flows = 1; break;
		case OPT_NO_FLOWS: c->flows = 0; break;
		case OPT_CHECK_CONFIG: c->check_config = true; break;
		case 'h': usage(stdout); return 0;
		case OPT_VERSION: printf("pubsub-sensor %s\n", SN_VERSION); return 0;
		case ':': return usage_error("missing argument for", argv[optind - 1]);
		default: return usage_error("unknown option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument", argv[optind]);
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

static int run_replay(struct sn_config *cfg, const struct cli *c)
{
	struct sn_replay_options o = {
		.files = c->files,
		.n_files = c->n_files,
		.log_path = c->output,
		.table_out = NULL,
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
	/* A closed output pipe is an error to report (EPIPE), not a silent death. */
	signal(SIGPIPE, SIG_IGN);
	int rc = parse_args(argc, argv, &c);
	if (rc >= 0)
		return rc;

	static struct sn_config cfg;
	if (load_config(&cfg, c.config) != 0)
		return SN_EXIT_USAGE;
	if (c.check_config) {
		sn_config_print(stdout, &cfg);
		fprintf(stderr, "pubsub-sensor: configuration %s is valid\n",
			c.config ? c.config : "(built-in defaults)");
		return 0;
	}
	bool live = !c.n_files && (c.interface || cfg.capture.interface[0]);
	if ((c.n_files || live) && check_output_paths(&c, &cfg, live) != 0)
		return SN_EXIT_USAGE;
	if (c.n_files)
		return run_replay(&cfg, &c);
	if (live) {
		struct sn_daemon_options o = {
			.config_path = c.config,
			.interface = c.interface,
			.log_path = c.output,
			.flows = c.flows,
		};
		return sn_daemon_run(&cfg, &o);
	}
	return usage_error("nothing to do: give -r FILE to replay a capture or -i IFACE to capture live",
			   NULL);
}
