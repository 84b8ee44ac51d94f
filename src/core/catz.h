/* Catalog zones (RFC 9432): the member zones a catalog zone lists.
 *
 * A catalog zone is transferred and served like any zone; what it means
 * is read from the version served: its schema version ("version" TXT "2",
 * RFC 9432 4.2.1) and its members, one PTR at each "<unique>.zones"
 * (4.3).  The platform turns the members into zones to serve. */
#ifndef ICBIND_CATZ_H
#define ICBIND_CATZ_H

#include <stddef.h>
#include <stdint.h>

#include "name.h"
#include "zone.h"

enum { CATZ_GROUPS = 4 };

struct catz_member {
	uint8_t name[NAME_MAXLEN];  /* the member zone, lower case */
	uint8_t unique[64];         /* its unique label: length, then octets */
	uint32_t order;             /* of its unique label, in canonical order */
	/* Its "group" properties (RFC 9432 4.4.2): TXT records of one
	 * string, the first CATZ_GROUPS in canonical order. */
	char groups[CATZ_GROUPS][64];
	uint8_t n_groups;
};

struct catz {
	/* By name; a zone listed under several unique labels (RFC 9432 4.3
	 * allows one) once for each, in canonical order of the labels: the
	 * caller picks. */
	struct catz_member *m;
	size_t n, cap;
	/* Members left out, each a reason the operator should see. */
	unsigned duplicate;         /* entries of a zone listed again under another unique label */
	unsigned self;              /* the catalog zone itself */
	char err[128];              /* why the catalog is not used at all */
};

/* Read catalog zone z into c: 0, or -1 with c->err when z is no catalog
 * this server can use: no "version" TXT "2" (RFC 9432 4.2.1), a member
 * node with more than one PTR (4.1: a broken catalog, not processed), out
 * of memory.  catz_free() in both cases. */
int catz_read(const struct zone *z, struct catz *c);
void catz_free(struct catz *c);

#endif
