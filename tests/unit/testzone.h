/* Building small zones from text for the unit tests. */
#ifndef ICBIND_TESTZONE_H
#define ICBIND_TESTZONE_H

#include "core/zone.h"

/* recs: lines "OWNER TTL TYPE RDATA" ("@" is the apex; names without a
 * final dot are relative to it), ended by NULL.  Types: A, AAAA (hex
 * groups of four, no "::"), NS, CNAME, DNAME, PTR, MX, SRV, TXT (one word),
 * SOA, and "TYPEn HEX".  Returns NULL and prints why on failure. */
struct zone *tz_build(const char *apex, const char *const *recs);

/* Appends n TXT records of owner to recs at *k (their text kept in
 * lines[0..n-1]): "OWNER 300 TXT record-number-NN-with-some-padding-to-be-long",
 * 58 octets each in an answer whose owner is a pointer, for RRsets that
 * fill a message. */
void tz_txt_records(const char **recs, size_t *k, char (*lines)[80], const char *owner, int n);
/* A whole transfer stream (TCP-framed messages to query ID 0x1234 for
 * apex) through the transfer parser p, read in pieces: mode 0 whole, 1
 * an octet at a time, 2 pieces of 1-7 octets, 3 of 1-3000, their sizes
 * drawn from seed.  strip: DNSSEC records dropped; ts: each message
 * verified with it (NULL: none) at time now.  XFR_DONE and *out, or the
 * parser's answer (p->err says why). */
struct xfr_parser;
struct tsig_stream;
int tz_transfer(const uint8_t *stream, size_t len, const uint8_t *apex, int mode,
		unsigned long seed, int strip, struct tsig_stream *ts, uint64_t now,
		struct zone **out, struct xfr_parser *p);

/* Wire name of text relative to apex. */
int tz_name(const char *text, const char *apex, uint8_t *out);

#endif
