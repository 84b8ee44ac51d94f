/* Building a zone version. */
#include "zonebuilder.h"

#include <stdlib.h>
#include <string.h>

#include "nsec3.h"
#include "rrtype.h"
#include "wire.h"

#define NONE ((size_t)-1)

/* After the key: type u16, TTL u32, op u8, seq u32, RDLENGTH u16. */
#define REC_FIXED 13

/* The new version's nodes, RRsets and octets as they are laid out from
 * the sorted records, and where that walk has got to, so that it can go
 * on with the next records (an owner at a time as they come, zb_end). */
struct zb_layout {
	struct zone_node *nodes;
	size_t n_nodes, nodes_cap;
	struct zone_rrset *rrsets;
	size_t n_rrsets, rrsets_cap;
	uint8_t *data;
	size_t data_len, data_cap;
	uint32_t path[130]; /* node index at each depth of the current owner */
	uint8_t key[NAME_KEY_MAX]; /* the current owner (a copy: its records may be freed) */
	size_t klen;
	int have_key;
	size_t rs;          /* the RRset being filled (an index), or NONE */
	uint8_t prev_cov[2]; /* the type the last RRSIG covers */
	int have_prev;
};

static void layout_free(struct zb_layout *l)
{
	free(l->nodes);
	free(l->rrsets);
	free(l->data);
	memset(l, 0, sizeof(*l));
	l->rs = NONE;
}

/* Doubling, but never past limit (elements; 0: none) when need fits it:
 * a zone refused at its size limit must not have asked for twice that. */
static int grow_to(void **p, size_t *cap, size_t need, size_t elem, size_t limit)
{
	if (need <= *cap)
		return 0;
	size_t ncap = *cap ? *cap : 64;
	while (ncap < need) {
		if (ncap > ((size_t)-1) / 2 / elem)
			return -1;
		ncap *= 2;
	}
	if (limit && ncap > limit && need <= limit)
		ncap = limit;
	void *np = realloc(*p, ncap * elem);
	if (!np)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	return grow_to(p, cap, need, elem, 0);
}

void zb_init(struct zone_builder *b, const uint8_t *apex, size_t max_bytes)
{
	memset(b, 0, sizeof(*b));
	b->apex_len = name_len(apex);
	memcpy(b->apex, apex, b->apex_len);
	name_lower(b->apex);
	b->apex_labels = name_labels(apex);
	b->open = NONE;
	b->max_bytes = max_bytes;
	b->op = ZB_ADD;
}

void zb_free(struct zone_builder *b)
{
	free(b->seen);
	b->seen = NULL;
	b->against = NULL;
	b->compare = 0;
	for (size_t i = 0; i < b->n_chunks; i++)
		free(b->chunk[i]);
	free(b->chunk);
	free(b->chunk_left);
	free(b->idx);
	b->chunk = NULL;
	b->chunk_left = NULL;
	b->idx = NULL;
	b->n_chunks = b->chunks_cap = b->fill = b->last_cap = 0;
	b->len = b->n = b->idx_cap = 0;
	b->open = NONE;
	if (b->lay) {
		layout_free(b->lay);
		free(b->lay);
		b->lay = NULL;
	}
	b->stream = ZB_STREAM_UNDECIDED;
}

static inline uint8_t *rec_at(const struct zone_builder *b, size_t off)
{
	return b->chunk[off >> ZB_CHUNK_SHIFT] + (off & (ZB_CHUNK - 1));
}

/* Room for n more octets: a new chunk, taking the open record (if any)
 * along, since a record is never split; or, when the open record is alone
 * in the last chunk (a big one), that chunk grown, doubling, so that a
 * record arriving in many small pieces is not copied again for each. */
static int new_chunk(struct zone_builder *b, size_t n)
{
	size_t open_in = b->open != NONE ? (b->open & (ZB_CHUNK - 1)) : 0;
	size_t moving = b->open != NONE ? b->fill - open_in : 0;
	if (b->open != NONE && open_in == 0) {
		size_t cap = 2 * b->last_cap > moving + n ? 2 * b->last_cap : moving + n;
		uint8_t *c = realloc(b->chunk[b->n_chunks - 1], cap);
		if (!c)
			return -1;
		b->chunk[b->n_chunks - 1] = c;
		b->last_cap = cap;
		return 0;
	}
	size_t cap = moving + n > ZB_CHUNK ? moving + n : ZB_CHUNK;
	if (b->n_chunks >= ((size_t)1 << (32 - ZB_CHUNK_SHIFT)) - 1)
		return -1; /* offsets are 32 bits */
	if (b->n_chunks == b->chunks_cap) {
		size_t nc = b->chunks_cap ? 2 * b->chunks_cap : 8;
		uint8_t **c = realloc(b->chunk, nc * sizeof(*c));
		if (!c)
			return -1;
		b->chunk = c;
		uint32_t *l = realloc(b->chunk_left, nc * sizeof(*l));
		if (!l)
			return -1;
		b->chunk_left = l;
		b->chunks_cap = nc;
	}
	uint8_t *c = malloc(cap);
	if (!c)
		return -1;
	if (moving) /* the chunk it leaves ends where it began */
		memcpy(c, rec_at(b, b->open), moving);
	b->chunk[b->n_chunks] = c;
	b->chunk_left[b->n_chunks] = 0;
	if (b->open != NONE)
		b->open = b->n_chunks << ZB_CHUNK_SHIFT;
	b->n_chunks++;
	b->fill = moving;
	b->last_cap = cap;
	return 0;
}

