# fuzz/fuzz.mk - libFuzzer targets, included from the Makefile.
#
#   make fuzz [FUZZ_SECONDS=30]   build every target and run each for N seconds
#   make fuzz-build               only build build/fuzz/fuzz_<target>
#   make fuzz-run-<target>        run one target (e.g. fuzz-run-mqtt)
#   make fuzz-regress             rerun the saved crash inputs in tests/data/fuzz-regressions/
#
# The library is rebuilt with clang and the fuzzer's instrumentation into
# build/fuzz/obj/.  Each run grows build/fuzz/corpus-<target> from the seeds
# in fuzz/seeds/<target> (made by fuzz/make-seeds.sh) and writes any crash
# input to build/fuzz/artifacts-<target>/; a crash, leak or timeout fails
# the run.  `make -j2 fuzz` runs two targets at a time.

FUZZ_CC ?= $(shell command -v clang 2>/dev/null || command -v clang-14 2>/dev/null || echo clang)
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := mqtt xmpp amqp stomp tls websocket decode replay config dns
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# clang's warnings differ from gcc's: keep them, but do not fail the fuzz build on them.
FUZZ_CFLAGS = $(filter-out -Werror -O2 -O3,$(CFLAGS_ALL)) -O1 $(FUZZ_SAN)
FUZZ_OBJS := $(LIB_SRCS:%.c=build/fuzz/obj/%.o)
FUZZ_BINS := $(FUZZ_TARGETS:%=build/fuzz/fuzz_%)
FUZZ_RUNS := $(FUZZ_TARGETS:%=fuzz-run-%)

.PHONY: fuzz fuzz-build fuzz-regress $(FUZZ_RUNS)

build/fuzz/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

build/fuzz/libsensor.a: $(FUZZ_OBJS)
	@rm -f $@
	ar rcs $@ $^

build/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_stream.h build/fuzz/libsensor.a $(HDRS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Ifuzz -o $@ $< build/fuzz/libsensor.a $(LDLIBS_ALL)

fuzz-build: $(FUZZ_BINS)

$(FUZZ_RUNS): fuzz-run-%: build/fuzz/fuzz_%
	@./fuzz/run-target.sh $* $(FUZZ_SECONDS)

fuzz: $(FUZZ_RUNS)
	@echo "fuzz: $(words $(FUZZ_TARGETS)) targets ran $(FUZZ_SECONDS) s each without a crash"
	@echo "fuzz: $(words $(FUZZ_TARGETS)) passed, 0 failed"

fuzz-regress: $(FUZZ_BINS)
	@n=0; for t in $(FUZZ_TARGETS); do \
		for f in tests/data/fuzz-regressions/$$t/*; do \
			[ -f "$$f" ] || continue; n=$$((n + 1)); \
			./build/fuzz/fuzz_$$t -timeout=10 -rss_limit_mb=2048 "$$f" >build/fuzz/regress.log 2>&1 || \
				{ cat build/fuzz/regress.log; echo "fuzz-regress: $$f fails"; exit 1; }; \
		done; \
	done; echo "fuzz-regress: $$n saved inputs pass"
