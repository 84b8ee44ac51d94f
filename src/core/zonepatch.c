/* Applying an IXFR's differences to the version served (zonepatch.h). */
#include "zonepatch.h"

#include <stdlib.h>
#include <string.h>

#include "rrtype.h"
#include "wire.h"

/* One RRset the differences change. */
struct change {
	uint32_t rs;        /* its index in cur, or ZONE_NONE for a new one */
	size_t from, to;    /* its differences in the sorted builder */
	uint16_t count;
	uint32_t ttl;
	size_t octets;
};

/* Records of one RRset: one owner and type, and RRSIGs one set per
 * covered type (RFC 4034 3), as zb_finish lays them out. */
static int same_set(const struct zb_rec *a, const struct zb_rec *b)
{
	if (a->klen != b->klen || a->type != b->type || memcmp(a->key, b->key, a->klen) != 0)
		return 0;
	return a->type != T_RRSIG || (a->rdlen >= 2 && b->rdlen >= 2 && memcmp(a->rd, b->rd, 2) == 0);
}

/* The index of the RRset that record r belongs to, or ZONE_NONE. */
static uint32_t find_set(const struct zone *cur, const struct zb_rec *r)
{
	uint32_t node;
	if (!zone_find(cur, r->key, r->klen, &node))
		return ZONE_NONE;
	const struct zone_node *n = &cur->nodes[node];
	for (uint16_t i = 0; i < n->n_rrsets; i++) {
		uint32_t at = n->rrsets + i;
		const struct zone_rrset *rs = zone_rrset_at(cur, at);
		if (rs->type != r->type)
			continue;
		if (r->type != T_RRSIG)
			return at;
		const uint8_t *rd = zone_rdata(cur, rs);
		if (rdata_len(rd) >= 2 && r->rdlen >= 2 && memcmp(rd + 2, r->rd, 2) == 0)
			return at;
	}
	return ZONE_NONE;
}

/* RRset rs of cur (NULL: a new one) with the differences [i, j)
 * replayed in order, exactly as a whole build would (zonebuilder.c
 * layout_records): its count, TTL (the smallest of its records', RFC 2181
 * 5.2) and octets, written to out unless NULL.  0; 1 if it does not fit
 * an RRset; -1 (b->err). */
static int replay(const struct zone *cur, const struct zone_rrset *rs, struct zone_builder *b,
		  size_t i, size_t j, uint8_t *out, struct change *c)
{
	const uint8_t *od = rs ? zone_rdata(cur, rs) : NULL;
	uint16_t taken = 0, had = rs ? rs->count : 0;
	size_t o = 0;
	uint32_t n = 0, ttl = UINT32_MAX;
	struct zb_rec r;
	while (taken < had || i < j) {
		if (i < j)
			zb_record(b, i, &r);
		const uint8_t *rd;
		size_t rl;
		int present = 0;
		uint32_t rt = 0;
		if (taken < had &&
		    (i >= j || zone_octets_cmp(od + 2, rdata_len(od), r.rd, r.rdlen) <= 0)) {
			rd = od + 2;
			rl = rdata_len(od);
			present = 1;
			rt = rs->ttl;
			od = rdata_next(od);
			taken++;
		} else {
			rd = r.rd;
			rl = r.rdlen;
		}
		/* Every copy of this RR in the differences, in their order
		 * (RFC 1995 4: deletions before additions). */
		for (; i < j; i++) {
			zb_record(b, i, &r);
			if (zone_octets_cmp(rd, rl, r.rd, r.rdlen) != 0)
				break;
			if (r.op == ZB_DEL) {
				if (!present) {
					b->err = "IXFR deletes a record that is not in the zone";
					return -1;
				}
				present = 0;
			} else {
				/* A whole zone's copies of one RR: the smallest
				 * TTL (as zonebuilder.c layout_records). */
				rt = present && r.seq == 0 && rt < r.ttl ? rt : r.ttl;
				present = 1;
			}
		}
		if (!present)
			continue;
		if (n == UINT16_MAX)
			return 1;
		if (rt < ttl)
			ttl = rt;
		if (out) {
			put16(out + o, (uint16_t)rl);
			memcpy(out + o + 2, rd, rl);
		}
		o += 2 + rl;
		n++;
	}
	c->count = (uint16_t)n;
	c->ttl = ttl;
	c->octets = o;
	return 0;
}