static int put(struct zone_builder *b, const void *p, size_t n)
{
	if (b->max_bytes && b->len + n > b->max_bytes) {
		b->err = "zone larger than the configured limit";
		return -1;
	}
	if ((!b->n_chunks || b->fill + n > b->last_cap) && new_chunk(b, n) < 0) {
		b->err = "out of memory";
		return -1;
	}
	memcpy(b->chunk[b->n_chunks - 1] + b->fill, p, n);
	b->fill += n;
	b->len += n;
	return 0;
}

int zb_begin(struct zone_builder *b, const uint8_t *owner, uint16_t type, uint32_t ttl)
{
	if (b->stream == ZB_STREAM_FAILED)
		return -1; /* b->err says why */
	int rel = name_in_zone(owner, b->apex);
	if (rel < 0) {
		b->err = "record outside the zone";
		return -1;
	}
	uint8_t hdr[2 + NAME_KEY_MAX + REC_FIXED];
	size_t kl = name_key(owner, (unsigned)rel, hdr + 2);
	put16(hdr, (uint16_t)kl);
	put16(hdr + 2 + kl, type);
	put32(hdr + 4 + kl, ttl);
	hdr[8 + kl] = (uint8_t)b->op;
	put32(hdr + 9 + kl, b->seq);
	put16(hdr + 13 + kl, 0);
	/* A record starts inside the first ZB_CHUNK octets of its chunk (its
	 * offset says where): after a big record's own chunk, a new one. */
	if (b->n_chunks && b->fill >= ZB_CHUNK && new_chunk(b, 0) < 0) {
		b->err = "out of memory";
		return -1;
	}
	b->open = b->n_chunks ? ((b->n_chunks - 1) << ZB_CHUNK_SHIFT) | b->fill : 0;
	if (!b->n_chunks) {
		b->open = NONE;
		if (new_chunk(b, 0) < 0) {
			b->err = "out of memory";
			return -1;
		}
		b->open = 0;
	}
	if (put(b, hdr, kl + 2 + REC_FIXED) < 0) {
		zb_cancel(b);
		return -1;
	}
	return 0;
}

int zb_rdata(struct zone_builder *b, const void *p, size_t n)
{
	return put(b, p, n);
}

void zb_cancel(struct zone_builder *b)
{
	if (b->open != NONE) {
		/* The open record is always in the last chunk. */
		size_t open_in = b->open & (ZB_CHUNK - 1);
		b->len -= b->fill - open_in;
		b->fill = open_in;
	}
	b->open = NONE;
}

static const uint8_t *rec_rdata(const uint8_t *r, uint16_t *type, uint32_t *ttl, size_t *rdlen,
				size_t *klen)
{
	size_t kl = get16(r);
	*klen = kl;
	*type = get16(r + 2 + kl);
	*ttl = get32(r + 4 + kl);
	*rdlen = get16(r + 13 + kl);
	return r + 2 + REC_FIXED + kl;
}

static inline uint8_t rec_op(const uint8_t *r)
{
	return r[8 + get16(r)];
}

static inline uint32_t rec_seq(const uint8_t *r)
{
	return get32(r + 9 + get16(r));
}

/* The bit of a record of b->against in b->seen. */
static size_t seen_bit(const struct zone_builder *b, const struct zone_rrset *rs, const uint8_t *rd)
{
	const struct zone *z = b->against;
	size_t off = (rs->rdata & ZONE_PATCHED) ? b->seen_split + (size_t)(rd - z->dbase[1])
						 : (size_t)(rd - z->dbase[0]);
	return off / 2; /* a record takes two octets at least */
}

int zb_seen(const struct zone_builder *b, const struct zone_rrset *rs, const uint8_t *rd)
{
	size_t bit = seen_bit(b, rs, rd);
	return (b->seen[bit >> 3] >> (bit & 7)) & 1;
}

