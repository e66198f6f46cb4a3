/*
 * sasl.h - the SASL PLAIN message (RFC 4616), shared by the dissectors that
 * see it in clear: XMPP <auth> (after base64), AMQP 0-9-1 Start-Ok and
 * AMQP 1.0 sasl-init.
 */
#ifndef SN_SASL_H
#define SN_SASL_H

#include <stdbool.h>

#include "cursor.h"
#include "dissector.h"

/*
 * Reads `authzid NUL authcid NUL passwd` from msg and sets m->user to the
 * authcid, or to the authzid when the authcid is empty.  Returns false
 * (m untouched) when the message lacks its two NUL separators.
 */
bool sn_sasl_plain_user(struct sn_cursor *msg, struct sn_meta *m);

#endif /* SN_SASL_H */
