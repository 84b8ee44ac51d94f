/* The zones this server serves, with what the core needs to know of each:
 * its primaries (who may send NOTIFY) and the version being served. */
#ifndef ICBIND_CATALOG_H
#define ICBIND_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "limits.h" /* CAT_MAX_PRIMARIES, CAT_MAX_ACL */
#include "name.h"
#include "netaddr.h"
#include "tsig.h"
#include "zone.h"


struct cat_zone {
	uint8_t apex[NAME_MAXLEN];
	uint8_t key[ICB_APEX_KEY_MAX]; /* from the root: the catalog's sort order */
	uint16_t klen;
	uint8_t labels;     /* of the apex (catalog_prepare) */
	struct netaddr primary[CAT_MAX_PRIMARIES];
	const struct tsig_key *primary_key[CAT_MAX_PRIMARIES]; /* NULL: unsigned */
	unsigned n_primary;
	struct netprefix notify_acl[CAT_MAX_ACL]; /* empty: the primaries */
	const struct tsig_key *notify_key[CAT_MAX_ACL]; /* NULL: address only */
	unsigned n_notify_acl;
	int strip_dnssec;
	/* The version being served; NULL before the first transfer.  Replaced
	 * whole by catalog_publish(); atomic, as query threads read it while
	 * the thread that transfers writes it. */
	struct zone *_Atomic current;
	_Atomic int expired;
	void *user;         /* the platform's per-zone state */
};

/* Octets the server says of itself; len 0: nothing is said. */
struct cat_text {
	const uint8_t *data;
	uint8_t len;
};

/* The longest NSID sent (RFC 5001): short enough that an answer with it
 * still fits 512 octets with the longest question. */
#define CAT_NSID_MAX 128

struct catalog {
	struct cat_zone *zones; /* sorted by key */
	size_t n;
	const struct tsig_key *keys; /* every key configured, for TSIG on queries */
	size_t n_keys;
	size_t max_klen; /* the longest apex key (catalog_prepare; 0: not known) */
	/* CH TXT id.server. / hostname.bind. and version.server. /
	 * version.bind. (RFC 4892); the NSID option's payload (RFC 5001, at
	 * most CAT_NSID_MAX octets). */
	struct cat_text identity, version, nsid;
};

/* Sort the zones (after filling them) and fill in their keys.  Returns -1
 * if two zones have the same apex, or an apex is longer than the
 * catalog's keys hold (ICB_APEX_KEY_MAX). */
int catalog_prepare(struct catalog *cat);

/* The zone that holds qname: the one with the longest matching apex.  If
 * key is not NULL it receives qname's lookup key in that zone, relative to
 * its apex (*klen octets). */
struct cat_zone *catalog_find(const struct catalog *cat, const uint8_t *qname, uint8_t *key,
			      size_t *klen);
/* The zone whose apex is exactly name. */
struct cat_zone *catalog_exact(const struct catalog *cat, const uint8_t *name);

/* Serve z (which may be NULL) from now on; returns the version it
 * replaces, for the caller to free once no reader can hold it (at once
 * with one thread; after a grace period with query threads). */
struct zone *catalog_publish(struct cat_zone *cz, struct zone *z);

/* The version to answer from, or NULL (not loaded, or expired). */
static inline const struct zone *cat_zone_serving(const struct cat_zone *cz)
{
	return cz->expired ? NULL : cz->current;
}

/* Is this peer allowed to send NOTIFY for the zone, signed with key (NULL:
 * unsigned)?  An allow-notify entry with a key needs that key; by default
 * the primaries may, each with its own key if it has one. */
int catalog_notify_allowed(const struct cat_zone *cz, const struct netaddr *from,
			   const struct tsig_key *key);

#endif
