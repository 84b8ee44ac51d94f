/* The zone store: lookups over an immutable zone version. */
#include "zone.h"

#include <stdlib.h>
#include <string.h>

#include "rrtype.h"

void zone_free(struct zone *z)
{
	free(z); /* one block: see zone_builder_finish() */
}

int zone_adopt(struct zone *z, size_t len)
{
	size_t hdr = (sizeof(struct zone) + 7) & ~(size_t)7;
	if (len < hdr || z->bytes != len || z->n_nodes == 0 || z->dnssec > ZONE_NSEC3)
		return -1;
	if (z->n_nodes > len / sizeof(struct zone_node) ||
	    z->n_rrsets > len / sizeof(struct zone_rrset) || z->n_nsec3 > len / 4 ||
	    zone_aux_count(z) > len / 4 || z->hash_size > len / 4 ||
	    (z->hash_size & (z->hash_size - 1)))
		return -1;
	size_t nsz = (size_t)z->n_nodes * sizeof(struct zone_node);
	size_t rsz = (size_t)z->n_rrsets * sizeof(struct zone_rrset);
	size_t n3sz = (size_t)z->n_nsec3 * 4, asz = zone_aux_count(z) * 4;
	size_t hsz = (size_t)z->hash_size * 4;
	if (hdr + nsz + rsz + n3sz + asz + hsz > len)
		return -1;
	uint8_t *blk = (uint8_t *)z;
	size_t dlen = len - hdr - nsz - rsz - n3sz - asz - hsz;
	z->nodes = (const struct zone_node *)(const void *)(blk + hdr);
	z->rrsets = (const struct zone_rrset *)(const void *)(blk + hdr + nsz);
	z->nsec3 = (const uint32_t *)(const void *)(blk + hdr + nsz + rsz);
	z->aux = (const uint32_t *)(const void *)(blk + hdr + nsz + rsz + n3sz);
	z->hash = (const uint32_t *)(const void *)(blk + hdr + nsz + rsz + n3sz + asz);
	z->data = blk + hdr + nsz + rsz + n3sz + asz + hsz;
	/* A wrong index could only make lookups slower (zone_find checks
	 * every key and falls back to its binary search), but every slot must
	 * name a node. */
	for (uint32_t i = 0; i < z->hash_size; i++)
		if (z->hash[i] != ZONE_NONE && z->hash[i] >= z->n_nodes)
			return -1;
	if (name_check(z->apex, sizeof(z->apex)) != z->apex_len)
		return -1;
	for (uint32_t i = 0; i < z->n_nsec3; i++)
		if (z->nsec3[i] >= z->n_nodes)
			return -1;
	for (size_t i = 0; i < zone_aux_count(z); i++)
		if (z->aux[i] != ZONE_NONE &&
		    z->aux[i] >= (z->dnssec == ZONE_NSEC ? z->n_nodes : z->n_nsec3))
			return -1;
	/* Every node, RRset and RDATA inside the block, parents first. */
	uint32_t records = 0;
	for (uint32_t i = 0; i < z->n_nodes; i++) {
		const struct zone_node *n = &z->nodes[i];
		if (n->key > dlen || dlen - n->key < 2 ||
		    dlen - n->key - 2 < (size_t)((z->data[n->key] << 8) | z->data[n->key + 1]) ||
		    (i > 0 && n->parent >= i) || n->rrsets > z->n_rrsets ||
		    z->n_rrsets - n->rrsets < n->n_rrsets)
			return -1;
		for (uint16_t r = 0; r < n->n_rrsets; r++) {
			const struct zone_rrset *rs = &z->rrsets[n->rrsets + r];
			size_t off = rs->rdata;
			for (uint16_t k = 0; k < rs->count; k++) {
				if (off > dlen || dlen - off < 2)
					return -1;
				size_t l = (size_t)((z->data[off] << 8) | z->data[off + 1]);
				if (dlen - off - 2 < l)
					return -1;
				off += 2 + l;
			}
			records += rs->count;
		}
	}
	return records == z->n_records && zone_rrset(z, 0, 6 /* SOA */) ? 0 : -1;
}

static int key_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);
	if (c)
		return c;
	return al < bl ? -1 : al > bl;
}

/* Binary search of nodes [lo, n_nodes) for the key a || b (b may be
 * empty): 1 and the node, or 0 and its predecessor (lo - 1 at least, 0 if
 * lo is 0). */
static int search(const struct zone *z, uint32_t lo, const uint8_t *a, size_t al,
		  const uint8_t *b, size_t bl, uint32_t *idx)
{
	uint32_t hi = z->n_nodes;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		size_t ml;
		const uint8_t *mk = zone_key(z, mid, &ml);
		int c = memcmp(mk, a, ml < al ? ml : al);
		if (!c)
			c = ml < al ? -1 : key_cmp(mk + al, ml - al, b, bl);
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

int zone_find(const struct zone *z, const uint8_t *key, size_t klen, uint32_t *idx)
{
	if (ICB_ZONE_HASH && z->hash_size) {
		/* Most names asked for exist: one probe or two finds them. */
		uint32_t mask = z->hash_size - 1;
		for (uint32_t h = zone_key_hash(key, klen) & mask, tries = 0; tries <= mask;
		     h = (h + 1) & mask, tries++) {
			uint32_t n = z->hash[h];
			if (n == ZONE_NONE)
				break;
			size_t ml;
			const uint8_t *mk = zone_key(z, n, &ml);
			if (ml == klen && memcmp(mk, key, klen) == 0) {
				*idx = n;
				return 1;
			}
		}
	}
	static const uint8_t none[1] = { 0 }; /* memcmp wants a pointer, even for 0 octets */
	return search(z, 0, key, klen, none, 0, idx);
}

int zone_find_wildcard(const struct zone *z, uint32_t node, uint32_t *idx)
{
	static const uint8_t star[2] = { '*', 0 };
	size_t pl;
	const uint8_t *pk = zone_key(z, node, &pl);
	/* Only the node's subtree can hold it, and it follows the node. */
	return search(z, node + 1, pk, pl, star, 2, idx);
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
