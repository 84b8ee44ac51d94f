/* The zone store: lookups over an immutable zone version. */
#include "zone.h"

#include <stdlib.h>
#include <string.h>

#include "rrtype.h"
#include "wire.h"

void (*zone_unused)(void *p, size_t len);

/* One version fewer reads whole version w's nodes and indexes. */
static void nodes_done(struct zone *w)
{
	if (--w->node_refs || w->refs == 1 || !zone_unused)
		return; /* still read, or the whole block goes now */
	/* The block: header, nodes, RRsets, then the NSEC3 chain, NSEC or
	 * NSEC3 index and hash index; the RRsets and the octets stay. */
	uint8_t *n = (uint8_t *)(uintptr_t)w->nodes;
	uint8_t *idx = (uint8_t *)(uintptr_t)(w->rrsets + w->n_rrsets);
	zone_unused(n, (size_t)w->n_nodes * sizeof(struct zone_node));
	zone_unused(idx, (size_t)(w->data - idx));
}

/* One user fewer of z's block.  A patched version holds a reference to
 * its base and to the reshaped version whose nodes it reads (which holds
 * none but its base's): two levels at most. */
static void release(struct zone *z)
{
	if (!z || --z->refs)
		return;
	struct zone *base = z->base, *shape = z->shape;
	if (base && !shape && z->nodes == base->nodes)
		nodes_done(base);
	free(z->hash_own);
	free(z);
	release(shape);
	release(base);
}

void zone_free(struct zone *z)
{
	if (z && !z->base)
		nodes_done(z); /* its own reading of its nodes ends */
	release(z);
}

void zone_set_flags(const struct zone *z, struct zone_node *nodes)
{
	for (uint32_t i = 0; i < z->n_nodes; i++) {
		struct zone_node *n = &nodes[i];
		for (uint16_t r = 0; r < n->n_rrsets; r++) {
			uint16_t t = zone_rrset_at(z, n->rrsets + r)->type;
			if (t == T_NS && n->labels > 0)
				n->flags |= NODE_DELEG; /* RFC 1034 4.2.1 */
			if (t == T_DNAME)
				n->flags |= NODE_DNAME;
		}
		if (i == 0)
			continue;
		struct zone_node *p = &nodes[n->parent];
		if ((p->flags & NODE_UNDER) || (p->labels > 0 && (p->flags & NODE_DELEG)) ||
		    (p->flags & NODE_DNAME))
			n->flags |= NODE_UNDER;
		/* "*" as the node's own label (the key's last): a wildcard
		 * below the parent (RFC 4592 2.2.1). */
		size_t kl;
		const uint8_t *k = zone_key(z, i, &kl);
		if (kl >= 2 && k[kl - 1] == 0 && k[kl - 2] == '*' && (kl == 2 || k[kl - 3] == 0))
			p->flags |= NODE_WILDCHILD;
	}
}

void zone_hash_fill(const struct zone *z, uint32_t *hash)
{
	uint32_t slots = z->hash_size;
	for (uint32_t i = 0; i < slots; i++)
		hash[i] = ZONE_NONE;
	/* The slots are hashed AHEAD nodes before they are filled, their
	 * cache lines asked for meanwhile: a big index is mostly cache misses. */
	enum { AHEAD = 16 };
	uint32_t ring[AHEAD];
	for (uint32_t n = 0; slots && n < z->n_nodes + AHEAD; n++) {
		if (n >= AHEAD) {
			uint32_t kh = ring[n % AHEAD], h = kh & (slots - 1);
			while (hash[h] != ZONE_NONE)
				h = (h + 1) & (slots - 1);
			hash[h] = ZONE_HASH_TAG(kh) | (n - AHEAD);
		}
		if (n < z->n_nodes) {
			size_t kl;
			const uint8_t *k = zone_key(z, n, &kl);
			uint32_t kh = zone_key_hash(k, kl);
			ring[n % AHEAD] = kh;
			ZONE_PREFETCH(&hash[kh & (slots - 1)]);
		}
	}
}

