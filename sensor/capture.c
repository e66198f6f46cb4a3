/*
 * capture.c - opening capture files and live interfaces with libpcap.
 *
 * Every failure a user can cause comes back as one sentence that names the
 * file or interface, the cause, and where there is one, the fix.  Offline
 * files can be read through a large stdio buffer (struct sn_capture_file)
 * so that a replay is not dominated by small read(2) calls.  Live
 * handles are non-blocking (the daemon polls their descriptor), in block
 * mode (TPACKET_V3) with a 5 ms block timeout, and may join a Linux PACKET_FANOUT group so
 * that several workers each see whole connections.
 */
#include "capture.h"

#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/if_packet.h>

#include "decode.h"
#include "gzstream.h"

_Static_assert(SN_CAPTURE_READ_BUFFER >= SN_PCAPREAD_BLOCK, "the read buffer holds a block");

/*
 * Live handles are not in immediate mode: libpcap then uses TPACKET_V3
 * blocks, which the kernel hands over when full or SN_CAPTURE_TIMEOUT_MS
 * after their first packet, one wakeup per block instead of per packet,
 * and which hold packets at their own size rather than in snaplen-sized
 * frames.  A packet waits at most that long before it is read.  Host
 * attribution needs more: it asks the kernel about a connection at its
 * first SYN, and a short-lived client (mosquitto_pub, nc) has closed its
 * socket by the time a block is handed over on a quiet link, so with
 * attribution on the handle is in immediate mode (o->immediate), trading
 * the block mode's peak rate for naming the process.
 */
#define SN_CAPTURE_TIMEOUT_MS 5
#define SN_SUPPORTED_LINKTYPES "EN10MB, LINUX_SLL, LINUX_SLL2, NULL, LOOP, RAW, IPV4, IPV6"

/* How a source is named in messages: the path quoted, or standard input. */
static void source_name(const char *path, char *out, size_t cap)
{
	if (strcmp(path, "-") == 0)
		snprintf(out, cap, "standard input");
	else
		snprintf(out, cap, "'%s'", path);
}

/* The stream hands libpcap a gzip file inflated (gzstream.h). */
static FILE *inflated(FILE *f, bool owned, const char *name, char err[SN_CAPTURE_ERRLEN])
{
	static const unsigned char magic[2] = { 0x1f, 0x8b };
	int second = getc(f);
	if (second != magic[1]) {
		snprintf(err, SN_CAPTURE_ERRLEN,
			 "cannot read %s: unknown file format (not pcap, pcapng or gzip)", name);
		return NULL;
	}
	FILE *gz = sn_gzstream_open(f, owned, magic, sizeof magic);
	if (!gz)
		snprintf(err, SN_CAPTURE_ERRLEN, "cannot read %s: %s", name, strerror(ENOMEM));
	return gz;
}

/*
 * Opens a capture on stream f.  An empty stream is named as such; one that
 * starts with gzip's magic (1f 8b) is read through zlib.  When `owned`, f
 * belongs to the handle from now on (closed with it, or here on failure);
 * standard input is never closed.
 */
static pcap_t *open_stream(FILE *f, const char *path, bool owned, char err[SN_CAPTURE_ERRLEN])
{
	char pcap_err[PCAP_ERRBUF_SIZE] = "";
	char name[SN_CAPTURE_ERRLEN / 3];
	source_name(path, name, sizeof name);
	int first = getc(f);
	if (first == EOF) {
		if (ferror(f))
			snprintf(err, SN_CAPTURE_ERRLEN, "cannot read %s: %s", name, strerror(errno));
		else
			snprintf(err, SN_CAPTURE_ERRLEN, "%s: empty file", name);
		goto fail;
	}
	FILE *stream = f;
	if (first == 0x1f) { /* no capture format starts with it */
		stream = inflated(f, owned, name, err);
		if (!stream)
			goto fail;
	} else {
		ungetc(first, f);
	}
	pcap_t *p = pcap_fopen_offline_with_tstamp_precision(stream, PCAP_TSTAMP_PRECISION_MICRO,
							     pcap_err);
	if (p)
		return p;
	snprintf(err, SN_CAPTURE_ERRLEN, "cannot read %s%s: %s", name,
		 stream != f ? " (gzip-compressed)" : "", pcap_err);
	if (stream != f) {
		fclose(stream); /* closes f too when owned */
		return NULL;
	}
fail:
	if (owned)
		fclose(f);
	return NULL;
}