int zb_against(struct zone_builder *b, const struct zone *cur)
{
	const struct zone *base = cur->base ? cur->base : cur;
	size_t split = base->bytes - (size_t)(base->data - (const uint8_t *)base);
	size_t patch = cur->base ? cur->bytes - (size_t)(cur->dbase[1] - (const uint8_t *)cur) : 0;
	b->seen = calloc((split + patch) / 16 + 1, 1);
	if (!b->seen) {
		b->err = "out of memory";
		return -1;
	}
	b->against = cur;
	b->compare = 1;
	b->seen_split = split;
	b->n_seen = 0;
	return 0;
}

/* Does b->against hold this record, TTL included?  Then it is marked.
 * Big RRsets are not searched (their records are kept, and the old ones
 * deleted): a hostile primary cannot make this quadratic. */
static int served_as_is(struct zone_builder *b, const uint8_t *key, size_t klen, uint16_t type,
			uint32_t ttl, const uint8_t *rd, size_t rdlen)
{
	const struct zone *z = b->against;
	uint32_t node;
	if (!zone_find(z, key, klen, &node))
		return 0;
	const struct zone_node *n = &z->nodes[node];
	for (uint16_t i = 0; i < n->n_rrsets; i++) {
		const struct zone_rrset *rs = zone_rrset_at(z, n->rrsets + i);
		if (rs->type != type || rs->ttl != ttl || rs->count > 64)
			continue;
		const uint8_t *x = zone_rdata(z, rs);
		for (uint16_t k = 0; k < rs->count; k++, x = rdata_next(x)) {
			if (rdata_len(x) != rdlen || memcmp(x + 2, rd, rdlen) != 0)
				continue;
			size_t bit = seen_bit(b, rs, x);
			b->seen[bit >> 3] |= (uint8_t)(1u << (bit & 7));
			b->n_seen++;
			return 1;
		}
	}
	return 0;
}

static int stream_step(struct zone_builder *b);

int zb_end(struct zone_builder *b)
{
	if (b->stream == ZB_STREAM_FAILED)
		return -1;
	if (b->open == NONE) {
		b->err = "no record begun";
		return -1;
	}
	uint8_t *r = rec_at(b, b->open);
	size_t kl = get16(r);
	size_t rdlen = b->fill - (b->open & (ZB_CHUNK - 1)) - 2 - REC_FIXED - kl;
	if (rdlen > 65535) {
		b->err = "RDATA longer than 65535 octets";
		goto fail;
	}
	put16(r + 13 + kl, (uint16_t)rdlen);
	if (rrtype_check(rrtype_get(get16(r + 2 + kl)), r + 2 + REC_FIXED + kl, rdlen) < 0) {
		b->err = "RDATA does not match its type";
		goto fail;
	}
	if (b->compare && b->op == ZB_ADD && b->seq == 0 &&
	    served_as_is(b, r + 2, kl, get16(r + 2 + kl), get32(r + 4 + kl), r + 2 + REC_FIXED + kl,
			 rdlen)) {
		zb_cancel(b); /* kept by the served version */
		return 0;
	}
	if (grow((void **)&b->idx, &b->idx_cap, b->n + 1, sizeof(*b->idx)) < 0) {
		b->err = "out of memory";
		goto fail;
	}
	b->idx[b->n++] = (uint32_t)b->open;
	b->chunk_left[b->open >> ZB_CHUNK_SHIFT]++;
	b->open = NONE;
	return b->stream == ZB_STREAM_OFF ? 0 : stream_step(b);
fail:
	zb_cancel(b);
	return -1;
}

static void load_one(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl,
		     const uint8_t *rd, size_t len)
{
	struct zone_builder *b = ctx;
	if (b->err)
		return;
	if (zb_begin(b, owner, type, ttl) < 0 || zb_rdata(b, rd, len) < 0 || zb_end(b) < 0)
		b->err = b->err ? b->err : "out of memory";
}

int zb_load(struct zone_builder *b, const struct zone *z)
{
	b->op = ZB_OLD;
	b->seq = 0;
	b->err = NULL;
	zone_walk(z, load_one, b);
	b->op = ZB_ADD;
	return b->err ? -1 : 0;
}

/* qsort has no context argument: the builder being sorted is passed here. */
static const struct zone_builder *sort_b;

/* The owners of two records in canonical order (their keys). */
static int key_cmp(const uint8_t *a, const uint8_t *b)
{
	return zone_octets_cmp(a + 2, get16(a), b + 2, get16(b));
}

/* Same owner, type and RDATA (the TTL is no part of an RR's identity). */
static int rr_cmp(const uint8_t *a, const uint8_t *b)
{
	int c = key_cmp(a, b);
	if (c)
		return c;
	size_t al = get16(a), bl = get16(b);
	uint16_t at = get16(a + 2 + al), bt = get16(b + 2 + bl);
	if (at != bt)
		return at < bt ? -1 : 1;
	return zone_octets_cmp(a + 2 + REC_FIXED + al, get16(a + 13 + al), b + 2 + REC_FIXED + bl,
			       get16(b + 13 + bl));
}

