/* Catalog zones (RFC 9432): reading the members (catz.h). */
#include "catz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rrtype.h"

struct walk {
	const struct zone *z;
	struct catz *c;
	int versions, version_two;  /* TXT records at "version", with "2" */
	uint8_t zones_apex[NAME_MAXLEN]; /* "zones.<catalog>" */
	size_t zones_len;
	uint8_t owner[NAME_MAXLEN];  /* the member node whose PTRs are counted */
	unsigned ptrs;               /* PTRs seen at it */
	int added;                   /* its member was taken */
	uint8_t kept[NAME_MAXLEN];   /* the last member node closed with its member kept */
	size_t kept_at;              /* that member's index, or SIZE_MAX */
	int failed;
	unsigned two_ptrs;           /* member nodes with more than one PTR */
};

/* A member node is closed when the next owner comes.  More than one PTR
 * there breaks the whole catalog (RFC 9432 4.1). */
static void close_member(struct walk *w)
{
	if (w->ptrs > 1) {
		w->two_ptrs++;
	} else if (w->ptrs == 1 && w->added) {
		memcpy(w->kept, w->owner, name_len(w->owner));
		w->kept_at = w->c->n - 1;
	}
	w->ptrs = 0;
	w->added = 0;
}

static int is_below_zones(const struct walk *w, const uint8_t *owner)
{
	/* Exactly one label in front of "zones.<catalog>". */
	size_t first = 1 + (size_t)owner[0];
	return owner[0] && name_len(owner) == first + w->zones_len &&
	       name_equal(owner + first, w->zones_apex);
}

static void record(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl, const uint8_t *rd,
		   size_t len)
{
	(void)ttl;
	struct walk *w = ctx;
	struct catz *c = w->c;
	if (w->failed)
		return;
	if (w->ptrs && !name_equal(owner, w->owner))
		close_member(w);
	if (type == T_TXT && name_in_zone(owner, w->z->apex) == 1 && owner[0] == 7 &&
	    memcmp(owner + 1, "version", 7) == 0) {
		w->versions++;
		w->version_two = len == 2 && rd[0] == 1 && rd[1] == '2';
		return;
	}
	/* "group.<unique>.zones" TXT: the member just read (its children
	 * follow it in canonical order) belongs to that group. */
	if (type == T_TXT && owner[0] == 5 && memcmp(owner + 1, "group", 5) == 0 &&
	    is_below_zones(w, owner + 6) && w->kept_at != SIZE_MAX && name_equal(owner + 6, w->kept)) {
		struct catz_member *m = &c->m[w->kept_at];
		/* One string, no NUL (no pattern has such a name), as NSD. */
		if (m->n_groups < CATZ_GROUPS && len >= 2 && rd[0] >= 1 && (size_t)rd[0] + 1 == len &&
		    rd[0] < sizeof(m->groups[0]) && !memchr(rd + 1, '\0', rd[0])) {
			memcpy(m->groups[m->n_groups], rd + 1, rd[0]);
			m->groups[m->n_groups++][rd[0]] = '\0';
		}
		return;
	}
	if (type != T_PTR || !is_below_zones(w, owner))
		return; /* other properties (coo, ext) and anything else */
	if (w->ptrs++)
		return; /* a second PTR here: close_member() counts it */
	memcpy(w->owner, owner, name_len(owner));
	if (len < 1 || name_len(rd) != len)
		return; /* (the transfer checked it is a name) */
	if (name_equal(rd, w->z->apex)) {
		c->self++;
		return;
	}
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 16;
		void *m = realloc(c->m, nc * sizeof(*c->m));
		if (!m) {
			w->failed = 1;
			return;
		}
		c->m = m;
		c->cap = nc;
	}
	struct catz_member *m = &c->m[c->n++];
	m->n_groups = 0;
	memcpy(m->name, rd, len);
	name_lower(m->name);
	memcpy(m->unique, owner, 1 + (size_t)owner[0]);
	m->order = (uint32_t)(c->n - 1); /* the walk is in canonical order */
	for (uint8_t i = 1; i <= m->unique[0]; i++)
		m->unique[i] = name_lower_octet(m->unique[i]);
	w->added = 1;
}

static int member_cmp(const void *pa, const void *pb)
{
	const struct catz_member *a = pa, *b = pb;
	size_t al = name_len(a->name), bl = name_len(b->name);
	int c = memcmp(a->name, b->name, al < bl ? al : bl);
	if (c || al != bl)
		return c ? c : al < bl ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* By name, in O(n log n) (a catalog may list many thousands of zones),
 * counting the entries of a zone listed more than once. */
static void sort_members(struct catz *c)
{
	if (c->n > 1)
		qsort(c->m, c->n, sizeof(*c->m), member_cmp);
	for (size_t i = 1; i < c->n; i++)
		c->duplicate += name_equal(c->m[i].name, c->m[i - 1].name);
}

int catz_read(const struct zone *z, struct catz *c)
{
	memset(c, 0, sizeof(*c));
	struct walk w;
	memset(&w, 0, sizeof(w));
	w.z = z;
	w.c = c;
	w.kept_at = SIZE_MAX;
	/* "zones.<catalog>" */
	size_t al = name_len(z->apex);
	if (al + 6 > NAME_MAXLEN) {
		snprintf(c->err, sizeof(c->err), "no room for members below the apex");
		return -1;
	}
	w.zones_apex[0] = 5;
	memcpy(w.zones_apex + 1, "zones", 5);
	memcpy(w.zones_apex + 6, z->apex, al);
	w.zones_len = al + 6;
	zone_walk(z, record, &w);
	close_member(&w);
	if (w.failed) {
		snprintf(c->err, sizeof(c->err), "out of memory");
		return -1;
	}
	if (w.two_ptrs) {
		snprintf(c->err, sizeof(c->err), "%u member node%s with more than one PTR (RFC 9432 4.1)", w.two_ptrs,
			 w.two_ptrs == 1 ? "" : "s");
		return -1;
	}
	if (w.versions != 1 || !w.version_two) {
		snprintf(c->err, sizeof(c->err), "%s",
			 w.versions == 0 ? "no version property (RFC 9432 4.2.1)"
			 : w.versions > 1 ? "more than one version property"
					  : "schema version other than 2");
		return -1;
	}
	sort_members(c);
	return 0;
}

void catz_free(struct catz *c)
{
	free(c->m);
	c->m = NULL;
	c->n = c->cap = 0;
}