/*
 * fopen first, so that a missing or unreadable file reports errno's reason
 * rather than libpcap's wording; libpcap then owns the stream on success.
 * buf, when given, becomes the stream's buffer (SN_CAPTURE_READ_BUFFER
 * bytes) before anything is read from it.
 */
static pcap_t *open_path(const char *path, char *buf, struct sn_pcapread *records,
			 bool *classic, char err[SN_CAPTURE_ERRLEN])
{
	struct stat sb;
	uint8_t hdr[SN_PCAPREAD_HEADER];
	*classic = false;
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, SN_CAPTURE_ERRLEN, "cannot open '%s': %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
		fclose(f);
		snprintf(err, SN_CAPTURE_ERRLEN, "cannot open '%s': %s", path, strerror(EISDIR));
		return NULL;
	}
	/* A regular classic pcap file: its records are read into buf by the
	 * record reader, and the stream keeps its small default buffer. */
	if (buf && records && S_ISREG(sb.st_mode) &&
	    pread(fileno(f), hdr, sizeof hdr, 0) == (ssize_t)sizeof hdr &&
	    sn_pcapread_header(records, hdr, sizeof hdr))
		*classic = true;
	/* glibc ignores a size given without the buffer itself */
	else if (buf)
		setvbuf(f, buf, _IOFBF, SN_CAPTURE_READ_BUFFER);
	pcap_t *p = open_stream(f, path, true, err);
	if (p && *classic)
		sn_pcapread_start(records, pcap_file(p), (uint8_t *)buf);
	else
		*classic = false;
	return p;
}

pcap_t *sn_capture_open_file(const char *path, char err[SN_CAPTURE_ERRLEN])
{
	if (strcmp(path, "-") == 0)
		return open_stream(stdin, path, false, err);
	bool classic;
	return open_path(path, NULL, NULL, &classic, err);
}

int sn_capture_file_open(struct sn_capture_file *cf, const char *path,
			 char err[SN_CAPTURE_ERRLEN])
{
	cf->pcap = NULL;
	cf->buf = NULL;
	cf->classic = false;
	if (strcmp(path, "-") == 0) {
		cf->pcap = open_stream(stdin, path, false, err);
		return cf->pcap ? 0 : -EINVAL;
	}
	cf->buf = malloc(SN_CAPTURE_READ_BUFFER);
	if (!cf->buf) {
		snprintf(err, SN_CAPTURE_ERRLEN, "cannot open '%s': %s", path, strerror(ENOMEM));
		return -ENOMEM;
	}
	cf->pcap = open_path(path, cf->buf, &cf->records, &cf->classic, err);
	if (!cf->pcap) {
		free(cf->buf);
		cf->buf = NULL;
		return -EINVAL;
	}
	return 0;
}

/* pcap_close closes the stream, which is the last use of its buffer. */
void sn_capture_file_close(struct sn_capture_file *cf)
{
	if (cf->pcap)
		pcap_close(cf->pcap);
	free(cf->buf);
	cf->pcap = NULL;
	cf->buf = NULL;
	cf->classic = false;
}

bool sn_capture_check_linktype(pcap_t *p, const char *source, char err[SN_CAPTURE_ERRLEN])
{
	char name[SN_CAPTURE_ERRLEN / 3];
	int dlt = pcap_datalink(p);
	if (sn_decode_linktype_supported(dlt))
		return true;
	const char *dlt_name = pcap_datalink_val_to_name(dlt);
	source_name(source ? source : "-", name, sizeof name);
	if (dlt_name)
		snprintf(err, SN_CAPTURE_ERRLEN,
			 "unsupported link type DLT_%s (%d) in %s; supported: %s", dlt_name, dlt,
			 name, SN_SUPPORTED_LINKTYPES);
	else
		snprintf(err, SN_CAPTURE_ERRLEN, "unsupported link type %d in %s; supported: %s",
			 dlt, name, SN_SUPPORTED_LINKTYPES);
	return false;
}