static int rec_cmp(const void *pa, const void *pb)
{
	const uint8_t *a = rec_at(sort_b, *(const uint32_t *)pa);
	const uint8_t *b = rec_at(sort_b, *(const uint32_t *)pb);
	int c = rr_cmp(a, b);
	if (c)
		return c;
	/* Then in the order the changes happened: the old zone, then each
	 * difference's deletions before its additions (RFC 1995 4). */
	uint32_t as = rec_seq(a), bs = rec_seq(b);
	if (as != bs)
		return as < bs ? -1 : 1;
	return rec_op(a) < rec_op(b) ? -1 : rec_op(a) > rec_op(b);
}

/* Primaries send a zone in canonical order, or nearly (Knot, NSD and BIND
 * walk their trees; only the records of one owner may come in another
 * order): an insertion sort finishes those in about one comparison a
 * record.  Past a budget of moves the input is taken to be in no order and
 * qsort sorts it, from where the insertion got to: at most the budget is
 * lost. */
static void sort_range(struct zone_builder *b, size_t lo, size_t hi)
{
	sort_b = b;
	size_t budget = (hi - lo) / 8 + 1024;
	for (size_t i = lo + 1; i < hi; i++) {
		uint32_t x = b->idx[i];
		size_t j = i;
		while (j > lo && rec_cmp(&b->idx[j - 1], &x) > 0) {
			b->idx[j] = b->idx[j - 1];
			j--;
			if (!budget--) {
				b->idx[j] = x;
				qsort(b->idx + lo, hi - lo, sizeof(*b->idx), rec_cmp);
				return;
			}
		}
		b->idx[j] = x;
	}
}

static int unstream(struct zone_builder *b);

int zb_sort(struct zone_builder *b)
{
	if (b->stream == ZB_STREAM_FAILED || (b->stream == ZB_STREAM_ON && unstream(b) < 0))
		return -1;
	sort_range(b, 0, b->n);
	return 0;
}

void zb_record(const struct zone_builder *b, size_t i, struct zb_rec *out)
{
	const uint8_t *r = rec_at(b, b->idx[i]);
	out->rd = rec_rdata(r, &out->type, &out->ttl, &out->rdlen, &out->klen);
	out->key = r + 2;
	out->op = rec_op(r);
	out->seq = rec_seq(r);
}

static int data_put(struct zb_layout *l, const void *p, size_t n)
{
	if (grow((void **)&l->data, &l->data_cap, l->data_len + n, 1) < 0)
		return -1;
	memcpy(l->data + l->data_len, p, n);
	l->data_len += n;
	return 0;
}

/* Append a node for the first `labels` labels of key. */
static int add_node(struct zb_layout *l, const uint8_t *key, size_t klen, unsigned labels,
		    uint32_t parent)
{
	if (l->n_nodes >= UINT32_MAX - 1 ||
	    grow((void **)&l->nodes, &l->nodes_cap, l->n_nodes + 1, sizeof(*l->nodes)) < 0)
		return -1;
	struct zone_node *n = &l->nodes[l->n_nodes];
	memset(n, 0, sizeof(*n));
	n->key = (uint32_t)l->data_len;
	n->parent = parent;
	n->rrsets = (uint32_t)l->n_rrsets;
	n->labels = (uint8_t)labels;
	uint8_t kl[2];
	put16(kl, (uint16_t)klen);
	if (data_put(l, kl, 2) < 0 || data_put(l, key, klen) < 0)
		return -1;
	l->n_nodes++;
	return 0;
}

/* Records [i, j) of the sorted index are laid out: a chunk none of whose
 * records is left is freed (nothing points into it any more). */
static void consumed(struct zone_builder *b, size_t i, size_t j)
{
	for (; i < j; i++) {
		size_t c = b->idx[i] >> ZB_CHUNK_SHIFT;
		if (--b->chunk_left[c] == 0 && c + 1 < b->n_chunks) {
			free(b->chunk[c]);
			b->chunk[c] = NULL;
		}
	}
}

/* Records [from, to) of the sorted index are laid out after those before
 * them (the walk's state is in l): an RRset for each owner and type, a node
 * for each owner and each empty non-terminal above it. */