/* The whole version a derived one shares (itself if whole), and the
 * version that owns the nodes and indexes it reads (NULL: its base's). */
static struct zone *base_of(const struct zone *z)
{
	/* The one field of a served version that changes is its count of
	 * users, kept by the thread that makes and frees versions. */
	return z->base ? z->base : (struct zone *)(uintptr_t)z;
}

static struct zone *shape_of(const struct zone *z)
{
	if (!z->base || z->nodes == z->base->nodes)
		return NULL;
	return z->shape ? z->shape : (struct zone *)(uintptr_t)z;
}

/* ---- a version with other names: reshaping ---------------------------- */

/* The order of RRsets at a node (zonebuilder.c rr_cmp): by type, RRSIGs
 * by the type they cover. */
static uint32_t set_order(uint16_t type, const uint8_t *rd, size_t rdlen)
{
	uint32_t k = (uint32_t)type << 16;
	if (type == T_RRSIG && rdlen >= 2)
		k |= (uint32_t)rd[0] << 8 | rd[1];
	return k;
}

/* One RRset of the new version's patch. */
struct entry {
	uint32_t slot;
	struct zone_rrset rs;
};

/* The walk that lays out the new nodes, run twice: to count (write
 * clear), then to write what it counted into the new block. */
struct shaper {
	const struct zone *cur;
	struct zone_builder *b;
	const struct change *ch;
	size_t n_ch;
	int write;
	struct zone_node *nodes;
	struct entry *ents;
	uint8_t *own;           /* the new version's own octets */
	size_t keys_at, rd_at;  /* where the next key and RDATA go in own */
	uint32_t n_nodes, n_rrsets, n_ents, slots, records;
	int any_nsec;
	uint32_t path[130];     /* node at each depth of the current owner */
	const uint8_t *prev;    /* the previous owner's key */
	size_t prev_len;
	int have_prev;
};

static void shaper_init(struct shaper *s, struct zone_builder *b, const struct zone *cur,
			const struct change *ch, size_t n_ch)
{
	memset(s, 0, sizeof(*s));
	s->cur = cur;
	s->b = b;
	s->ch = ch;
	s->n_ch = n_ch;
	s->slots = cur->rrset_slots;
}

/* Own octets: a key (u16 length, key) at the next place in the keys. */
static uint32_t put_key(struct shaper *s, const uint8_t *key, size_t klen)
{
	size_t at = s->keys_at;
	if (s->write) {
		put16(s->own + at, (uint16_t)klen);
		memcpy(s->own + at + 2, key, klen);
	}
	s->keys_at += 2 + klen;
	return (uint32_t)at | ZONE_PATCHED;
}

/* The key of cur's node i where the new version reads it: in base's
 * octets as it was, or copied from cur's own. */
static uint32_t keep_key(struct shaper *s, uint32_t i)
{
	uint32_t k = s->cur->nodes[i].key;
	if (!(k & ZONE_PATCHED))
		return k;
	size_t kl;
	const uint8_t *key = zone_key(s->cur, i, &kl);
	return put_key(s, key, kl);
}

/* An RRset of cur kept as it is: its RDATA read where it was, or copied
 * from cur's own octets. */
static struct zone_rrset keep_rrset(struct shaper *s, const struct zone_rrset *rs)
{
	struct zone_rrset k = *rs;
	if (rs->rdata & ZONE_PATCHED) {
		size_t len = zone_rrset_octets(s->cur, rs);
		if (s->write)
			memcpy(s->own + s->rd_at, zone_rdata(s->cur, rs), len);
		k.rdata = (uint32_t)s->rd_at | ZONE_PATCHED;
		s->rd_at += len;
	}
	return k;
}

/* A changed or new RRset: the differences replayed into own octets. */
static struct zone_rrset new_rrset(struct shaper *s, const struct change *c, uint16_t type)
{
	struct zone_rrset k = { type, c->count, c->ttl, (uint32_t)s->rd_at | ZONE_PATCHED };
	if (s->write) {
		struct change again = *c;
		const struct zone_rrset *old = c->rs == ZONE_NONE ? NULL : zone_rrset_at(s->cur, c->rs);
		replay(s->cur, old, s->b, c->from, c->to, s->own + s->rd_at, &again);
	}
	s->rd_at += c->octets;
	return k;
}

