/* The zones served. */
#include "catalog.h"

#include <stdlib.h>
#include <string.h>

static int cz_cmp(const void *a, const void *b)
{
	const struct cat_zone *x = a, *y = b;
	int c = memcmp(x->key, y->key, x->klen < y->klen ? x->klen : y->klen);
	if (c)
		return c;
	return x->klen < y->klen ? -1 : x->klen > y->klen;
}

int catalog_prepare(struct catalog *cat)
{
	for (size_t i = 0; i < cat->n; i++) {
		struct cat_zone *z = &cat->zones[i];
		uint8_t key[NAME_KEY_MAX];
		size_t kl = name_key(z->apex, name_labels(z->apex), key);
		if (kl > sizeof(z->key))
			return -1;
		memcpy(z->key, key, kl);
		z->klen = (uint16_t)kl;
		z->labels = (uint8_t)name_labels(z->apex);
	}
	cat->max_klen = 0;
	for (size_t i = 0; i < cat->n; i++)
		if (cat->zones[i].klen > cat->max_klen)
			cat->max_klen = cat->zones[i].klen;
	if (cat->n)
		qsort(cat->zones, cat->n, sizeof(*cat->zones), cz_cmp);
	for (size_t i = 1; i < cat->n; i++)
		if (cz_cmp(&cat->zones[i - 1], &cat->zones[i]) == 0)
			return -1;
	return 0;
}

static struct cat_zone *find_key(const struct catalog *cat, const uint8_t *key, size_t klen)
{
	size_t lo = 0, hi = cat->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct cat_zone *z = &cat->zones[mid];
		int c = memcmp(z->key, key, z->klen < klen ? z->klen : klen);
		if (!c)
			c = z->klen < klen ? -1 : z->klen > klen;
		if (!c)
			return &cat->zones[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Up to this many zones, catalog_find compares the question's suffixes
 * with each apex instead of building its whole key and searching: the
 * usual secondary serves a few zones, and the question's key is then
 * built for its part inside the zone only. */
#define FEW_ZONES 8

struct cat_zone *catalog_find(const struct catalog *cat, const uint8_t *qname, uint8_t *out,
			      size_t *out_len)
{
	if (cat->n <= FEW_ZONES && cat->max_klen) {
		unsigned ql = name_labels(qname);
		struct cat_zone *best = NULL;
		for (size_t i = 0; i < cat->n; i++) {
			struct cat_zone *z = &cat->zones[i];
			if (z->labels <= ql && (!best || z->labels > best->labels) &&
			    name_equal(name_skip(qname, ql - z->labels), z->apex))
				best = z;
		}
		if (best && out) {
			size_t kl = name_key(qname, ql - best->labels, out);
			if (out_len)
				*out_len = kl;
		}
		return best;
	}
	uint8_t buf[NAME_KEY_MAX];
	uint8_t *key = out ? out : buf;
	size_t klen = name_key(qname, name_labels(qname), key);
	size_t klen0 = klen;
	/* Every label boundary of the key is an ancestor: longest first, from
	 * the longest any zone has (the names deeper than every apex are most
	 * of the questions). */
	for (;;) {
		if (!cat->max_klen || klen <= cat->max_klen) {
			struct cat_zone *z = find_key(cat, key, klen);
			if (z) {
				if (out) { /* the part below the apex */
					memmove(out, out + z->klen, klen0 - z->klen);
					if (out_len)
						*out_len = klen0 - z->klen;
				}
				return z;
			}
		}
		if (klen == 0)
			return NULL;
		klen--; /* drop the terminator, then the last label */
		while (klen > 0 && key[klen - 1] != 0)
			klen--;
	}
}

struct cat_zone *catalog_exact(const struct catalog *cat, const uint8_t *name)
{
	uint8_t key[NAME_KEY_MAX];
	size_t klen = name_key(name, name_labels(name), key);
	return find_key(cat, key, klen);
}

struct zone *catalog_publish(struct cat_zone *cz, struct zone *z)
{
	/* One thread writes; readers load the pointer once per query, so they
	 * see the old version or the new, never a mix. */
	struct zone *old = cz->current;
	cz->current = z;
	cz->expired = 0;
	return old;
}

int catalog_notify_allowed(const struct cat_zone *cz, const struct netaddr *from,
			   const struct tsig_key *key)
{
	if (cz->n_notify_acl) {
		for (unsigned i = 0; i < cz->n_notify_acl; i++)
			if (netprefix_match(&cz->notify_acl[i], from) &&
			    (!cz->notify_key[i] || cz->notify_key[i] == key))
				return 1;
		return 0;
	}
	for (unsigned i = 0; i < cz->n_primary; i++) {
		const struct netaddr *p = &cz->primary[i];
		if (p->family == from->family &&
		    memcmp(p->addr, from->addr, p->family == 4 ? 4 : 16) == 0 &&
		    (!cz->primary_key[i] || cz->primary_key[i] == key))
			return 1;
	}
	return 0;
}