static int lay_out(struct zone_builder *b, struct zb_layout *l, size_t from, size_t to)
{
	for (size_t i = from, j; i < to; consumed(b, i, j), i = j) {
		const uint8_t *r = rec_at(b, b->idx[i]);
		uint16_t type;
		uint32_t ttl;
		size_t rdlen, klen;
		const uint8_t *rd = rec_rdata(r, &type, &ttl, &rdlen, &klen);
		const uint8_t *key = r + 2;

		/* All copies of one RR, in the order they came: replay them.
		 * The old zone holds it, a difference deletes or adds it;
		 * an AXFR just adds it, perhaps twice (RFC 2181 5). */
		int present = 0;
		for (j = i; j < to && (j == i || rr_cmp(r, rec_at(b, b->idx[j])) == 0); j++) {
			const uint8_t *x = rec_at(b, b->idx[j]);
			uint32_t xttl = get32(x + 4 + get16(x));
			switch (rec_op(x)) {
			case ZB_OLD:
				if (b->ignore_old)
					break;
				present = 1;
				ttl = xttl;
				break;
			case ZB_DEL:
				if (!present) {
					b->err = "IXFR deletes a record that is not in the zone";
					return -1;
				}
				present = 0;
				break;
			default:
				ttl = present && rec_seq(x) == 0 && ttl < xttl ? ttl : xttl;
				present = 1;
				break;
			}
		}
		if (!present)
			continue;

		if (!l->have_key || klen != l->klen || memcmp(key, l->key, klen) != 0) {
			/* A new owner: add the ancestors missing between the
			 * previous owner and this one (empty non-terminals),
			 * then the owner itself. */
			unsigned labels = 0, common = 0;
			for (size_t k = 0; k < klen; k++)
				if (key[k] == 0)
					labels++;
			if (labels > 127)
				return -1;
			if (l->have_key)
				for (size_t k = 0; k < klen && k < l->klen && key[k] == l->key[k]; k++)
					if (key[k] == 0)
						common++;
			if (!l->have_key) {
				if (klen != 0) { /* no apex record: an empty apex */
					if (add_node(l, key, 0, 0, 0) < 0)
						return -1;
					l->path[0] = 0;
				}
			}
			size_t pos = 0;
			unsigned depth = 0;
			for (; pos < klen && depth < (l->have_key ? common : 0); pos++)
				if (key[pos] == 0)
					depth++;
			for (; depth + 1 < labels; ) {
				while (key[pos] != 0)
					pos++;
				pos++;
				depth++;
				if (add_node(l, key, pos, depth, l->path[depth - 1]) < 0)
					return -1;
				l->path[depth] = (uint32_t)l->n_nodes - 1;
			}
			if (add_node(l, key, klen, labels, labels ? l->path[labels - 1] : 0) < 0)
				return -1;
			l->path[labels] = (uint32_t)l->n_nodes - 1;
			memcpy(l->key, key, klen);
			l->have_key = 1;
			l->klen = klen;
			l->rs = NONE;
		}
		struct zone_node *n = &l->nodes[l->n_nodes - 1];
		/* RRSIGs form one set per covered type (RFC 4034 3: each has
		 * the TTL of the RRset it covers). */
		int new_set = l->rs == NONE || l->rrsets[l->rs].type != type;
		if (!new_set && type == T_RRSIG && l->have_prev && rdlen >= 2 &&
		    memcmp(l->prev_cov, rd, 2) != 0)
			new_set = 1;
		if (new_set) {
			if (n->n_rrsets == UINT16_MAX) {
				b->err = "more than 65535 RRsets at one name";
				return -1;
			}
			if (grow((void **)&l->rrsets, &l->rrsets_cap, l->n_rrsets + 1,
				 sizeof(*l->rrsets)) < 0)
				return -1;
			l->rs = l->n_rrsets++;
			struct zone_rrset *nrs = &l->rrsets[l->rs];
			nrs->type = type;
			nrs->count = 0;
			nrs->ttl = ttl;
			nrs->rdata = (uint32_t)l->data_len;
			n->n_rrsets++;
			l->have_prev = 0;
		}
		struct zone_rrset *rs = &l->rrsets[l->rs];
		if (rs->count == UINT16_MAX) {
			b->err = "more than 65535 records in one RRset";
			return -1;
		}
		/* RFC 2181 5.2: one TTL per RRset; take the smallest offered. */
		if (ttl < rs->ttl)
			rs->ttl = ttl;
		uint8_t lb[2];
		put16(lb, (uint16_t)rdlen);
		if (data_put(l, lb, 2) < 0 || data_put(l, rd, rdlen) < 0)
			return -1;
		rs->count++;
		/* The type an RRSIG covers (its first two octets). */
		l->have_prev = rdlen >= 2;
		if (l->have_prev)
			memcpy(l->prev_cov, rd, 2);
	}
	return 0;
}

