/* The zone store: lookups over an immutable zone version. */
#include "zone.h"

#include <stdlib.h>
#include <string.h>

#include "rrtype.h"

void zone_free(struct zone *z)
{
	free(z); /* one block: see zone_builder_finish() */
}

static int key_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);
	if (c)
		return c;
	return al < bl ? -1 : al > bl;
}

int zone_find(const struct zone *z, const uint8_t *key, size_t klen, uint32_t *idx)
{
	uint32_t lo = 0, hi = z->n_nodes;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		size_t ml;
		const uint8_t *mk = zone_key(z, mid, &ml);
		int c = key_cmp(mk, ml, key, klen);
		if (c == 0) {
			*idx = mid;
			return 1;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*idx = lo ? lo - 1 : 0;
	return 0;
}

uint32_t zone_encloser(const struct zone *z, const uint8_t *key, size_t klen, uint32_t pred)
{
	/* Everything between an ancestor and the name sorts inside the
	 * ancestor's subtree, so the closest encloser is the deepest common
	 * ancestor of the name and its predecessor: count the labels the two
	 * keys share, then climb from the predecessor to that depth. */
	size_t pl;
	const uint8_t *pk = zone_key(z, pred, &pl);
	unsigned common = 0;
	for (size_t i = 0; i < klen && i < pl && key[i] == pk[i]; i++)
		if (key[i] == 0)
			common++;
	uint32_t n = pred;
	while (z->nodes[n].labels > common)
		n = z->nodes[n].parent;
	return n;
}

const struct zone_rrset *zone_rrset(const struct zone *z, uint32_t node, uint16_t type)
{
	const struct zone_node *n = &z->nodes[node];
	const struct zone_rrset *rs = z->rrsets + n->rrsets;
	for (uint16_t i = 0; i < n->n_rrsets; i++)
		if (rs[i].type == type)
			return &rs[i];
	return NULL;
}

int zone_node_name(const struct zone *z, uint32_t node, uint8_t *out)
{
	size_t kl;
	const uint8_t *k = zone_key(z, node, &kl);
	return name_from_key(k, kl, z->apex, out);
}

void zone_walk(const struct zone *z, zone_walk_fn fn, void *ctx)
{
	uint8_t name[NAME_MAXLEN];
	for (uint32_t i = 0; i < z->n_nodes; i++) {
		const struct zone_node *n = &z->nodes[i];
		if (n->n_rrsets == 0 || zone_node_name(z, i, name) < 0)
			continue;
		for (uint16_t r = 0; r < n->n_rrsets; r++) {
			const struct zone_rrset *rs = &z->rrsets[n->rrsets + r];
			const uint8_t *rd = zone_rdata(z, rs);
			for (uint16_t k = 0; k < rs->count; k++, rd = rdata_next(rd))
				fn(ctx, name, rs->type, rs->ttl, rd + 2, rdata_len(rd));
		}
	}
}
