# bench.mk - `make bench`: the throughput benchmark (not part of `make test`).
# Included by the top-level Makefile; uses its CC, CFLAGS_ALL and LDLIBS_ALL.
# bench/run.sh builds ./pubsub-sensor and the programs below, generates the
# captures into build/bench/ and writes build/bench/results.md.
# BENCH_RUNS=N sets the timed runs per program and file (default 5).

BENCH_DIR := build/bench
BENCH_GEN_SRCS := bench/gen.c bench/gen_frame.c bench/gen_payload.c

$(BENCH_DIR)/gen: $(BENCH_GEN_SRCS) bench/gen.h
	@mkdir -p $(BENCH_DIR)
	$(CC) $(CFLAGS_ALL) -o $@ $(BENCH_GEN_SRCS)

$(BENCH_DIR)/bare: bench/bare.c dissectors/cursor.h
	@mkdir -p $(BENCH_DIR)
	$(CC) $(CFLAGS_ALL) -o $@ bench/bare.c $(LDLIBS_ALL)

$(BENCH_DIR)/hashflood: bench/hashflood.c tests/testutil.c build/libsensor.a $(HDRS)
	@mkdir -p $(BENCH_DIR)
	$(CC) $(CFLAGS_ALL) $(CHECK_CFLAGS) -Itests -o $@ bench/hashflood.c tests/testutil.c \
		build/libsensor.a $(CHECK_LIBS) $(LDLIBS_ALL)

bench:
	MAKE="$(MAKE)" ./bench/run.sh