int zone_index(struct zone *z)
{
	if (!ICB_ZONE_HASH || !z->hash_size || z->hash)
		return 0;
	/* The version that owns the nodes z reads (a content patch reads
	 * its base's or a reshaped version's): the index goes with them. */
	struct zone *o = z->shape ? z->shape : z->base && z->nodes == z->base->nodes ? z->base : z;
	if (!o->hash) {
		uint32_t *h = malloc((size_t)o->hash_size * sizeof(*h));
		if (!h)
			return -1;
		zone_hash_fill(o, h);
		o->hash_own = h;
		o->hash = h;
	}
	z->hash = o->hash;
	return 0;
}

const struct zone_rrset *zone_patched(const struct zone *z, uint32_t i)
{
	uint32_t lo = 0, hi = z->n_patch;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (z->patch_idx[mid] < i)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* The bit said it is there; a wrong bit would still find base's. */
	return lo < z->n_patch && z->patch_idx[lo] == i ? &z->patch_rrsets[lo] : &z->rrsets[i];
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
	if (dlen > ~ZONE_PATCHED) /* RDATA offsets have 31 bits */
		return -1;
	z->base = NULL;
	z->shape = NULL;
	z->refs = 1;
	z->node_refs = 1;
	z->rrset_slots = z->n_rrsets;
	z->keys_len = 0;
	z->n_patch = 0;
	z->patch_bits = NULL;
	z->patch_idx = NULL;
	z->patch_rrsets = NULL;
	z->nodes = (const struct zone_node *)(const void *)(blk + hdr);
	z->rrsets = (const struct zone_rrset *)(const void *)(blk + hdr + nsz);
	z->nsec3 = (const uint32_t *)(const void *)(blk + hdr + nsz + rsz);
	z->aux = (const uint32_t *)(const void *)(blk + hdr + nsz + rsz + n3sz);
	z->hash = (const uint32_t *)(const void *)(blk + hdr + nsz + rsz + n3sz + asz);
	z->hash_own = NULL;
	z->data = blk + hdr + nsz + rsz + n3sz + asz + hsz;
	z->dbase[0] = z->dbase[1] = z->data;
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
	if (records != z->n_records || !zone_rrset(z, 0, 6 /* SOA */))
		return -1;
	/* The hash index is made again rather than trusted: lookups take a
	 * name it does not hold for absent. */
	if (z->hash_size != zone_hash_slots(z->n_nodes))
		return -1;
	zone_hash_fill(z, (uint32_t *)(void *)(blk + hdr + nsz + rsz + n3sz + asz));
	return 0;
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
			c = ml < al ? -1 : zone_octets_cmp(mk + al, ml - al, b, bl);
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

/* The hash index's answer for key: 1 and *idx = its node, or 0 if the
 * zone has no such name.  Slots of other names are passed on their tag
 * alone, mostly. */
static int hash_find(const struct zone *z, const uint32_t *index, const uint8_t *key, size_t klen,
		     uint32_t *idx)
{
	uint32_t mask = z->hash_size - 1, kh = zone_key_hash(key, klen), tag = ZONE_HASH_TAG(kh);
	for (uint32_t h = kh & mask, tries = 0; tries <= mask; h = (h + 1) & mask, tries++) {
		uint32_t slot = index[h];
		if (slot == ZONE_NONE)
			return 0;
		if (ZONE_HASH_TAG(slot) != tag)
			continue;
		if (zone_node_is(z, slot & ZONE_HASH_NODE, key, klen)) {
			*idx = slot & ZONE_HASH_NODE;
			return 1;
		}
	}
	return 0;
}

int zone_hint_slot(const struct zone *z, const uint8_t *key, size_t klen, uint32_t *slot,
		   uint32_t *tag)
{
	const uint32_t *index = ICB_ZONE_HASH ? z->hash : NULL;
	if (!index)
		return 0;
	uint32_t kh = zone_key_hash(key, klen);
	*slot = kh & (z->hash_size - 1);
	*tag = ZONE_HASH_TAG(kh);
	ZONE_PREFETCH(&index[*slot]);
	return 1;
}

uint32_t zone_hint_node(const struct zone *z, uint32_t *slot, uint32_t tag)
{
	const uint32_t *index = ICB_ZONE_HASH ? z->hash : NULL;
	if (!index || *slot >= z->hash_size)
		return ZONE_NONE;
	/* Other names' slots come first as often as not (linear probing,
	 * up to two thirds full); they share the slot's cache line or the
	 * next, so a few are passed here as hash_find() will pass them. */
	uint32_t mask = z->hash_size - 1;
	for (unsigned tries = 0; tries < 8; tries++, *slot = (*slot + 1) & mask) {
		uint32_t v = index[*slot];
		if (v == ZONE_NONE)
			return ZONE_NONE;
		if (ZONE_HASH_TAG(v) == tag) {
			ZONE_PREFETCH(&z->nodes[v & ZONE_HASH_NODE]);
			return v & ZONE_HASH_NODE;
		}
	}
	return ZONE_NONE;
}

int zone_name_key(const struct zone *z, const uint8_t *name, uint8_t *key)
{
	/* name_in_zone() with the apex's labels known. */
	unsigned nl = name_labels(name);
	if (nl < z->apex_labels)
		return -1;
	unsigned rel = nl - z->apex_labels;
	if (!name_equal(name_skip(name, rel), z->apex))
		return -1;
	return (int)name_key(name, rel, key);
}

int zone_hint_name(const struct zone *z, const uint8_t *name, uint32_t *slot, uint32_t *tag)
{
	uint8_t key[NAME_KEY_MAX];
	int klen = ICB_ZONE_HASH && z->hash ? zone_name_key(z, name, key) : -1;
	return klen >= 0 && zone_hint_slot(z, key, (size_t)klen, slot, tag);
}

const struct zone_rrset *zone_hint_rrset(const struct zone *z, uint32_t node, uint16_t type)
{
	const struct zone_rrset *rs = zone_rrset(z, node, type);
	if (rs)
		ZONE_PREFETCH(zone_rdata(z, rs));
	return rs;
}

void zone_hint_data(const struct zone *z, uint32_t node)
{
	if (node >= z->n_nodes)
		return;
	const struct zone_node *n = &z->nodes[node];
	ZONE_PREFETCH(z->dbase[n->key >> 31] + (n->key & ~ZONE_PATCHED));
	/* A whole version's RRsets; a patched one's may be its own. */
	if (!z->patch_bits && n->rrsets < z->n_rrsets)
		ZONE_PREFETCH(&z->rrsets[n->rrsets]);
}

int zone_find(const struct zone *z, const uint8_t *key, size_t klen, uint32_t *idx)
{
	/* Most names asked for exist: one probe or two finds them. */
	const uint32_t *index = ICB_ZONE_HASH ? z->hash : NULL;
	if (index && hash_find(z, index, key, klen, idx))
		return 1;
	static const uint8_t none[1] = { 0 }; /* memcmp wants a pointer, even for 0 octets */
	return search(z, 0, key, klen, none, 0, idx);
}

int zone_find_exact(const struct zone *z, const uint8_t *key, size_t klen, uint32_t *idx)
{
	const uint32_t *index = ICB_ZONE_HASH ? z->hash : NULL;
	if (index)
		return hash_find(z, index, key, klen, idx);
	return zone_find(z, key, klen, idx);
}

int zone_find_encloser(const struct zone *z, const uint8_t *key, size_t klen, uint32_t *node)
{
	const uint32_t *index = ICB_ZONE_HASH ? z->hash : NULL;
	if (!index) {
		uint32_t pred;
		if (zone_find(z, key, klen, &pred)) {
			*node = pred;
			return 1;
		}
		*node = zone_encloser(z, key, klen, pred);
		return 0;
	}
	if (hash_find(z, index, key, klen, node))
		return 1;
	/* An ancestor's key is a prefix of the name's that ends with a
	 * label's terminator; every ancestor is a node (empty non-terminals
	 * are), so the first one found climbing is the closest encloser.
	 * The apex (the empty key) ends the climb. */
	for (size_t l = klen ? klen - 1 : 0; l > 0; l--)
		if (key[l - 1] == 0 && hash_find(z, index, key, l, node))
			return 0;
	*node = 0;
	return 0;
}

/* "*" below node by its key (node's, then the label "*"), through the
 * hash index: a function of its own, so that the key's buffer is on the
 * stack only where there is an index. */
static int hash_find_wildcard(const struct zone *z, const uint32_t *index, uint32_t node,
			      uint32_t *idx)
{
	size_t pl;
	const uint8_t *pk = zone_key(z, node, &pl);
	uint8_t k[NAME_KEY_MAX + 2];
	if (pl + 2 > sizeof(k))
		return 0;
	memcpy(k, pk, pl);
	k[pl] = '*';
	k[pl + 1] = 0;
	return hash_find(z, index, k, pl + 2, idx);
}

int zone_find_wildcard(const struct zone *z, uint32_t node, uint32_t *idx)
{
	const uint32_t *index = ICB_ZONE_HASH ? z->hash : NULL;
	if (index && hash_find_wildcard(z, index, node, idx))
		return 1;
	/* Absent (or no index): the predecessor, for the proofs of denial.
	 * Only the node's subtree can hold it, and it follows the node; its
	 * key is compared in two parts, not built. */
	static const uint8_t star[2] = { '*', 0 };
	size_t pl;
	const uint8_t *pk = zone_key(z, node, &pl);
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
	if (!z->patch_bits) { /* a whole version: its own RRsets, in a row */
		const struct zone_rrset *rs = z->rrsets + n->rrsets;
		for (uint16_t i = 0; i < n->n_rrsets; i++)
			if (rs[i].type == type)
				return &rs[i];
		return NULL;
	}
	for (uint16_t i = 0; i < n->n_rrsets; i++) {
		const struct zone_rrset *rs = zone_rrset_at(z, n->rrsets + i);
		if (rs->type == type)
			return rs;
	}
	return NULL;
}

size_t zone_rrset_octets(const struct zone *z, const struct zone_rrset *rs)
{
	const uint8_t *first = zone_rdata(z, rs), *rd = first;
	for (uint16_t k = 0; k < rs->count; k++)
		rd = rdata_next(rd);
	return (size_t)(rd - first);
}

void zone_set_soa(struct zone *z)
{
	/* SOA RDATA: mname, rname, serial, refresh, retry, expire, minimum. */
	const struct zone_rrset *soa = zone_rrset(z, 0, T_SOA);
	const uint8_t *rd = zone_rdata(z, soa);
	const uint8_t *fix = rd + 2 + rdata_len(rd) - 20;
	z->serial = get32(fix);
	z->refresh = get32(fix + 4);
	z->retry = get32(fix + 8);
	z->expire = get32(fix + 12);
	uint32_t minimum = get32(fix + 16);
	z->neg_ttl = minimum < soa->ttl ? minimum : soa->ttl; /* RFC 2308 5 */
}

/* The octets of node i in a flattened block: its key, then its RRsets'
 * RDATA. */
static size_t node_octets(const struct zone *z, uint32_t i)
{
	const struct zone_node *n = &z->nodes[i];
	size_t len;
	zone_key(z, i, &len);
	len += 2;
	for (uint16_t r = 0; r < n->n_rrsets; r++)
		len += zone_rrset_octets(z, zone_rrset_at(z, n->rrsets + r));
	return len;
}

size_t zone_flatten(const struct zone *z, zone_out_fn out, void *ctx)
{
	static const uint8_t pad[8];
	size_t hdr = (sizeof(struct zone) + 7) & ~(size_t)7;
	size_t nsz = (size_t)z->n_nodes * sizeof(struct zone_node);
	size_t rsz = (size_t)z->n_rrsets * sizeof(struct zone_rrset);
	size_t n3sz = (size_t)z->n_nsec3 * 4, asz = zone_aux_count(z) * 4;
	size_t hsz = (size_t)z->hash_size * 4;
	size_t dlen = 0;
	for (uint32_t i = 0; i < z->n_nodes; i++)
		dlen += node_octets(z, i);
	struct zone head;
	memcpy(&head, z, sizeof(head)); /* padding too: the same zone, the same octets */
	head.nodes = NULL;
	head.rrsets = NULL;
	head.nsec3 = NULL;
	head.aux = NULL;
	head.hash = NULL;
	head.hash_own = NULL;
	head.data = NULL;
	head.base = NULL;
	head.shape = NULL;
	head.refs = 0;
	head.node_refs = 0;
	head.rrset_slots = z->n_rrsets;
	head.keys_len = 0;
	head.n_patch = 0;
	head.patch_bits = NULL;
	head.patch_idx = NULL;
	head.patch_rrsets = NULL;
	head.dbase[0] = head.dbase[1] = NULL;
	head.bytes = hdr + nsz + rsz + n3sz + asz + hsz + dlen;
	out(ctx, &head, sizeof(head));
	out(ctx, pad, hdr - sizeof(head));
	/* Nodes and RRsets in node order, each node's octets after the
	 * previous one's: the offsets follow from the lengths alone. */
	uint32_t off = 0, r_at = 0;
	for (uint32_t i = 0; i < z->n_nodes; i++) {
		struct zone_node n = z->nodes[i];
		n.key = off;
		n.rrsets = r_at;
		r_at += n.n_rrsets;
		off += (uint32_t)node_octets(z, i);
		out(ctx, &n, sizeof(n));
	}
	off = 0;
	for (uint32_t i = 0; i < z->n_nodes; i++) {
		const struct zone_node *n = &z->nodes[i];
		size_t kl;
		zone_key(z, i, &kl);
		off += 2 + (uint32_t)kl;
		for (uint16_t r = 0; r < n->n_rrsets; r++) {
			struct zone_rrset rs = *zone_rrset_at(z, n->rrsets + r);
			size_t octets = zone_rrset_octets(z, &rs);
			rs.rdata = off;
			off += (uint32_t)octets;
			out(ctx, &rs, sizeof(rs));
		}
	}
	out(ctx, z->nsec3, n3sz);
	out(ctx, z->aux, asz);
	/* The hash index as empty slots: zone_adopt() makes it again (and a
	 * version may not have it yet). */
	uint32_t empty[16];
	for (size_t i = 0; i < 16; i++)
		empty[i] = ZONE_NONE;
	for (size_t done = 0; done < hsz; done += sizeof(empty))
		out(ctx, empty, hsz - done < sizeof(empty) ? hsz - done : sizeof(empty));
	for (uint32_t i = 0; i < z->n_nodes; i++) {
		const struct zone_node *n = &z->nodes[i];
		size_t kl;
		const uint8_t *k = zone_key(z, i, &kl);
		out(ctx, k - 2, kl + 2);
		for (uint16_t r = 0; r < n->n_rrsets; r++) {
			const struct zone_rrset *rs = zone_rrset_at(z, n->rrsets + r);
			out(ctx, zone_rdata(z, rs), zone_rrset_octets(z, rs));
		}
	}
	return head.bytes;
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
			const struct zone_rrset *rs = zone_rrset_at(z, n->rrsets + r);
			const uint8_t *rd = zone_rdata(z, rs);
			for (uint16_t k = 0; k < rs->count; k++, rd = rdata_next(rd))
				fn(ctx, name, rs->type, rs->ttl, rd + 2, rdata_len(rd));
		}
	}
}
