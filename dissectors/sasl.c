/*
 * sasl.c - SASL PLAIN (RFC 4616 section 2): message = [authzid] NUL authcid
 * NUL passwd.  Only the identity is kept; the password is never copied.
 */
#include "sasl.h"

bool sn_sasl_plain_user(struct sn_cursor *msg, struct sn_meta *m)
{
	if (sn_cur_remaining(msg) == 0)
		return false; /* also keeps an empty cursor's NULL away from memchr */
	long nul = sn_cur_find(msg, '\0');
	if (nul < 0)
		return false;
	struct sn_cursor authzid = sn_cur_sub(msg, (size_t)nul);
	sn_cur_skip(msg, 1);
	nul = sn_cur_find(msg, '\0');
	if (nul < 0)
		return false;
	struct sn_cursor authcid = sn_cur_sub(msg, (size_t)nul);
	sn_cur_skip(msg, 1);
	if (!sn_cur_ok(msg))
		return false;

	/* An empty authcid leaves only the authorization identity to report. */
	struct sn_cursor *who = sn_cur_remaining(&authcid) ? &authcid : &authzid;
	sn_cur_string(who, sn_cur_remaining(who), m->user, sizeof m->user, &m->truncated);
	return true;
}
