/* Processing one DNS message from a client: the checks of RFC 1035, 6891
 * and 1996 in order, then the answer engine.  Bytes in, bytes out, and a
 * decision for the platform (send, drop, or refresh a zone after NOTIFY). */
#ifndef ICBIND_QUERY_H
#define ICBIND_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "netaddr.h"

enum { TRANSPORT_UDP, TRANSPORT_TCP };

struct query_env {
	int transport;
	uint16_t udp_max;         /* our EDNS(0) payload limit */
	struct netaddr client;
	uint64_t now;             /* wall-clock seconds, for TSIG */
	int rrl;                  /* rates are limited: set res->rrl_name */
	int slip;                 /* answer as rate limiting slips (TC, the question, OPT, TSIG) */
};

enum query_action {
	QA_DROP,           /* send nothing */
	QA_REPLY,          /* send the response */
	QA_NOTIFY,         /* send the response, and check the zone's primary */
	QA_NOTIFY_REFUSED, /* send the response, log why */
};

struct query_result {
	int action;
	uint8_t rcode;
	struct cat_zone *zone;    /* for NOTIFY */
	int has_serial;
	uint32_t serial;          /* from the NOTIFY's answer section */
	const char *why;          /* refused NOTIFY: the reason */
	int tsig;                 /* the TSIG outcome (TSIG_OK, TSIG_UNSIGNED, an error) */
	/* For response rate limiting (rrl.h): the class of the response. */
	int rrl_kind;
	const uint8_t *rrl_name;
	uint8_t rrl_buf[NAME_MAXLEN];
	uint16_t qtype;
	size_t question_end;      /* offset after the question in the response */
	const struct tsig_key *key; /* the key it was signed with */
};

/* A batch of queries looked up a step at a time before they are answered,
 * so that the cache misses of a big zone (each read needs the one before:
 * the hash slot, the node, its RRsets, their RDATA, then the slot, node
 * and RRsets of a name the RDATA names) overlap across the batch instead
 * of following one another: query_hint_start() for every query, then
 * query_hint_next() for each, a step each call, while it returns 1 and
 * as long as there is time before the query is answered (every step is a
 * prefetch: none is needed), then query_process_hinted() for each with
 * its hint.  The steps follow what the answer will read: for a name that
 * is absent its ancestors' slots in turn (the climb to the closest
 * encloser); at a zone cut the NS RRset and its targets' glue (a
 * referral); at the name, the RRset of the type asked for and the A and
 * AAAA of the names its RDATA holds (additional section processing), or
 * a CNAME's target and the type asked for there.  The hint also keeps the
 * question as it was read (its name, zone and key), which
 * query_process_hinted() then takes instead of reading it again; the
 * answer is the same, byte for byte.  A query that is not a plain
 * question to a zone with a hash index has nothing to fetch. */
#define QUERY_HINT_TARGETS 2
struct query_hint {
	const struct zone *z; /* NULL: nothing (more) to fetch */
	uint32_t slot, tag, node;
	int step;
	size_t plen; /* the length of the key (or ancestor's) being fetched */
	uint16_t qtype;
	const struct zone_rrset *rs; /* the RRset whose RDATA names are followed */
	unsigned n_t;                /* ... the first few of them in the zone */
	uint32_t t_slot[QUERY_HINT_TARGETS], t_tag[QUERY_HINT_TARGETS];
	uint32_t t_node[QUERY_HINT_TARGETS];
	/* A node whose tag is the question's, in version qz (NULL: none):
	 * the answer takes it once its key is the question's. */
	const struct zone *qz;
	uint32_t qnode;
	/* The question: the message it is from, where its name ends in it
	 * (0: not read), the zone served it is in (NULL: none) and its key
	 * below that apex. */
	const uint8_t *q;
	size_t qlen;
	size_t qname_end;
	const struct cat_zone *cz;
	size_t klen;
	uint8_t qname[NAME_MAXLEN];
	uint8_t key[NAME_KEY_MAX];
};
void query_hint_start(const struct catalog *cat, const uint8_t *q, size_t qlen,
		      struct query_hint *h);
int query_hint_step(struct query_hint *h);
static inline int query_hint_next(struct query_hint *h)
{
	return h->z ? query_hint_step(h) : 0; /* most calls: nothing more */
}

/* Process the message q; write the response into out (cap octets, at least
 * 512) and return its length, or 0 to send nothing. */
size_t query_process(const struct catalog *cat, const uint8_t *q, size_t qlen,
		     const struct query_env *env, uint8_t *out, size_t cap,
		     struct query_result *res);
/* The same with the hint query_hint_start() made from q with cat (or
 * NULL: query_process()); a hint made from another message is ignored. */
size_t query_process_hinted(const struct catalog *cat, const struct query_hint *h,
			    const uint8_t *q, size_t qlen, const struct query_env *env,
			    uint8_t *out, size_t cap, struct query_result *res);

#endif