/* ---- live ------------------------------------------------------------ */

static int clamp_int(uint64_t v)
{
	return v > INT_MAX ? INT_MAX : (int)v;
}

/* Settings made before activation; they fail only on a misused handle. */
static int set_options(pcap_t *p, const struct sn_live_options *o)
{
	if (pcap_set_snaplen(p, clamp_int(o->snaplen ? o->snaplen : 65535)) != 0 ||
	    pcap_set_promisc(p, o->promiscuous ? 1 : 0) != 0 ||
	    pcap_set_timeout(p, SN_CAPTURE_TIMEOUT_MS) != 0 ||
	    pcap_set_immediate_mode(p, o->immediate ? 1 : 0) != 0)
		return -EINVAL;
	if (o->buffer_mib > 0 &&
	    pcap_set_buffer_size(p, clamp_int((uint64_t)o->buffer_mib << 20)) != 0)
		return -EINVAL;
	return 0;
}

/*
 * Without CAP_NET_RAW, libpcap fails on the socket before it looks at the
 * interface, so a typo would read as a permission problem: check the name.
 */
static bool interface_missing(const char *ifname)
{
	return strcmp(ifname, "any") != 0 && if_nametoindex(ifname) == 0;
}

static void activate_error(pcap_t *p, int rc, const char *ifname, char err[SN_CAPTURE_ERRLEN])
{
	if ((rc == PCAP_ERROR_PERM_DENIED && interface_missing(ifname)) ||
	    rc == PCAP_ERROR_NO_SUCH_DEVICE)
		snprintf(err, SN_CAPTURE_ERRLEN,
			 "no such interface '%s': list interfaces with 'ip link'", ifname);
	else if (rc == PCAP_ERROR_PERM_DENIED || rc == PCAP_ERROR_PROMISC_PERM_DENIED)
		snprintf(err, SN_CAPTURE_ERRLEN,
			 "no permission to capture on '%s': run as root or give the binary "
			 "CAP_NET_RAW and CAP_NET_ADMIN (setcap cap_net_raw,cap_net_admin=eip "
			 "pubsub-sensor)",
			 ifname);
	else if (rc == PCAP_ERROR_IFACE_NOT_UP)
		snprintf(err, SN_CAPTURE_ERRLEN,
			 "interface '%s' is down: bring it up with 'ip link set %s up'", ifname,
			 ifname);
	else
		snprintf(err, SN_CAPTURE_ERRLEN, "cannot capture on '%s': %s", ifname,
			 *pcap_geterr(p) ? pcap_geterr(p) : pcap_statustostr(rc));
}

static int apply_filter(pcap_t *p, const char *filter, const char *source,
			char err[SN_CAPTURE_ERRLEN])
{
	struct bpf_program prog;
	char name[SN_CAPTURE_ERRLEN / 4];
	if (!filter || !*filter)
		return 0;
	int rc = pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN);
	if (rc == 0) {
		rc = pcap_setfilter(p, &prog);
		pcap_freecode(&prog);
	}
	if (rc != 0) {
		const char *dlt = pcap_datalink_val_to_name(pcap_datalink(p));
		source_name(source, name, sizeof name);
		snprintf(err, SN_CAPTURE_ERRLEN, "bad capture filter '%.*s': %s (for %s, link type %s)",
			 SN_CAPTURE_ERRLEN / 4, filter, pcap_geterr(p), name, dlt ? dlt : "unknown");
		return -EINVAL;
	}
	return 0;
}

int sn_capture_set_filter(pcap_t *p, const char *filter, const char *source,
			  char err[SN_CAPTURE_ERRLEN])
{
	return apply_filter(p, filter, source ? source : "-", err);
}

