/* Applying an IXFR's differences to the version served (zonepatch.h). */
#include "zonepatch.h"

#include <stdlib.h>
#include <string.h>

#include "rrtype.h"
#include "wire.h"

/* One RRset the differences change. */
struct change {
	uint32_t rs;        /* its index in base */
	size_t from, to;    /* its differences in the sorted builder */
	uint16_t count;
	uint32_t ttl;
	size_t octets;
};

/* The builder's order of RDATA (zonebuilder.c rr_cmp): octets, then
 * length. */
static int rd_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);
	if (c)
		return c;
	return al < bl ? -1 : al > bl;
}

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
		if (cur->rrsets[at].type != r->type)
			continue;
		if (r->type != T_RRSIG)
			return at;
		const uint8_t *rd = zone_rdata(cur, zone_rrset_at(cur, at));
		if (rdata_len(rd) >= 2 && r->rdlen >= 2 && memcmp(rd + 2, r->rd, 2) == 0)
			return at;
	}
	return ZONE_NONE;
}

/* RRset rs of cur with the differences [i, j) replayed in order, exactly
 * as a whole build would (zonebuilder.c layout_records): its count, TTL
 * (the smallest of its records', RFC 2181 5.2) and octets, written to
 * out unless NULL.  0; 1 if it does not fit an RRset; -1 (b->err). */
static int replay(const struct zone *cur, const struct zone_rrset *rs, struct zone_builder *b,
		  size_t i, size_t j, uint8_t *out, struct change *c)
{
	const uint8_t *od = zone_rdata(cur, rs);
	uint16_t taken = 0;
	size_t o = 0;
	uint32_t n = 0, ttl = UINT32_MAX;
	struct zb_rec r;
	while (taken < rs->count || i < j) {
		if (i < j)
			zb_record(b, i, &r);
		const uint8_t *rd;
		size_t rl;
		int present = 0;
		uint32_t rt = 0;
		if (taken < rs->count &&
		    (i >= j || rd_cmp(od + 2, rdata_len(od), r.rd, r.rdlen) <= 0)) {
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
			if (rd_cmp(rd, rl, r.rd, r.rdlen) != 0)
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

int zone_patch(struct zone_builder *b, const struct zone *cur, struct zone **out)
{
	*out = NULL;
	/* The one field of a served version that changes: its count of
	 * users, kept by the thread that makes and frees versions. */
	struct zone *base = cur->base ? cur->base : (struct zone *)(uintptr_t)cur;
	zb_sort(b);
	if (b->n == 0 || b->ignore_old)
		return 1;
	struct change *ch = malloc(b->n * sizeof(*ch));
	if (!ch) {
		b->err = "out of memory";
		return -1;
	}
	size_t n_ch = 0;
	int rc = 1;
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
		if (at == ZONE_NONE)
			goto done; /* a new name or RRset */
		struct change *c = &ch[n_ch++];
		c->rs = at;
		c->from = i;
		c->to = j;
		int st = replay(cur, zone_rrset_at(cur, at), b, i, j, NULL, c);
		if (st) {
			rc = st;
			goto done;
		}
		if (c->count == 0 || (r.type == T_SOA && c->count != 1))
			goto done; /* an RRset goes, or the SOA is wrong */
	}

	/* The new patch: the changes above over cur's own (if any). */
	size_t n_all = 0, octets = 0;
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
	size_t bits = (((size_t)base->n_rrsets + 7) / 8 + 3) & ~(size_t)3;
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
	z->base = base;
	z->refs = 1;
	z->n_patch = (uint32_t)n_all;
	z->patch_bits = pbits;
	z->patch_idx = pidx;
	z->patch_rrsets = prs;
	z->dbase[0] = base->data;
	z->dbase[1] = pdata;
	z->bytes = total;
	uint32_t records = cur->n_records;
	size_t o = 0, m = 0;
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

int zb_finish_served(struct zone_builder *b, const struct zone *cur, int incremental,
		     struct zone **out)
{
	if (cur && incremental)
		return zb_finish_ixfr(b, cur, out);
	if (cur && b->against)
		return zb_finish_axfr(b, cur, out);
	return zb_finish(b, out);
}
