/* The zones catalog zones bring (RFC 9432): for every zone configured
 * with "catalog: consumer", the members its served version lists, each
 * served with the catalog zone's own settings (primaries, keys,
 * allow-notify, timers). */
#ifndef ICBIND_MEMBERS_H
#define ICBIND_MEMBERS_H

#include <stddef.h>
#include <stdint.h>

#include "../../core/name.h"
#include "config.h"

struct member {
	/* Its settings: the pattern its group names, else the catalog's
	 * catalog-member-pattern, else the catalog zone's own. */
	const struct cfg_zone *settings;
	const char *catalog_text;    /* the catalog zone's name, for the log */
	char group[64];              /* the group that chose its pattern, "" if none */
	uint8_t name[NAME_MAXLEN];   /* the member zone, lower case */
	char *text;                  /* its name as text, for the log */
	uint8_t catalog[NAME_MAXLEN]; /* the catalog zone that lists it */
	uint8_t unique[64];          /* its unique label there (RFC 9432 4.3) */
	unsigned seq;                /* the order found in (catalogs in file order) */
};

struct member_set {
	struct member *m;            /* sorted by name (members_find) */
	size_t n;
};

/* What a served zone is run with: its settings, its name as text, and
 * whether it is a catalog zone whose members are served. */
struct zone_conf {
	const struct cfg_zone *settings;
	const char *text;
	int catalog;
};

struct server;

/* The members of the catalog zones of c, as s serves them now (a catalog
 * zone not served yet has none; one whose version cannot be used keeps
 * the members it had in old).  Zones configured in c itself are left to
 * their own settings; a zone two catalogs list goes with the first in c.
 * 0, or -1 when out of memory. */
int members_compute(const struct server *s, const struct cfg *c, const struct member_set *old,
		    struct member_set *out);
void members_free(struct member_set *set);

/* The member named apex (lower case wire form), or NULL. */
const struct member *members_find(const struct member_set *set, const uint8_t *apex);

/* A zone's settings: from the configuration, else as a member (the
 * zone must be one of them). */
struct zone_conf zone_conf(const struct cfg *c, const struct member_set *set, const uint8_t *apex);

#endif