int sn_capture_check_filter(const char *filter, int linktype, char *msg, size_t cap)
{
	struct bpf_program prog;
	pcap_t *dead = pcap_open_dead(linktype, 65535);
	if (!dead) {
		snprintf(msg, cap, "cannot check the filter: out of memory");
		return -1;
	}
	int rc = pcap_compile(dead, &prog, filter, 1, PCAP_NETMASK_UNKNOWN);
	if (rc == 0)
		pcap_freecode(&prog);
	else
		snprintf(msg, cap, "bad BPF filter '%s': %s", filter, pcap_geterr(dead));
	pcap_close(dead);
	return rc == 0 ? 0 : -1;
}

/*
 * PACKET_FANOUT (packet(7)): the kernel spreads flows over the group's
 * sockets by hash of the addresses and ports; DEFRAG reassembles IP
 * fragments first so that all of a flow lands on one worker.
 */
static int join_fanout(pcap_t *p, const struct sn_live_options *o, char err[SN_CAPTURE_ERRLEN])
{
	if (o->fanout_group <= 0)
		return 0;
	if (o->fanout_group > 0xffff) {
		snprintf(err, SN_CAPTURE_ERRLEN, "fanout group %d is out of range 1-65535",
			 o->fanout_group);
		return -ERANGE;
	}
	/* group id in the low 16 bits, mode and flags in the high 16 */
	uint32_t arg = (uint32_t)o->fanout_group |
		       (uint32_t)(PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16;
	int fd = pcap_get_selectable_fd(p);
	if (fd < 0 || setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) != 0) {
		int e = fd < 0 ? EBADF : errno;
		snprintf(err, SN_CAPTURE_ERRLEN, "cannot join fanout group %d on '%s': %s",
			 o->fanout_group, o->interface, strerror(e));
		return -e;
	}
	return 0;
}

/* Everything after activation: filter, non-blocking mode, fanout. */
static int configure_active(pcap_t *p, const struct sn_live_options *o,
			    char err[SN_CAPTURE_ERRLEN])
{
	char pcap_err[PCAP_ERRBUF_SIZE] = "";
	int rc = apply_filter(p, o->filter, o->interface, err);
	if (rc != 0)
		return rc;
	if (pcap_setnonblock(p, 1, pcap_err) != 0) {
		snprintf(err, SN_CAPTURE_ERRLEN, "cannot make the capture on '%s' non-blocking: %s",
			 o->interface, pcap_err);
		return -EIO;
	}
	return join_fanout(p, o, err);
}

pcap_t *sn_capture_open_live(const struct sn_live_options *o, char err[SN_CAPTURE_ERRLEN])
{
	char pcap_err[PCAP_ERRBUF_SIZE] = "";
	if (!o->interface || !*o->interface) {
		snprintf(err, SN_CAPTURE_ERRLEN, "no interface given to capture on");
		return NULL;
	}
	pcap_t *p = pcap_create(o->interface, pcap_err);
	if (!p) {
		snprintf(err, SN_CAPTURE_ERRLEN, "cannot capture on '%s': %s", o->interface,
			 pcap_err);
		return NULL;
	}
	if (set_options(p, o) != 0) {
		snprintf(err, SN_CAPTURE_ERRLEN, "cannot set capture options on '%s': %s",
			 o->interface, pcap_geterr(p));
		goto out_close;
	}
	int rc = pcap_activate(p);
	if (rc < 0) { /* rc > 0 is a warning (e.g. promiscuous mode unsupported) */
		activate_error(p, rc, o->interface, err);
		goto out_close;
	}
	if (configure_active(p, o, err) != 0)
		goto out_close;
	return p;
out_close:
	pcap_close(p);
	return NULL;
}

pcap_t *sn_capture_open_interface(const struct sn_config *cfg, const char *interface,
				  int fanout_group, char err[SN_CAPTURE_ERRLEN])
{
	struct sn_live_options lo = {
		.interface = interface,
		.filter = cfg->capture.filter,
		.snaplen = cfg->capture.snaplen,
		.buffer_mib = cfg->capture.buffer_mib,
		.promiscuous = cfg->capture.promiscuous,
		.fanout_group = fanout_group,
		.immediate = cfg->capture.immediate,
	};
	pcap_t *p = sn_capture_open_live(&lo, err);
	if (p && !sn_capture_check_linktype(p, interface, err)) {
		pcap_close(p);
		return NULL;
	}
	return p;
}
