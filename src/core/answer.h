/* The answer engine: RFC 1034 section 4.3.2 over one zone, with CNAME and
 * DNAME (RFC 6672), wildcards (RFC 4592), referrals and negative answers
 * (RFC 2308).  It first decides which RRsets go into which section, then
 * writes them, truncating at an RRset boundary. */
#ifndef ICBIND_ANSWER_H
#define ICBIND_ANSWER_H

#include <stdint.h>

#include "limits.h" /* ICB_ANSWER_MAX_RRSETS, ICB_CHAIN_MAX, ICB_SYNTH_MAX */
#include "wire.h"
#include "zone.h"

enum { SEC_ANSWER = 0, SEC_AUTHORITY = 1, SEC_ADDITIONAL = 2 };

struct rr_entry {
	const struct zone *z;         /* the zone it comes from */
	const uint8_t *owner;         /* NULL: the name of node */
	uint32_t node;                /* where it is in the zone */
	const struct zone_rrset *rs;  /* NULL: a CNAME synthesised from a DNAME */
	const uint8_t *synth;         /* its target */
	uint32_t ttl;
	uint8_t section;
	uint8_t flags;
};

struct answer {
	const struct zone *z;
	struct rr_entry e[ICB_ANSWER_MAX_RRSETS];
	unsigned n;
	uint8_t synth[ICB_SYNTH_MAX][NAME_MAXLEN];
	unsigned n_synth;
	uint8_t rcode;
	uint8_t aa;
	uint8_t dnssec;               /* DO set and the zone signed */
	uint8_t any;                  /* QTYPE ANY over TCP: a subset of the RRsets will do (RFC 8482) */
	/* What kind of answer it was, for response rate limiting. */
	const uint8_t *cut;           /* a referral: the delegation point */
	const struct zone *wild_zone; /* an answer made from a wildcard ... */
	uint32_t wild_node;           /* ... whose source of synthesis is this */
};

struct catalog;

/* Decide the answer to (qname, qtype) from zone z; a CNAME or DNAME chain
 * that leads into another zone of cat goes on there (RFC 1034 4.3.2 step
 * 3a: back to step 1).  all_any: answer ANY with every RRset (over TCP)
 * rather than one (RFC 8482 over UDP).  dnssec_ok: the DO bit (RFC 3225):
 * RRSIGs and the proofs of denial go with the answer.  qkey, if not NULL,
 * is qname's lookup key in z (qklen octets), already worked out; qnode,
 * if not ZONE_NONE, a node of z that may be qname's (the batched lookup's
 * guess by tag), taken only if its key is qkey. */
void answer_zone(struct answer *a, const struct catalog *cat, const struct zone *z,
		 const uint8_t *qname, const uint8_t *qkey, size_t qklen, uint32_t qnode,
		 uint16_t qtype, int all_any, int dnssec_ok);

/* Write the sections; counts[] receives the RR counts.  Returns 1 if the
 * answer had to be truncated (TC), else 0. */
int answer_write(const struct answer *a, struct builder *b, uint16_t counts[3]);

#endif