static void add_entry(struct shaper *s, uint32_t slot, struct zone_rrset rs)
{
	if (s->write)
		s->ents[s->n_ents] = (struct entry){ slot, rs };
	s->n_ents++;
}

static void add_node(struct shaper *s, uint32_t key, unsigned labels, uint32_t parent,
		     uint32_t rrsets, uint16_t n_rrsets)
{
	if (s->write)
		s->nodes[s->n_nodes] = (struct zone_node){ key, parent, rrsets, n_rrsets, 0,
							   (uint8_t)labels };
	s->path[labels] = s->n_nodes++;
}

/* The RRsets of one owner: cur's node old (or none) with the changes [a,
 * a2) merged in their order.  With emit clear it counts them (*m, and
 * the records and NSECs of the version) and tells whether the node keeps
 * its RRset indexes (*same: no RRset came or went); with emit set it
 * adds what the patch needs, at first on when the indexes change. */
static void owner_sets(struct shaper *s, int64_t old, size_t a, size_t a2, int emit, int keep,
		       uint32_t first, uint32_t *m, int *same)
{
	const struct zone *cur = s->cur;
	uint16_t on = old >= 0 ? cur->nodes[old].n_rrsets : 0, k = 0;
	uint32_t ostart = old >= 0 ? cur->nodes[old].rrsets : 0;
	size_t c = a;
	*m = 0;
	*same = 1;
	while (k < on || c < a2) {
		const struct change *x = c < a2 ? &s->ch[c] : NULL;
		const struct zone_rrset *ors = k < on ? zone_rrset_at(cur, ostart + k) : NULL;
		struct zb_rec r;
		if (x)
			zb_record(s->b, x->from, &r);
		int from_old = ors && (!x || x->rs != ZONE_NONE);
		if (ors && !from_old) {
			const uint8_t *rd = zone_rdata(cur, ors);
			from_old = set_order(ors->type, rd + 2, rdata_len(rd)) <
				   set_order(r.type, r.rd, r.rdlen);
		}
		uint32_t slot = keep ? ostart + k : first + *m;
		uint16_t count, type;
		if (from_old && x && x->rs == ostart + k) {
			/* An RRset of cur that the differences change. */
			type = ors->type;
			count = x->count;
			if (count && emit)
				add_entry(s, slot, new_rrset(s, x, type));
			k++;
			c++;
		} else if (from_old) {
			/* An RRset of cur as it is. */
			type = ors->type;
			count = ors->count;
			if (emit && (!keep || (cur->patch_bits &&
					       ((cur->patch_bits[slot >> 3] >> (slot & 7)) & 1))))
				add_entry(s, slot, keep_rrset(s, ors));
			k++;
		} else {
			/* A new RRset (none if the differences added and
			 * deleted it). */
			type = r.type;
			count = x->count;
			if (count && emit)
				add_entry(s, slot, new_rrset(s, x, type));
			c++;
		}
		if (from_old != (count != 0))
			*same = 0; /* an RRset went, or came */
		if (!count)
			continue;
		(*m)++;
		if (!emit) {
			s->records += count;
			s->any_nsec |= type == T_NSEC;
		}
	}
}

/* One owner in the new version: the empty non-terminals above it that
 * the previous owner did not have (zonebuilder.c layout_records), then
 * itself.  -1 if it cannot be laid out. */
static int shape_owner(struct shaper *s, int64_t old, const uint8_t *key, size_t klen, size_t a,
		       size_t a2)
{
	uint32_t m;
	int same;
	owner_sets(s, old, a, a2, 0, 0, 0, &m, &same);
	if (m == 0)
		return 0; /* gone, or an empty non-terminal: made again if needed */
	if (m > UINT16_MAX)
		return -1; /* more RRsets than a node holds: the whole build says so */
	unsigned labels = 0, common = 0;
	for (size_t k = 0; k < klen; k++)
		labels += key[k] == 0;
	if (labels > 127 || (!s->have_prev && klen != 0))
		return -1; /* the apex comes first, with its SOA */
	for (size_t k = 0; s->have_prev && k < klen && k < s->prev_len && key[k] == s->prev[k]; k++)
		common += key[k] == 0;
	size_t pos = 0;
	unsigned depth = 0;
	for (; pos < klen && depth < common; pos++)
		depth += key[pos] == 0;
	while (depth + 1 < labels) {
		while (key[pos] != 0)
			pos++;
		pos++;
		depth++;
		uint32_t at;
		uint32_t kref = zone_find(s->cur, key, pos, &at) ? keep_key(s, at) : put_key(s, key, pos);
		add_node(s, kref, depth, s->path[depth - 1], 0, 0);
	}
	uint32_t kref = old >= 0 ? keep_key(s, (uint32_t)old) : put_key(s, key, klen);
	int keep = old >= 0 && same;
	uint32_t first = keep ? s->cur->nodes[old].rrsets : s->slots;
	if (!keep)
		s->slots += m;
	add_node(s, kref, labels, labels ? s->path[labels - 1] : 0, first, (uint16_t)m);
	s->n_rrsets += m;
	owner_sets(s, old, a, a2, 1, keep, first, &m, &same);
	s->prev = key;
	s->prev_len = klen;
	s->have_prev = 1;
	return 0;
}

