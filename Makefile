# pubsub-sensor build.  `make` builds ./pubsub-sensor; `make test` runs every
# test; `make demo` installs what is missing, builds and replays a capture.

VERSION := 0.1.0
PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
PKG_CONFIG ?= pkg-config

PKGS := libpcap libuv yaml-0.1 nettle zlib jansson
# Warnings are errors only where the compiler is known (CI sets WERROR=1, and
# `make asan` always): a newer compiler's new warning must not break a user's build.
WERROR ?= 0
WARN := -Wall -Wextra -Wshadow -Wconversion -Wstrict-prototypes -Wmissing-prototypes \
	$(if $(filter 1,$(WERROR)),-Werror)
# Each object records the headers it includes (build/**/*.d).
DEPFLAGS = -MMD -MP
CSTD := -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE
OPT ?= -O2 -g
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CHECK_CFLAGS = $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS = $(shell $(PKG_CONFIG) --libs check 2>/dev/null)
CFLAGS_ALL = $(CSTD) $(WARN) $(OPT) -DSN_VERSION='"$(VERSION)"' -Isensor -Idissectors $(PKG_CFLAGS) $(CFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -lpthread $(LDLIBS)

HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong
LDHARDEN := -Wl,-z,relro,-z,now
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

LIB_SRCS := $(sort $(wildcard dissectors/*.c) $(filter-out sensor/main.c,$(wildcard sensor/*.c)))
LIB_OBJS := $(LIB_SRCS:%.c=build/%.o)
ASAN_OBJS := $(LIB_SRCS:%.c=build/asan/%.o)
TEST_SRCS := $(sort $(wildcard tests/test_*.c))
TEST_NAMES := $(TEST_SRCS:tests/test_%.c=%)
HDRS := $(wildcard sensor/*.h dissectors/*.h tests/*.h)

.PHONY: splunk-app all deps demo test unit golden asan test-asan bench fuzz install uninstall deb clean check-deps corpus
.DEFAULT_GOAL := all

all: check-deps pubsub-sensor

check-deps:
	@./packaging/check-deps.sh build

pubsub-sensor: build/sensor/main.o build/libsensor.a
	$(CC) $(CFLAGS_ALL) $(LDHARDEN) -o $@ $^ $(LDLIBS_ALL)

build/libsensor.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

build/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(HARDEN) $(DEPFLAGS) -c -o $@ $<

# --- tests -------------------------------------------------------------
build/tests/suites.h: $(TEST_SRCS)
	@mkdir -p build/tests
	@{ for n in $(TEST_NAMES); do echo "SN_SUITE($$n)"; done; } > $@.tmp
	@cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp

TEST_OBJS := $(patsubst %.c,build/%.o,tests/check_main.c tests/testutil.c $(TEST_SRCS))
ASAN_TEST_OBJS := $(TEST_OBJS:build/%=build/asan/%)

build/tests/%.o: tests/%.c | build/tests/suites.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(CHECK_CFLAGS) -Ibuild/tests -Itests $(DEPFLAGS) -c -o $@ $<

build/tests/run-unit: $(TEST_OBJS) build/libsensor.a
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(CHECK_LIBS) $(LDLIBS_ALL)

unit: check-deps build/tests/run-unit
	SN_TEST_PCAPS=pcaps ./build/tests/run-unit

golden: pubsub-sensor
	/usr/bin/python3 tests/golden.py --sensor ./pubsub-sensor

# The whole suite: unit tests (Check), golden replays, CLI and live tests.
test: check-deps pubsub-sensor build/tests/run-unit
	./tests/run-all.sh ./pubsub-sensor ./build/tests/run-unit

# --- sanitizers ---------------------------------------------------------
build/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Werror $(SAN) $(DEPFLAGS) -c -o $@ $<

build/asan/tests/%.o: tests/%.c | build/tests/suites.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Werror $(SAN) $(CHECK_CFLAGS) -Ibuild/tests -Itests $(DEPFLAGS) -c -o $@ $<

build/asan/libsensor.a: $(ASAN_OBJS)
	@rm -f $@
	ar rcs $@ $^

pubsub-sensor-asan: build/asan/sensor/main.o build/asan/libsensor.a
	$(CC) $(CFLAGS_ALL) $(SAN) -o $@ $^ $(LDLIBS_ALL)

build/tests/run-unit-asan: $(ASAN_TEST_OBJS) build/asan/libsensor.a
	$(CC) $(CFLAGS_ALL) $(SAN) -o $@ $^ $(CHECK_LIBS) $(LDLIBS_ALL)

asan: check-deps pubsub-sensor-asan build/tests/run-unit-asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		SN_ASAN=1 ./tests/run-all.sh ./pubsub-sensor-asan ./build/tests/run-unit-asan

# --- one command to try it ----------------------------------------------
deps:
	@./packaging/check-deps.sh install

demo: deps pubsub-sensor
	./pubsub-sensor -r pcaps/demo.pcap

# --- install and package -------------------------------------------------
# The unit's ExecStart names $(PREFIX)/bin/pubsub-sensor (the shipped file
# says /usr/bin, the Debian package's PREFIX).  What the package's
# maintainer scripts do on top of this (service user, log directory, unit
# registration) is printed at the end: a source install leaves it to the
# administrator.
UNITDIR ?= /lib/systemd/system
MANDIR ?= $(PREFIX)/share/man
install: pubsub-sensor
	install -D -m 0755 pubsub-sensor $(DESTDIR)$(PREFIX)/bin/pubsub-sensor
	install -D -m 0644 config/pubsub-sensor.yaml $(DESTDIR)/etc/pubsub-sensor/pubsub-sensor.yaml
	install -d $(DESTDIR)$(UNITDIR)
	sed 's#^ExecStart=/usr/bin/pubsub-sensor #ExecStart=$(PREFIX)/bin/pubsub-sensor #' \
		packaging/pubsub-sensor.service >$(DESTDIR)$(UNITDIR)/pubsub-sensor.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/pubsub-sensor.service
	install -D -m 0644 packaging/pubsub-sensor.logrotate $(DESTDIR)/etc/logrotate.d/pubsub-sensor
	install -D -m 0644 packaging/pubsub-sensor.8 $(DESTDIR)$(MANDIR)/man8/pubsub-sensor.8
	@echo "Installed. Not done by make install (the Debian package, make deb, does these):"
	@echo "  service user:   adduser --system --group --no-create-home --home /nonexistent pubsub-sensor"
	@echo "  log directory:  install -d -o pubsub-sensor -g pubsub-sensor -m 0750 /var/log/pubsub-sensor"
	@echo "  the unit:       systemctl daemon-reload; set capture.interface in /etc/pubsub-sensor/pubsub-sensor.yaml; systemctl enable --now pubsub-sensor"

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/pubsub-sensor $(DESTDIR)$(UNITDIR)/pubsub-sensor.service \
		$(DESTDIR)/etc/logrotate.d/pubsub-sensor $(DESTDIR)$(MANDIR)/man8/pubsub-sensor.8

deb: pubsub-sensor
	./packaging/build-deb.sh $(VERSION)

clean:
	rm -rf build pubsub-sensor pubsub-sensor-asan *.deb

# Compare with tshark on the public corpus (needs tshark and the shared folder).
SHARED ?= ../shared
corpus: pubsub-sensor
	/usr/bin/python3 tests/corpus_compare.py --sensor ./pubsub-sensor --corpus $(SHARED)/corpus

# check_main.c includes the generated suite list; the rest is in the .d files.
build/tests/check_main.o build/asan/tests/check_main.o: build/tests/suites.h
-include $(patsubst %.o,%.d,$(LIB_OBJS) $(ASAN_OBJS) $(TEST_OBJS) $(ASAN_TEST_OBJS) \
	build/sensor/main.o build/asan/sensor/main.o)

# Fuzzing (libFuzzer, clang) and benchmarks live in their own files.
-include fuzz/fuzz.mk
-include bench/bench.mk

# Splunk add-on (packaging/splunk/TA-pubsub-sensor) as an installable archive.
SPLUNK_APP := build/TA-pubsub-sensor-$(VERSION).tgz
splunk-app: $(SPLUNK_APP)
$(SPLUNK_APP): $(shell find packaging/splunk/TA-pubsub-sensor -type f 2>/dev/null)
	@mkdir -p build
	tar -C packaging/splunk --owner=0 --group=0 --numeric-owner --sort=name \
		--mtime='2026-01-01 00:00Z' --mode='u+rwX,go+rX,go-w' -czf $@ TA-pubsub-sensor
