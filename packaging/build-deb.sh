#!/bin/sh
# build-deb.sh VERSION - build pubsub-sensor_VERSION_ARCH.deb in the top directory.
#
# The staging root comes from `make install DESTDIR=... PREFIX=/usr`; this
# script adds what only the package needs (stripped binary, man page,
# copyright, changelog, maintainer scripts, control data) and runs dpkg-deb.
# Depends is computed by dpkg-shlibdeps from the binary's libraries when
# dpkg-dev is installed, and written out by hand otherwise.
#
# For testing the packaging without building the sensor, SN_PKG_BINARY may
# name a binary to package instead of ./pubsub-sensor, and SN_PKG_CONFIG a
# configuration file to ship instead of config/pubsub-sensor.yaml.
set -eu

if [ $# -ne 1 ] || [ -z "$1" ]; then
	echo "usage: $0 VERSION" >&2
	exit 2
fi
version=$1
pkg=pubsub-sensor
top=$(cd "$(dirname "$0")/.." && pwd)
arch=$(dpkg --print-architecture)
fallback_depends="libc6, libpcap0.8, libuv1, libyaml-0-2, libnettle8, zlib1g, libjansson4"
umask 022

work=$(mktemp -d "${TMPDIR:-/tmp}/$pkg-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
root=$work/root

die() {
	echo "build-deb: $*" >&2
	exit 1
}

# Runs the Makefile's install target into $root.  With an override binary or
# configuration, it runs in a scratch tree that holds them under the names
# the Makefile expects, so the real tree is never touched.
stage_install() {
	if [ -z "${SN_PKG_BINARY:-}" ] && [ -z "${SN_PKG_CONFIG:-}" ]; then
		make -s -C "$top" install DESTDIR="$root" PREFIX=/usr >/dev/null
		return
	fi
	tree=$work/tree
	mkdir -p "$tree/config"
	ln -s "$top/packaging" "$tree/packaging"
	cp "${SN_PKG_BINARY:-$top/pubsub-sensor}" "$tree/$pkg"
	cp "${SN_PKG_CONFIG:-$top/config/$pkg.yaml}" "$tree/config/$pkg.yaml"
	make -s -C "$tree" -f "$top/Makefile" -o "$pkg" install DESTDIR="$root" PREFIX=/usr >/dev/null
}

# Strips the binary the way Debian's helpers do.
strip_binary() {
	strip --strip-unneeded --remove-section=.comment --remove-section=.note \
		"$root/usr/bin/$pkg"
}

# gzip -n: no name or time stamp inside, so rebuilds are identical.
add_docs() {
	doc=$root/usr/share/doc/$pkg
	man=$root/usr/share/man/man8
	install -d "$doc" "$man"
	install -m 0644 "$top/packaging/copyright" "$doc/copyright"
	# rsyslog snippets (forward over RELP/TLS, a local file) for /etc/rsyslog.d/
	install -d "$doc/rsyslog"
	install -m 0644 "$top"/packaging/rsyslog/*.conf "$doc/rsyslog/"
	# make install put the page there uncompressed; Debian ships it gzipped
	rm -f "$man/$pkg.8"
	gzip -9n <"$top/packaging/$pkg.8" >"$man/$pkg.8.gz"
	write_changelog | gzip -9n >"$doc/changelog.Debian.gz"
	chmod 0644 "$man/$pkg.8.gz" "$doc/changelog.Debian.gz"
}

write_changelog() {
	date=$(date -u -R ${SOURCE_DATE_EPOCH:+-d "@$SOURCE_DATE_EPOCH"})
	cat <<EOF
$pkg ($version) unstable; urgency=medium

  * Release $version: passive detection of command-and-control over MQTT,
    XMPP, AMQP and STOMP, with a hardened systemd service, log rotation and
    a manual page.

 -- $(maintainer)  $date
EOF
}

maintainer() {
	echo "pubsub-sensor developers <pubsub-sensor@example.org>"
}

# Prints the Depends value: the binary's shared libraries plus adduser,
# which postinst calls.
compute_depends() {
	libs=""
	if command -v dpkg-shlibdeps >/dev/null 2>&1; then
		mkdir -p "$work/src/debian"
		printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$pkg" "$pkg" \
			>"$work/src/debian/control"
		libs=$(cd "$work/src" && dpkg-shlibdeps -O "$root/usr/bin/$pkg" 2>/dev/null |
			sed -n 's/^shlibs:Depends=//p')
	fi
	echo "${libs:-$fallback_depends}, adduser"
}

write_control() {
	install -d -m 0755 "$root/DEBIAN"
	size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
	cat >"$root/DEBIAN/control" <<EOF
Package: $pkg
Version: $version
Architecture: $arch
Maintainer: $(maintainer)
Installed-Size: $size
Depends: $(compute_depends)
Section: net
Priority: optional
Description: passive detector of command-and-control in pub/sub protocols
 pubsub-sensor watches network traffic and recognises MQTT, XMPP, AMQP and
 STOMP sessions whatever TCP port they use.  It groups connections by
 source, destination and protocol, rates each group by the signs of
 command-and-control (MITRE ATT&CK T1071.005) such as unusual ports,
 external brokers and unknown clients, and writes alerts as JSON Lines.
 .
 It runs on capture files or live on an interface as a confined systemd
 service, and never sends traffic itself.
EOF
	(cd "$root" && find etc -type f | sed 's#^#/#' | sort) >"$root/DEBIAN/conffiles"
	# md5sums lists every shipped file except the conffiles, as debsums expects.
	(cd "$root" && find usr lib -type f | sort | xargs md5sum) >"$root/DEBIAN/md5sums"
	chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"
	for s in postinst prerm postrm; do
		install -m 0755 "$top/packaging/deb/$s" "$root/DEBIAN/$s"
	done
}

stage_install
[ -x "$root/usr/bin/$pkg" ] || die "make install did not produce usr/bin/$pkg"
strip_binary
add_docs
write_control
out=$top/${pkg}_${version}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
echo "$out"