/* The merged walk: cur's nodes and the changed owners, in canonical
 * order. */
static int shape_walk(struct shaper *s)
{
	const struct zone *cur = s->cur;
	uint32_t i = 0;
	size_t a = 0;
	while (i < cur->n_nodes || a < s->n_ch) {
		size_t ckl = 0;
		const uint8_t *ck = i < cur->n_nodes ? zone_key(cur, i, &ckl) : NULL;
		struct zb_rec r, x;
		if (a < s->n_ch)
			zb_record(s->b, s->ch[a].from, &r);
		int c = a == s->n_ch ? -1 : !ck ? 1 : zone_octets_cmp(ck, ckl, r.key, r.klen);
		size_t a2 = a;
		if (c >= 0)
			for (a2 = a + 1; a2 < s->n_ch; a2++) {
				zb_record(s->b, s->ch[a2].from, &x);
				if (zone_octets_cmp(x.key, x.klen, r.key, r.klen) != 0)
					break;
			}
		if (shape_owner(s, c <= 0 ? (int64_t)i : -1, c <= 0 ? ck : r.key, c <= 0 ? ckl : r.klen,
				a, a2) < 0)
			return -1;
		if (c <= 0)
			i++;
		a = a2;
	}
	return 0;
}

static int entry_cmp(const void *pa, const void *pb)
{
	uint32_t a = ((const struct entry *)pa)->slot, b = ((const struct entry *)pb)->slot;
	return a < b ? -1 : a > b;
}

/* Names came or went: a version with its own nodes, hash and NSEC index
 * over base's RRsets and octets.  0 and *out; 1 when a whole build is
 * better; -1 (b->err). */