/* A zone laid over the layout, for zone.c's readers. */
static void layout_view(const struct zb_layout *l, const struct zone_builder *b, struct zone *view)
{
	memset(view, 0, sizeof(*view));
	memcpy(view->apex, b->apex, b->apex_len);
	view->apex_len = (uint8_t)b->apex_len;
	view->apex_labels = (uint8_t)b->apex_labels;
	view->nodes = l->nodes;
	view->n_nodes = (uint32_t)l->n_nodes;
	view->rrsets = l->rrsets;
	view->n_rrsets = view->rrset_slots = (uint32_t)l->n_rrsets;
	view->dbase[0] = view->dbase[1] = l->data;
}

/* Laying out as the records come failed: so does every later call. */
static int stream_failed(struct zone_builder *b, const char *why)
{
	if (b->lay) {
		layout_free(b->lay);
		free(b->lay);
		b->lay = NULL;
	}
	b->stream = ZB_STREAM_FAILED;
	b->err = why;
	return -1;
}

/* The record just kept (zb_end), for a zone laid out as it comes: a new
 * owner after the one being gathered, in canonical order, lays that one's
 * records out (sorted among themselves: their order is the primary's);
 * an owner before it means the zone is not in that order after all. */
static int stream_step(struct zone_builder *b)
{
	size_t k = b->n - 1;
	if (b->stream == ZB_STREAM_UNDECIDED) {
		/* Only a whole zone from nothing: the old records of an IXFR
		 * and a comparison with the served version (zonepatch.h) need
		 * all the records at once. */
		b->stream = ZB_STREAM_OFF;
		if (ICB_ZB_STREAM && k == 0 && b->op == ZB_ADD && b->seq == 0 && !b->compare &&
		    !b->against && (b->lay = calloc(1, sizeof(*b->lay))) != NULL) {
			b->lay->rs = NONE;
			b->stream = ZB_STREAM_ON;
		}
		return 0;
	}
	if (b->op != ZB_ADD || b->seq != 0 || b->compare) {
		if (b->lay->n_nodes == 0)
			return unstream(b); /* nothing laid out yet */
		return stream_failed(b, "differences after records of a whole zone");
	}
	/* idx holds the owner being gathered only (idx[0] on), and now the
	 * record just kept. */
	int c = key_cmp(rec_at(b, b->idx[k]), rec_at(b, b->idx[0]));
	if (c == 0)
		return 0;
	if (c < 0)
		return unstream(b);
	sort_range(b, 0, k);
	const char *err = b->err;
	b->err = "out of memory";
	/* Records were consumed and chunks freed: no going back. */
	if (lay_out(b, b->lay, 0, k) < 0)
		return stream_failed(b, b->err);
	b->err = err;
	b->idx[0] = b->idx[k]; /* the laid-out ones need no index */
	b->n = 1;
	return 0;
}

/* Records came out of canonical order: those laid out go back among the
 * records, as the layout holds them (duplicates gone, each with its
 * RRset's TTL: what laying them out again makes of them), and all are
 * sorted and laid out at the end. */
static int unstream(struct zone_builder *b)
{
	struct zb_layout *l = b->lay;
	b->stream = ZB_STREAM_OFF;
	b->lay = NULL;
	if (!l)
		return 0;
	/* Counted against max_bytes once, when they came. */
	size_t len = b->len, max = b->max_bytes;
	uint8_t op = b->op;
	uint32_t seq = b->seq;
	b->max_bytes = 0;
	b->op = ZB_ADD;
	b->seq = 0;
	b->err = NULL;
	struct zone view;
	layout_view(l, b, &view);
	zone_walk(&view, load_one, b); /* as zb_load() does a served version */
	int rc = b->err ? -1 : 0;
	b->len = len;
	b->max_bytes = max;
	b->op = op;
	b->seq = seq;
	layout_free(l);
	free(l);
	return rc;
}

/* The flags, read through a zone laid over the layout (zone.c). */
static void set_flags(const struct zone_builder *b, struct zb_layout *l)
{
	struct zone view;
	layout_view(l, b, &view);
	zone_set_flags(&view, l->nodes);
}

/* ---- DNSSEC: what queries will need, worked out once ----------------- */

struct proofs {
	uint8_t mode;
	struct nsec3_params n3;
	uint32_t *nsec3;    /* node indices of the chain */
	size_t n_nsec3;
	uint32_t *aux;
	size_t n_aux;
};

static const struct zone_rrset *l_rrset(const struct zb_layout *l, size_t node, uint16_t type)
{
	const struct zone_node *n = &l->nodes[node];
	for (uint16_t r = 0; r < n->n_rrsets; r++)
		if (l->rrsets[n->rrsets + r].type == type)
			return &l->rrsets[n->rrsets + r];
	return NULL;
}

/* The chain entry whose label is the largest not above want: the one that
 * covers (or matches) a hash; wrapping to the last (RFC 5155 7.2.1). */
