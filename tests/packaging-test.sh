#!/bin/sh
# packaging-test.sh - build the Debian package, install it, check what it set
# up, purge it and check it is gone.  Needs root (it installs a package);
# installs its own tools with apt-get when they are missing.
#
# Environment:
#   SN_PKG_BINARY, SN_PKG_CONFIG  package this binary / configuration instead
#                                 of building with `make deb` (see build-deb.sh)
#   SN_PKG_KEEP_DEB=1             leave the .deb in the top directory
# Ends with "packaging: N passed, M failed" and exits 1 if anything failed.
set -u

cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
pkg=pubsub-sensor
passed=0
failed=0
skipped=0
logs=$(mktemp -d "${TMPDIR:-/tmp}/$pkg-pkgtest.XXXXXX")
trap 'rm -rf "$logs"' EXIT
export DEBIAN_FRONTEND=noninteractive

pass() { passed=$((passed + 1)); echo "ok   - $1"; }
skip() { skipped=$((skipped + 1)); echo "skip - $1"; }
fail() {
	failed=$((failed + 1))
	echo "FAIL - $1"
	[ -n "${2:-}" ] && [ -s "$2" ] && sed 's/^/       /' "$2" | tail -n 15
	return 0
}
# check NAME CMD...: runs CMD (bounded to 5 minutes), output kept for a failure.
check() {
	name=$1
	shift
	if timeout 300 "$@" >"$logs/out" 2>&1; then pass "$name"; else fail "$name" "$logs/out"; fi
}
finish() {
	[ "${SN_PKG_KEEP_DEB:-0}" = 1 ] || rm -f "$deb"
	line="packaging: $passed passed, $failed failed"
	[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
	echo "$line"
	[ "$failed" -eq 0 ]
	exit
}

if [ "$(id -u)" != 0 ]; then
	echo "packaging: skipped: installing a package needs root (run as root or with sudo)"
	echo "packaging: 0 passed, 0 failed, 1 skipped"
	exit 0
fi

# --- tools ------------------------------------------------------------------
# command -> Debian package providing it
need_tools() {
	missing=""
	for pair in make:make dpkg-deb:dpkg dpkg-shlibdeps:dpkg-dev strip:binutils \
		adduser:adduser logrotate:logrotate systemd-analyze:systemd; do
		command -v "${pair%%:*}" >/dev/null 2>&1 || missing="$missing ${pair#*:}"
	done
	[ -z "$missing" ] && return 0
	echo "packaging: installing$missing"
	# $missing is a list of package names: word splitting is wanted.
	# shellcheck disable=SC2086
	timeout 600 apt-get install -y -q --no-install-recommends $missing >"$logs/apt" 2>&1 || {
		timeout 300 apt-get update -q >/dev/null 2>&1
		# shellcheck disable=SC2086
		timeout 600 apt-get install -y -q --no-install-recommends $missing >"$logs/apt" 2>&1
	} || fail "install tools:$missing" "$logs/apt"
}
need_tools

version=$(sed -n 's/^VERSION *:= *//p' Makefile)
arch=$(dpkg --print-architecture)
deb=$top/${pkg}_${version}_$arch.deb
rm -f "$deb"

# --- build ------------------------------------------------------------------
if [ -n "${SN_PKG_BINARY:-}" ]; then
	binary=$SN_PKG_BINARY
	check "build-deb.sh $version (binary $binary)" ./packaging/build-deb.sh "$version"
else
	binary=$top/$pkg
	check "make deb" make deb
fi
if [ ! -f "$deb" ]; then
	fail "package file ${deb##*/} exists"
	finish
fi
pass "package file ${deb##*/} exists"

if command -v lintian >/dev/null 2>&1; then
	timeout 300 lintian "$deb" >"$logs/lintian" 2>&1
	if grep -q '^E:' "$logs/lintian"; then fail "lintian: no errors" "$logs/lintian"; else pass "lintian: no errors"; fi
else
	skip "lintian not installed (apt-get install lintian to run it)"
fi

# --- the unit, before installing ---------------------------------------------
# verify insists that ExecStart exists, so it checks a copy that starts the
# binary just packaged; man pages are checked after installing.
analyze_ok=0
if timeout 60 systemd-analyze --version >/dev/null 2>&1; then
	analyze_ok=1
	mkdir -p "$logs/unit"
	sed "s#^ExecStart=/usr/bin/$pkg#ExecStart=$binary#" packaging/$pkg.service \
		>"$logs/unit/$pkg.service"
	check "systemd-analyze verify $pkg.service" \
		systemd-analyze verify --man=no "$logs/unit/$pkg.service"
	if timeout 60 systemd-analyze security --offline=yes "$logs/unit/$pkg.service" \
		>"$logs/security" 2>&1; then
		score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$logs/security")
		if awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 2.0) }'; then
			pass "systemd-analyze security exposure $score <= 2.0"
		else
			fail "systemd-analyze security exposure '$score' <= 2.0" "$logs/security"
		fi
	else
		skip "systemd-analyze security --offline not supported here"
	fi