static int reshape(struct zone_builder *b, const struct zone *cur, const struct change *ch,
		   size_t n_ch, struct zone **out)
{
	struct zone *base = base_of(cur);
	struct shaper s;
	shaper_init(&s, b, cur, ch, n_ch);
	if (shape_walk(&s) < 0)
		return 1;
	size_t keys = s.keys_at, octets = s.keys_at + s.rd_at;
	/* As for a patch: past an eighth of the zone, a whole build; so
	 * too when the RRset indexes the reshaped versions left behind
	 * (each gives a node whose types changed new ones) are that many. */
	if (s.n_ents > base->n_rrsets / 8 + 16 || octets + s.n_ents * 16 > base->bytes / 8 + 65536 ||
	    octets > ~ZONE_PATCHED || s.slots - base->n_rrsets > base->n_rrsets / 8 + 4096)
		return 1;
	uint8_t mode = s.any_nsec ? ZONE_NSEC : ZONE_UNSIGNED;
	uint32_t hslots = zone_hash_slots(s.n_nodes);
	size_t hdr = (sizeof(struct zone) + 7) & ~(size_t)7;
	size_t bits = (((size_t)s.slots + 7) / 8 + 3) & ~(size_t)3;
	size_t isz = (size_t)s.n_ents * 4, rsz = (size_t)s.n_ents * sizeof(struct zone_rrset);
	size_t nsz = (size_t)s.n_nodes * sizeof(struct zone_node);
	size_t asz = mode == ZONE_NSEC ? (size_t)s.n_nodes * 4 : 0;
	/* No hash index yet (zone.h: zone_index() once it is served). */
	size_t front = hdr + bits + isz + rsz + nsz + asz;
	uint8_t *blk = malloc(front + octets);
	struct entry *ents = malloc((s.n_ents ? s.n_ents : 1) * sizeof(*ents));
	if (!blk || !ents) {
		free(blk);
		free(ents);
		b->err = "out of memory";
		return -1;
	}
	struct zone *z = (struct zone *)(void *)blk;
	memcpy(z, cur, sizeof(*z)); /* padding too: a flattened copy is the same octets */
	uint8_t *pbits = blk + hdr;
	uint32_t *pidx = (uint32_t *)(void *)(blk + hdr + bits);
	struct zone_rrset *prs = (struct zone_rrset *)(void *)(blk + hdr + bits + isz);
	struct zone_node *nodes = (struct zone_node *)(void *)(blk + hdr + bits + isz + rsz);
	uint32_t *aux = (uint32_t *)(void *)(blk + hdr + bits + isz + rsz + nsz);
	uint8_t *own = blk + front;

	struct shaper w;
	shaper_init(&w, b, cur, ch, n_ch);
	w.write = 1;
	w.nodes = nodes;
	w.ents = ents;
	w.own = own;
	w.rd_at = keys;
	shape_walk(&w); /* the same walk as above, writing what it counted */
	qsort(ents, s.n_ents, sizeof(*ents), entry_cmp);
	memset(pbits, 0, bits);
	for (uint32_t i = 0; i < s.n_ents; i++) {
		pidx[i] = ents[i].slot;
		prs[i] = ents[i].rs;
		pbits[pidx[i] >> 3] |= (uint8_t)(1u << (pidx[i] & 7));
	}
	free(ents);

	z->base = base;
	z->shape = NULL;
	z->refs = 1;
	z->node_refs = 0;
	z->nodes = nodes;
	z->n_nodes = s.n_nodes;
	z->n_rrsets = s.n_rrsets;
	z->rrset_slots = s.slots;
	z->n_records = s.records;
	z->rrsets = base->rrsets;
	z->n_patch = s.n_ents;
	z->patch_bits = pbits;
	z->patch_idx = pidx;
	z->patch_rrsets = prs;
	z->keys_len = (uint32_t)keys;
	z->dbase[0] = base->data;
	z->dbase[1] = own;
	z->bytes = front + octets;
	z->dnssec = mode;
	z->n_nsec3 = 0;
	z->nsec3 = NULL;
	z->aux = asz ? aux : NULL;
	zone_set_flags(z, nodes);
	z->hash_size = hslots;
	z->hash = NULL;
	z->hash_own = NULL;
	/* NSEC: the owner at or before each node (zonebuilder.c
	 * prepare_proofs). */
	uint32_t last = ZONE_NONE;
	for (uint32_t i = 0; asz && i < z->n_nodes; i++) {
		if (zone_rrset(z, i, T_NSEC))
			last = i;
		aux[i] = last;
	}
	zone_set_soa(z);
	base->refs++;
	*out = z;
	return 0;
}

static int change_cmp(const void *pa, const void *pb)
{
	uint32_t a = ((const struct change *)pa)->rs, b = ((const struct change *)pb)->rs;
	return a < b ? -1 : a > b;
}