static uint32_t n3_cover(const struct zb_layout *l, const struct proofs *p, const char *want, int *match)
{
	size_t lo = 0, hi = p->n_nsec3;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const uint8_t *k = l->data + l->nodes[p->nsec3[mid]].key + 2;
		if (memcmp(k, want, 32) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	uint32_t i = lo ? (uint32_t)lo - 1 : (uint32_t)p->n_nsec3 - 1;
	*match = memcmp(l->data + l->nodes[p->nsec3[i]].key + 2, want, 32) == 0;
	return i;
}

static int prepare_proofs(struct zone_builder *b, struct zb_layout *l, struct proofs *p)
{
	memset(p, 0, sizeof(*p));
	const struct zone_rrset *param = l_rrset(l, 0, T_NSEC3PARAM);
	if (param) {
		const uint8_t *rd = l->data + param->rdata;
		if (nsec3_params_parse(rd + 2, rdata_len(rd), &p->n3) < 0 || p->n3.alg != 1 ||
		    p->n3.iterations > NSEC3_MAX_ITERATIONS)
			param = NULL; /* a chain we cannot use: served as data only */
	}
	if (param) {
		/* The chain: children of the apex with a 32-digit label and an
		 * NSEC3 of the same parameters, in canonical (= hash) order. */
		p->nsec3 = malloc(l->n_nodes * sizeof(uint32_t));
		if (!p->nsec3)
			return -1;
		for (size_t i = 1; i < l->n_nodes; i++) {
			struct zone_node *n = &l->nodes[i];
			const struct zone_rrset *rs = l_rrset(l, i, T_NSEC3);
			struct nsec3_params np;
			const uint8_t *rd = rs ? l->data + rs->rdata : NULL;
			if (n->labels != 1 || !rs || get16(l->data + n->key) != 33 ||
			    nsec3_params_parse(rd + 2, rdata_len(rd), &np) < 0 || np.alg != p->n3.alg ||
			    np.iterations != p->n3.iterations || np.salt_len != p->n3.salt_len ||
			    memcmp(np.salt, p->n3.salt, np.salt_len) != 0)
				continue;
			n->flags |= NODE_NSEC3;
			p->nsec3[p->n_nsec3++] = (uint32_t)i;
		}
		if (p->n_nsec3 == 0)
			return 0;
		p->mode = ZONE_NSEC3;
		p->n_aux = 2 * l->n_nodes;
		p->aux = malloc(p->n_aux * sizeof(uint32_t));
		if (!p->aux)
			return -1;
		uint8_t name[NAME_MAXLEN + 2], hash[SHA1_LEN];
		char label[32];
		for (size_t i = 0; i < l->n_nodes; i++) {
			struct zone_node *n = &l->nodes[i];
			p->aux[2 * i] = p->aux[2 * i + 1] = ZONE_NONE;
			/* The chain's own names and what is under a cut are not
			 * in the chain (RFC 5155 7.1). */
			if ((n->flags & (NODE_NSEC3 | NODE_UNDER)) ||
			    name_from_key(l->data + n->key + 2, get16(l->data + n->key), b->apex,
					  name + 2) < 0)
				continue;
			int match;
			if (nsec3_hash(&p->n3, name + 2, hash) == 0) {
				nsec3_b32(hash, label);
				uint32_t c = n3_cover(l, p, label, &match);
				if (match)
					p->aux[2 * i] = c;
			}
			/* "*.name", for the wildcard part of the proofs. */
			if (name_len(name + 2) + 2 <= NAME_MAXLEN) {
				name[0] = 1;
				name[1] = '*';
				if (nsec3_hash(&p->n3, name, hash) == 0) {
					nsec3_b32(hash, label);
					p->aux[2 * i + 1] = n3_cover(l, p, label, &match);
				}
			}
		}
		return 0;
	}
	/* NSEC: the owner at or before each node, for covering NSECs. */
	int any = 0;
	for (size_t i = 0; i < l->n_nodes && !any; i++)
		any = l_rrset(l, i, T_NSEC) != NULL;
	if (!any)
		return 0;
	p->mode = ZONE_NSEC;
	p->n_aux = l->n_nodes;
	p->aux = malloc(p->n_aux * sizeof(uint32_t));
	if (!p->aux)
		return -1;
	uint32_t last = ZONE_NONE;
	for (size_t i = 0; i < l->n_nodes; i++) {
		if (l_rrset(l, i, T_NSEC))
			last = (uint32_t)i;
		p->aux[i] = last;
	}
	return 0;
}

int zb_finish(struct zone_builder *b, struct zone **out)
{
	struct zb_layout l;
	struct proofs pr;
	memset(&l, 0, sizeof(l));
	memset(&pr, 0, sizeof(pr));
	int rc = -1;
	*out = NULL;
	if (b->stream == ZB_STREAM_FAILED) {
		const char *why = b->err;
		zb_free(b);
		b->err = why;
		return -1;
	}
	b->err = "out of memory";

	/* Laid out as it came but for the last owner's records, or all of
	 * them now. */
	if (b->stream == ZB_STREAM_ON) {
		l = *b->lay;
		free(b->lay);
		b->lay = NULL;
	} else {
		l.rs = NONE;
	}
	sort_range(b, 0, b->n);
	if (lay_out(b, &l, 0, b->n) < 0)
		goto done;
	set_flags(b, &l);
	/* The records are all in the layout now: give their memory back
	 * before the final block is made, to lower the peak of a transfer. */
	zb_free(b);

	/* The apex sorts first and must hold exactly one SOA. */
	const struct zone_rrset *soa = NULL;
	if (l.n_nodes && l.nodes[0].labels == 0)
		for (uint16_t r = 0; r < l.nodes[0].n_rrsets; r++)
			if (l.rrsets[l.nodes[0].rrsets + r].type == T_SOA)
				soa = &l.rrsets[l.nodes[0].rrsets + r];
	if (!soa || soa->count != 1) {
		b->err = soa ? "more than one SOA at the apex" : "no SOA at the apex";
		goto done;
	}

	if (prepare_proofs(b, &l, &pr) < 0)
		goto done;

	/* One block: the zone header, nodes, RRsets, the DNSSEC indexes,
	 * then the octets. */
	size_t hdr = (sizeof(struct zone) + 7) & ~(size_t)7;
	size_t nsz = l.n_nodes * sizeof(struct zone_node);
	size_t rsz = l.n_rrsets * sizeof(struct zone_rrset);
	size_t n3sz = pr.mode == ZONE_NSEC3 ? pr.n_nsec3 * 4 : 0, asz = pr.n_aux * 4;
	uint32_t hslots = zone_hash_slots((uint32_t)l.n_nodes);
	size_t hsz = (size_t)hslots * 4;
	size_t front = hdr + nsz + rsz + n3sz + asz + hsz;
	size_t total = front + l.data_len;
	if (l.data_len > ~ZONE_PATCHED) {
		b->err = "zone larger than 2 GiB of names and RDATA";
		goto done;
	}
	/* The block grows out of the layout's octets, which move up behind
	 * the arrays: a big block grows in place or by remapping its pages,
	 * so the octets are never held twice (a transfer's peak is lower by
	 * their size). */
	uint8_t *blk = realloc(l.data, total);
	if (!blk)
		goto done;
	l.data = NULL;
	memmove(blk + front, blk, l.data_len);
	struct zone *z = (struct zone *)(void *)blk;
	memset(z, 0, sizeof(*z));
	memcpy(z->apex, b->apex, b->apex_len);
	z->apex_len = (uint8_t)b->apex_len;
	z->apex_labels = (uint8_t)b->apex_labels;
	struct zone_node *nodes = (struct zone_node *)(void *)(blk + hdr);
	struct zone_rrset *rrsets = (struct zone_rrset *)(void *)(blk + hdr + nsz);
	uint32_t *n3 = (uint32_t *)(void *)(blk + hdr + nsz + rsz);
	uint32_t *aux = (uint32_t *)(void *)(blk + hdr + nsz + rsz + n3sz);
	uint32_t *hash = (uint32_t *)(void *)(blk + hdr + nsz + rsz + n3sz + asz);
	uint8_t *data = blk + front;
	if (nsz)
		memcpy(nodes, l.nodes, nsz);
	if (rsz)
		memcpy(rrsets, l.rrsets, rsz);
	if (n3sz)
		memcpy(n3, pr.nsec3, n3sz);
	if (asz)
		memcpy(aux, pr.aux, asz);
	z->dnssec = pr.mode;
	z->n3 = pr.n3;
	z->n_nsec3 = n3sz ? (uint32_t)pr.n_nsec3 : 0;
	z->nsec3 = n3;
	z->aux = aux;
	z->nodes = nodes;
	z->rrsets = rrsets;
	z->data = data;
	z->dbase[0] = z->dbase[1] = data;
	z->refs = 1;
	z->node_refs = 1;
	z->n_nodes = (uint32_t)l.n_nodes;
	z->hash_size = hslots;
	z->hash = hash;
	zone_hash_fill(z, hash);
	z->n_rrsets = z->rrset_slots = (uint32_t)l.n_rrsets;
	z->bytes = total;
	for (size_t i = 0; i < l.n_rrsets; i++)
		z->n_records += rrsets[i].count;

	zone_set_soa(z);
	*out = z;
	rc = 0;
	b->err = NULL;
done:
	free(pr.nsec3);
	free(pr.aux);
	free(l.nodes);
	free(l.rrsets);
	free(l.data);
	zb_free(b);
	return rc;
}
