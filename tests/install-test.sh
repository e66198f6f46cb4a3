#!/bin/sh
# install-test.sh - `make install` into a scratch DESTDIR: the unit's
# ExecStart names the installed binary, the man page is installed, the steps
# the Debian package adds are named, and `make uninstall` removes it all.
# Needs no root (nothing is installed outside the scratch directory).
# Prints "install: N passed, M failed".
set -u
cd "$(dirname "$0")/.." || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() {
	failed=$((failed + 1))
	echo "FAIL $1"
	if [ -n "${2:-}" ]; then echo "     $2"; fi
	return 0
}

# execstart UNIT: the program the unit starts
execstart() { sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$1"; }

for prefix in /usr/local /usr; do
	root=$tmp/root$(echo "$prefix" | tr / _)
	if ! make -s install DESTDIR="$root" PREFIX="$prefix" >"$tmp/out" 2>&1; then
		fail "make install PREFIX=$prefix" "$(tail -n 5 "$tmp/out")"
		continue
	fi
	ok "make install PREFIX=$prefix"
	unit=$root/lib/systemd/system/pubsub-sensor.service
	prog=$(execstart "$unit" 2>/dev/null)
	[ "$prog" = "$prefix/bin/pubsub-sensor" ] && [ -x "$root$prog" ] &&
		ok "PREFIX=$prefix: ExecStart $prog is the installed binary" ||
		fail "PREFIX=$prefix: ExecStart '$prog' is the installed binary"
	"$root$prog" --version 2>/dev/null | grep -q '^pubsub-sensor [0-9]' &&
		ok "PREFIX=$prefix: the installed binary runs" || fail "PREFIX=$prefix: the installed binary runs"
	man=$root$prefix/share/man/man8/pubsub-sensor.8
	[ -f "$man" ] && cmp -s "$man" packaging/pubsub-sensor.8 &&
		ok "PREFIX=$prefix: man page in $prefix/share/man/man8" ||
		fail "PREFIX=$prefix: man page in $prefix/share/man/man8"
	grep -q 'service user: .*adduser --system' "$tmp/out" &&
		grep -q 'log directory: .*/var/log/pubsub-sensor' "$tmp/out" &&
		ok "PREFIX=$prefix: names the steps make deb does that it does not" ||
		fail "PREFIX=$prefix: names the steps make deb does that it does not" "$(cat "$tmp/out")"
	make -s uninstall DESTDIR="$root" PREFIX="$prefix" >/dev/null 2>&1
	left=$(find "$root" -type f ! -path "*/etc/pubsub-sensor/*")
	[ -z "$left" ] && ok "PREFIX=$prefix: make uninstall removes what it installed" ||
		fail "PREFIX=$prefix: make uninstall removes what it installed" "$left"
done

echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