int zone_patch(struct zone_builder *b, const struct zone *cur, struct zone **out)
{
	*out = NULL;
	struct zone *base = base_of(cur);
	if (zb_sort(b) < 0)
		return -1;
	if (b->n == 0 || b->ignore_old)
		return 1;
	struct change *ch = malloc(b->n * sizeof(*ch));
	if (!ch) {
		b->err = "out of memory";
		return -1;
	}
	size_t n_ch = 0;
	int rc = 1, names = 0;
	struct zb_rec r, x;
	for (size_t i = 0, j; i < b->n; i = j) {
		zb_record(b, i, &r);
		for (j = i + 1; j < b->n; j++) {
			zb_record(b, j, &x);
			if (!same_set(&r, &x))
				break;
		}
		/* The NSEC3 chain and its parameters are worked out when a
		 * zone is built (zonebuilder.c prepare_proofs). */
		if (r.op == ZB_OLD || r.type == T_NSEC3 || r.type == T_NSEC3PARAM)
			goto done;
		uint32_t at = find_set(cur, &r);
		struct change *c = &ch[n_ch++];
		c->rs = at;
		c->from = i;
		c->to = j;
		int st = replay(cur, at == ZONE_NONE ? NULL : zone_rrset_at(cur, at), b, i, j, NULL, c);
		if (st) {
			rc = st;
			goto done;
		}
		if (r.type == T_SOA && c->count != 1)
			goto done; /* the SOA is wrong: the whole build says how */
		if (at == ZONE_NONE && c->count == 0)
			n_ch--; /* added and deleted again: nothing */
		else if (at == ZONE_NONE || c->count == 0)
			names = 1; /* an RRset comes or goes */
	}
	if (names) {
		/* Hashed names (NSEC3) are worked out by a whole build. */
		if (cur->dnssec != ZONE_NSEC3 && !zone_rrset(cur, 0, T_NSEC3PARAM))
			rc = reshape(b, cur, ch, n_ch, out);
		if (rc == 0)
			zb_free(b);
		goto done;
	}

	/* The new patch: the changes above over cur's own (if any), both
	 * by index (a reshaped version's new RRsets come after base's). */
	qsort(ch, n_ch, sizeof(*ch), change_cmp);
	size_t n_all = 0, octets = cur->keys_len;
	for (size_t a = 0, k = 0; a < n_ch || k < cur->n_patch; n_all++) {
		if (k < cur->n_patch && (a == n_ch || cur->patch_idx[k] < ch[a].rs)) {
			octets += zone_rrset_octets(cur, &cur->patch_rrsets[k++]);
			continue;
		}
		if (k < cur->n_patch && cur->patch_idx[k] == ch[a].rs)
			k++;
		octets += ch[a++].octets;
	}
	/* Past an eighth of the zone a whole build is as small and lets the
	 * query path skip the patch. */
	if (n_all > base->n_rrsets / 8 + 16 || octets + n_all * 16 > base->bytes / 8 + 65536 ||
	    octets > ~ZONE_PATCHED)
		goto done;

	size_t hdr = (sizeof(struct zone) + 7) & ~(size_t)7;
	size_t bits = (((size_t)cur->rrset_slots + 7) / 8 + 3) & ~(size_t)3;
	size_t isz = n_all * 4, rsz = n_all * sizeof(struct zone_rrset);
	size_t total = hdr + bits + isz + rsz + octets;
	uint8_t *blk = malloc(total);
	if (!blk) {
		b->err = "out of memory";
		rc = -1;
		goto done;
	}
	struct zone *z = (struct zone *)(void *)blk;
	memcpy(z, cur, sizeof(*z)); /* padding too: a flattened copy is the same octets */
	uint8_t *pbits = blk + hdr;
	uint32_t *pidx = (uint32_t *)(void *)(blk + hdr + bits);
	struct zone_rrset *prs = (struct zone_rrset *)(void *)(blk + hdr + bits + isz);
	uint8_t *pdata = blk + hdr + bits + isz + rsz;
	memset(pbits, 0, bits);
	/* The nodes it reads are cur's: so are the keys of new names, at the
	 * same offsets in the own octets. */
	struct zone *shape = shape_of(cur);
	z->base = base;
	z->shape = shape;
	z->hash_own = NULL; /* cur's index, if any, is its nodes' owner's */
	z->refs = 1;
	z->node_refs = 0;
	z->n_patch = (uint32_t)n_all;
	z->patch_bits = pbits;
	z->patch_idx = pidx;
	z->patch_rrsets = prs;
	z->dbase[0] = base->data;
	z->dbase[1] = pdata;
	z->bytes = total;
	memcpy(pdata, cur->dbase[1], cur->keys_len);
	uint32_t records = cur->n_records;
	size_t o = cur->keys_len, m = 0;
	for (size_t a = 0, k = 0; a < n_ch || k < cur->n_patch; m++) {
		size_t len;
		if (k < cur->n_patch && (a == n_ch || cur->patch_idx[k] < ch[a].rs)) {
			const struct zone_rrset *p = &cur->patch_rrsets[k];
			len = zone_rrset_octets(cur, p);
			memcpy(pdata + o, zone_rdata(cur, p), len);
			prs[m] = *p;
			pidx[m] = cur->patch_idx[k++];
		} else {
			struct change *c = &ch[a++];
			const struct zone_rrset *old = zone_rrset_at(cur, c->rs);
			replay(cur, old, b, c->from, c->to, pdata + o, c);
			records = records - old->count + c->count;
			prs[m].type = old->type;
			prs[m].count = c->count;
			prs[m].ttl = c->ttl;
			pidx[m] = c->rs;
			len = c->octets;
			if (k < cur->n_patch && cur->patch_idx[k] == c->rs)
				k++;
		}
		prs[m].rdata = (uint32_t)o | ZONE_PATCHED;
		pbits[pidx[m] >> 3] |= (uint8_t)(1u << (pidx[m] & 7));
		o += len;
	}
	z->n_records = records;
	zone_set_soa(z);
	base->refs++;
	if (shape)
		shape->refs++;
	else
		base->node_refs++; /* it reads base's nodes */
	*out = z;
	rc = 0;
	zb_free(b);
done:
	free(ch);
	return rc;
}

