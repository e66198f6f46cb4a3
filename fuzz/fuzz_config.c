/*
 * fuzz_config.c - libFuzzer target for the YAML configuration loader.
 *
 * The input is a configuration file.  When it loads, the effective
 * configuration is printed, and that text must load back and print the same
 * (sn_config_print promises YAML that loads back to the same).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The configuration printed to a heap string (caller frees), or abort. */
static char *print_config(const struct sn_config *cfg, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);
	if (!f)
		abort();
	sn_config_print(f, cfg);
	if (fclose(f) != 0)
		abort();
	return text;
}

static void check_round_trip(const struct sn_config *cfg)
{
	size_t len1 = 0, len2 = 0;
	char *text1 = print_config(cfg, &len1);
	struct sn_config *again = malloc(sizeof *again);
	struct sn_error err;
	if (!again)
		abort();
	sn_config_defaults(again);
	if (sn_config_load_string(again, "printed", text1, len1, &err) != 0) {
		fprintf(stderr, "printed configuration does not load: %d:%d: %s\n%s\n", err.line,
			err.column, err.msg, text1);
		abort();
	}
	char *text2 = print_config(again, &len2);
	if (len1 != len2 || memcmp(text1, text2, len1) != 0) {
		fprintf(stderr, "printed configuration changes on reload:\n%s\n---\n%s\n", text1, text2);
		abort();
	}
	free(text1);
	free(text2);
	free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sn_config *cfg = malloc(sizeof *cfg);
	struct sn_error err;
	if (!cfg)
		abort();
	sn_config_defaults(cfg);
	memset(&err, 0, sizeof err);
	if (sn_config_load_string(cfg, "fuzz.yaml", (const char *)data, size, &err) == 0) {
		check_round_trip(cfg);
	} else {
		char line[1024];
		sn_error_format(&err, line, sizeof line);
		if (!memchr(err.msg, '\0', sizeof err.msg))
			abort();
	}
	free(cfg);
	return 0;
}