else
	skip "systemd-analyze cannot run here: unit not verified"
fi

# --- install ----------------------------------------------------------------
if ! timeout 300 dpkg -i "$deb" >"$logs/dpkg" 2>&1; then
	# Missing libraries: let apt bring them and finish the configuration.
	timeout 600 apt-get install -y -q -f --no-install-recommends >>"$logs/dpkg" 2>&1
fi
status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)
if [ "$status" = "install ok installed" ]; then pass "dpkg -i installs the package"; else
	fail "dpkg -i installs the package (status '$status')" "$logs/dpkg"
	finish
fi

check "/usr/bin/$pkg --version" /usr/bin/$pkg --version
if grep -q "$version" "$logs/out"; then pass "--version prints $version"; else fail "--version prints $version" "$logs/out"; fi
check "--check-config -c /etc/$pkg/$pkg.yaml exits 0" \
	/usr/bin/$pkg --check-config -c /etc/$pkg/$pkg.yaml
check "user $pkg exists" getent passwd $pkg
check "group $pkg exists" getent group $pkg

logdir=/var/log/$pkg
got=$(stat -c '%U:%G %a' "$logdir" 2>&1)
if [ "$got" = "$pkg:$pkg 750" ]; then pass "$logdir is $pkg:$pkg 0750"; else
	fail "$logdir is $pkg:$pkg 0750 (got '$got')"
fi

conffiles=$(dpkg-query -W -f='${Conffiles}' $pkg)
for f in /etc/$pkg/$pkg.yaml /etc/logrotate.d/$pkg; do
	case "$conffiles" in
	*"$f "*) pass "$f is a conffile" ;;
	*) fail "$f is a conffile" ;;
	esac
done
for f in /lib/systemd/system/$pkg.service /usr/share/man/man8/$pkg.8.gz \
	/usr/share/doc/$pkg/copyright /usr/share/doc/$pkg/changelog.Debian.gz; do
	if [ -f "$f" ]; then pass "$f installed"; else fail "$f installed"; fi
done

# logrotate -d only reads and reports; "error:" lines mean a bad stanza.
timeout 60 logrotate -d /etc/logrotate.d/$pkg >"$logs/logrotate" 2>&1
if grep -q '^error:' "$logs/logrotate"; then fail "logrotate accepts /etc/logrotate.d/$pkg" "$logs/logrotate"; else
	pass "logrotate accepts /etc/logrotate.d/$pkg"
fi

if [ "$analyze_ok" = 1 ]; then
	check "systemd-analyze verify the installed unit" \
		systemd-analyze verify /lib/systemd/system/$pkg.service
fi

# --- purge ------------------------------------------------------------------
check "dpkg --purge $pkg" dpkg --purge $pkg
for f in /usr/bin/$pkg /lib/systemd/system/$pkg.service /etc/$pkg/$pkg.yaml \
	/etc/logrotate.d/$pkg "$logdir" /etc/systemd/system/multi-user.target.wants/$pkg.service; do
	if [ -e "$f" ] || [ -L "$f" ]; then fail "purge removed $f"; else pass "purge removed $f"; fi
done
if dpkg-query -W -f='${Status}' $pkg 2>/dev/null | grep -q installed; then
	fail "dpkg no longer lists $pkg as installed"
else
	pass "dpkg no longer lists $pkg as installed"
fi

finish