int zb_finish_ixfr(struct zone_builder *b, const struct zone *cur, struct zone **out)
{
	int rc = zone_patch(b, cur, out);
	if (rc < 0)
		zb_free(b);
	if (rc <= 0)
		return rc;
	/* A whole build: the old version's records join the differences
	 * (when the answer was a whole zone after all they are ignored). */
	if (!b->ignore_old && zb_load(b, cur) < 0) {
		zb_free(b);
		return -1;
	}
	return zb_finish(b, out);
}

/* The records of cur whose mark is `marked`: added to b as op, or only
 * counted when op is ZB_OLD.  The count, or -1 (b->err). */
static long each_marked(struct zone_builder *b, const struct zone *cur, int marked, uint8_t op)
{
	uint8_t name[NAME_MAXLEN];
	long n = 0;
	b->op = op;
	b->seq = 0;
	b->compare = 0; /* these come from cur: nothing to compare */
	for (uint32_t i = 0; i < cur->n_nodes; i++) {
		const struct zone_node *nd = &cur->nodes[i];
		if (nd->n_rrsets == 0 || zone_node_name(cur, i, name) < 0)
			continue;
		for (uint16_t r = 0; r < nd->n_rrsets; r++) {
			const struct zone_rrset *rs = zone_rrset_at(cur, nd->rrsets + r);
			const uint8_t *rd = zone_rdata(cur, rs);
			for (uint16_t k = 0; k < rs->count; k++, rd = rdata_next(rd)) {
				if (zb_seen(b, rs, rd) != marked)
					continue;
				n++;
				if (op != ZB_OLD &&
				    (zb_begin(b, name, rs->type, rs->ttl) < 0 ||
				     zb_rdata(b, rd + 2, rdata_len(rd)) < 0 || zb_end(b) < 0))
					return -1;
			}
		}
	}
	b->op = ZB_ADD;
	return n;
}

int zb_finish_axfr(struct zone_builder *b, const struct zone *cur, struct zone **out)
{
	if (b->against != cur) {
		b->err = "the version served changed during the transfer";
		zb_free(b);
		return -1;
	}
	/* Records of cur the transfer did not bring. */
	long gone = each_marked(b, cur, 0, ZB_OLD), rc;
	if (b->n + (size_t)gone <= cur->n_records / 8 + 64) {
		/* A few changes: those records go, the rest is kept, and
		 * the whole is finished as an IXFR (most likely a patch). */
		rc = each_marked(b, cur, 0, ZB_DEL);
		b->ignore_old = 0;
	} else {
		/* Many: the zone is built whole from what the transfer
		 * brought, the records it shared with cur taken back. */
		rc = each_marked(b, cur, 1, ZB_ADD);
		b->ignore_old = 1;
	}
	free(b->seen);
	b->seen = NULL;
	b->against = NULL;
	if (rc < 0) {
		zb_free(b);
		return -1;
	}
	return b->ignore_old ? zb_finish(b, out) : zb_finish_ixfr(b, cur, out);
}

const char *zone_patch_note(const struct zone *z)
{
	if (!z->base)
		return "";
	if (z->shape || z->nodes == z->base->nodes) /* the nodes are not its own */
		return " of changed RRsets (the rest shared with the previous version)";
	return " of new nodes and changed RRsets (names and RDATA shared with the previous version)";
}

int zb_finish_served(struct zone_builder *b, const struct zone *cur, int incremental,
		     struct zone **out)
{
	if (cur && incremental)
		return zb_finish_ixfr(b, cur, out);
	if (cur && b->against)
		return zb_finish_axfr(b, cur, out);
	return zb_finish(b, out);
}
