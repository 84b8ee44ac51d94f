/* The answer engine. */
#include "answer.h"

#include <string.h>

#include "catalog.h"
#include "rrtype.h"

enum { E_TTL = 1, E_REQUIRED = 2 };
enum { RC_NOERROR = 0, RC_NXDOMAIN = 3, RC_YXDOMAIN = 6 };

#define NO_NODE 0xFFFFFFFFu

static int present(const struct answer *a, const uint8_t *owner, uint16_t type)
{
	for (unsigned i = 0; i < a->n; i++) {
		const struct rr_entry *e = &a->e[i];
		uint16_t t = e->rs ? e->rs->type : T_CNAME;
		if (t == type && name_equal(e->owner, owner))
			return 1;
	}
	return 0;
}

static void add(struct answer *a, uint8_t section, const uint8_t *owner,
		const struct zone_rrset *rs, uint8_t flags)
{
	if (a->n == ICB_ANSWER_MAX_RRSETS || !rs)
		return;
	struct rr_entry *e = &a->e[a->n++];
	e->z = a->z;
	e->owner = owner;
	e->rs = rs;
	e->synth = NULL;
	e->ttl = rs->ttl;
	e->section = section;
	e->flags = flags;
}

static void add_soa(struct answer *a)
{
	const struct zone *z = a->z;
	add(a, SEC_AUTHORITY, z->apex, zone_rrset(z, 0, T_SOA), E_REQUIRED | E_TTL);
	/* RFC 2308 section 3: the negative TTL is min(SOA TTL, MINIMUM). */
	if (a->n && a->e[a->n - 1].section == SEC_AUTHORITY)
		a->e[a->n - 1].ttl = z->neg_ttl;
}

/* The first name in an RDATA (NS, MX, SRV targets), via the type table. */
static const uint8_t *first_name(const struct rrtype *d, const uint8_t *rd)
{
	size_t pos = 0;
	for (unsigned i = 0; i < sizeof(d->fields); i++) {
		uint8_t f = d->fields[i];
		if (f & 0x80)
			pos += f & 0x7F;
		else if (f == RD_NAME_C || f == RD_NAME_D || f == RD_NAME_U)
			return rd + pos;
		else
			return NULL;
	}
	return NULL;
}

/* A node of the zone by name, exact match only. */
static uint32_t lookup(const struct zone *z, const uint8_t *name)
{
	int rel = name_in_zone(name, z->apex);
	if (rel < 0)
		return NO_NODE;
	uint8_t key[NAME_KEY_MAX];
	size_t klen = name_key(name, (unsigned)rel, key);
	uint32_t idx;
	return zone_find(z, key, klen, &idx) ? idx : NO_NODE;
}

/* A and AAAA of a target name (RFC 1034 3.6.2 additional processing). */
static void add_addresses(struct answer *a, const uint8_t *target, int glue_ok, uint8_t flags)
{
	uint32_t n = lookup(a->z, target);
	if (n == NO_NODE)
		return;
	if (!glue_ok && (a->z->nodes[n].flags & (NODE_UNDER | NODE_DELEG)))
		return; /* not authoritative data: glue only goes with referrals */
	static const uint16_t types[2] = { T_A, T_AAAA };
	for (int i = 0; i < 2; i++) {
		const struct zone_rrset *rs = zone_rrset(a->z, n, types[i]);
		if (rs && !present(a, target, types[i]))
			add(a, SEC_ADDITIONAL, target, rs, flags);
	}
}

static void additional(struct answer *a, const struct zone_rrset *rs)
{
	const struct rrtype *d = rrtype_get(rs->type);
	if (!(d->flags & RRT_ADDITIONAL))
		return;
	const uint8_t *rd = zone_rdata(a->z, rs);
	for (uint16_t i = 0; i < rs->count; i++, rd = rdata_next(rd)) {
		const uint8_t *t = first_name(d, rd + 2);
		if (t)
			add_addresses(a, t, 0, 0);
	}
}

static void referral(struct answer *a, uint32_t cut, const uint8_t *cut_name, unsigned step)
{
	const struct zone *z = a->z;
	const struct zone_rrset *ns = zone_rrset(z, cut, T_NS);
	if (step == 0)
		a->aa = 0; /* RFC 1034 4.3.2 step 3b: not authoritative */
	add(a, SEC_AUTHORITY, cut_name, ns, E_REQUIRED);
	/* Glue: addresses of the name servers that are inside this zone; the
	 * ones below the cut are required (RFC 9471). */
	const uint8_t *rd = zone_rdata(z, ns);
	for (uint16_t i = 0; i < ns->count; i++, rd = rdata_next(rd)) {
		const uint8_t *t = rd + 2;
		add_addresses(a, t, 1, name_in_zone(t, cut_name) >= 0 ? E_REQUIRED : 0);
	}
}

/* Answer from a node that matched (exactly, or as the source of a
 * wildcard); owner is the name asked.  Returns the CNAME target to follow,
 * or NULL when the answer is complete. */
static const uint8_t *from_node(struct answer *a, uint32_t node, const uint8_t *owner,
				uint16_t qtype, int all_any)
{
	const struct zone *z = a->z;
	const struct zone_node *n = &z->nodes[node];
	if (qtype == T_ANY && n->n_rrsets) {
		/* RFC 8482: over UDP one RRset is enough; over TCP all. */
		for (uint16_t i = 0; i < n->n_rrsets; i++) {
			add(a, SEC_ANSWER, owner, &z->rrsets[n->rrsets + i], 0);
			if (!all_any)
				break;
		}
		return NULL;
	}
	/* Usually one RRset; RRSIGs are one per covered type. */
	int found = 0;
	for (uint16_t i = 0; i < n->n_rrsets; i++) {
		const struct zone_rrset *rs = &z->rrsets[n->rrsets + i];
		if (rs->type == qtype) {
			add(a, SEC_ANSWER, owner, rs, 0);
			additional(a, rs);
			found = 1;
		}
	}
	if (found)
		return NULL;
	const struct zone_rrset *cn = zone_rrset(z, node, T_CNAME);
	if (cn && qtype != T_ANY) {
		add(a, SEC_ANSWER, owner, cn, 0);
		return zone_rdata(z, cn) + 2;
	}
	add_soa(a); /* NODATA: RFC 2308 section 2.2 */
	return NULL;
}

void answer_zone(struct answer *a, const struct catalog *cat, const struct zone *z,
		 const uint8_t *qname, uint16_t qtype, int all_any)
{
	const uint8_t *cur = qname;
	a->n = 0;
	a->n_synth = 0;
	a->rcode = RC_NOERROR;
	a->aa = 1;

	for (unsigned step = 0; step <= ICB_CHAIN_MAX; step++) {
		int rel = name_in_zone(cur, z->apex);
		if (rel < 0) {
			/* The chain left the zone: on in another zone we serve,
			 * else the resolver goes on from here. */
			const struct cat_zone *cz = cat ? catalog_find(cat, cur) : NULL;
			if (!cz || !(z = cat_zone_serving(cz)))
				return;
			rel = name_in_zone(cur, z->apex);
		}
		a->z = z;
		uint8_t key[NAME_KEY_MAX + 2];
		size_t klen = name_key(cur, (unsigned)rel, key);
		uint32_t idx;
		int exact = zone_find(z, key, klen, &idx);
		uint32_t node = exact ? idx : zone_encloser(z, key, klen, idx);

		/* A zone cut or a DNAME above the name (or a cut at it) decides
		 * first; the one nearest the apex wins (RFC 1034 4.3.2 3b). */
		if (z->nodes[node].flags & (NODE_UNDER | NODE_DELEG | NODE_DNAME)) {
			uint32_t cut = NO_NODE;
			for (uint32_t x = node; z->nodes[x].labels > 0; x = z->nodes[x].parent) {
				uint8_t f = z->nodes[x].flags;
				int self = exact && x == node;
				/* DS lives on the parent side of the cut (RFC 4035 3.1.4.1). */
				if ((f & NODE_DELEG) && !(self && qtype == T_DS))
					cut = x;
				else if ((f & NODE_DNAME) && !self)
					cut = x;
			}
			if (cut != NO_NODE) {
				const uint8_t *cut_name = name_skip(cur, (unsigned)rel - z->nodes[cut].labels);
				if (z->nodes[cut].flags & NODE_DELEG) {
					referral(a, cut, cut_name, step);
					return;
				}
				/* DNAME: answer it and synthesise the CNAME (RFC 6672 3.3).
				 * A DNAME into its own subtree repeats: once is enough
				 * in the answer, and the synthesis stops at our limit. */
				const struct zone_rrset *dn = zone_rrset(z, cut, T_DNAME);
				if (a->n_synth == ICB_SYNTH_MAX || a->n + 2 > ICB_ANSWER_MAX_RRSETS)
					return;
				if (!present(a, cut_name, T_DNAME))
					add(a, SEC_ANSWER, cut_name, dn, 0);
				const uint8_t *target = zone_rdata(z, dn) + 2;
				size_t prefix = (size_t)(cut_name - cur), tlen = name_len(target);
				if (prefix + tlen > NAME_MAXLEN) {
					a->rcode = RC_YXDOMAIN;
					return;
				}
				uint8_t *s = a->synth[a->n_synth++];
				memcpy(s, cur, prefix);
				memcpy(s + prefix, target, tlen);
				struct rr_entry *e = &a->e[a->n++];
				e->z = z;
				e->owner = cur;
				e->rs = NULL;
				e->synth = s;
				e->ttl = dn->ttl;
				e->section = SEC_ANSWER;
				e->flags = E_TTL;
				if (qtype == T_CNAME)
					return; /* the synthesised CNAME is the answer */
				cur = s;
				continue;
			}
		}

		const uint8_t *next;
		if (exact) {
			next = from_node(a, node, cur, qtype, all_any);
		} else if (z->nodes[node].flags & NODE_WILDCHILD) {
			/* RFC 4592: the source of synthesis is "*" below the
			 * closest encloser. */
			size_t cl;
			const uint8_t *ck = zone_key(z, node, &cl);
			memcpy(key, ck, cl);
			key[cl] = '*';
			key[cl + 1] = 0;
			uint32_t w;
			if (!zone_find(z, key, cl + 2, &w))
				return;
			next = from_node(a, w, cur, qtype, all_any);
		} else {
			a->rcode = RC_NXDOMAIN;
			add_soa(a);
			return;
		}
		if (!next)
			return;
		/* Follow the CNAME, unless it leads back into the chain. */
		if (present(a, next, T_CNAME) || present(a, next, T_DNAME))
			return;
		cur = next;
	}
}

/* ---- writing ------------------------------------------------------- */

static void write_rdata(struct builder *b, const struct rrtype *d, const uint8_t *rd, size_t len)
{
	size_t pos = 0;
	for (unsigned i = 0; i < sizeof(d->fields) && d->fields[i] != RD_END && pos < len; i++) {
		uint8_t f = d->fields[i];
		if (f == RD_NAME_C) {
			bld_name(b, rd + pos, 1);
			pos += name_len(rd + pos);
		} else if (f & 0x80) {
			bld_bytes(b, rd + pos, f & 0x7F);
			pos += f & 0x7F;
		} else if (f == RD_NAME_D || f == RD_NAME_U) {
			size_t n = name_len(rd + pos);
			bld_bytes(b, rd + pos, n);
			pos += n;
		} else if (f == RD_STR) {
			bld_bytes(b, rd + pos, 1 + (size_t)rd[pos]);
			pos += 1 + (size_t)rd[pos];
		} else {
			bld_bytes(b, rd + pos, len - pos);
			pos = len;
		}
	}
}

static void write_rr(struct builder *b, const uint8_t *owner, uint16_t type, uint32_t ttl,
		     const uint8_t *rd, size_t len)
{
	bld_name(b, owner, 1);
	bld_u16(b, type);
	bld_u16(b, C_IN);
	bld_u32(b, ttl);
	size_t at = b->len;
	bld_u16(b, 0);
	write_rdata(b, rrtype_get(type), rd, len);
	if (!b->err)
		put16(b->buf + at, (uint16_t)(b->len - at - 2));
}

int answer_write(const struct answer *a, struct builder *b, uint16_t counts[3])
{
	counts[0] = counts[1] = counts[2] = 0;
	for (uint8_t sec = SEC_ANSWER; sec <= SEC_ADDITIONAL; sec++) {
		for (unsigned i = 0; i < a->n; i++) {
			const struct rr_entry *e = &a->e[i];
			if (e->section != sec)
				continue;
			struct builder_mark m = bld_mark(b);
			uint16_t n = 0;
			if (!e->rs) {
				write_rr(b, e->owner, T_CNAME, e->ttl, e->synth, name_len(e->synth));
				n = 1;
			} else {
				uint32_t ttl = (e->flags & E_TTL) ? e->ttl : e->rs->ttl;
				const uint8_t *rd = zone_rdata(e->z, e->rs);
				for (uint16_t k = 0; k < e->rs->count; k++, rd = rdata_next(rd))
					write_rr(b, e->owner, e->rs->type, ttl, rd + 2, rdata_len(rd));
				n = e->rs->count;
			}
			if (b->err) {
				bld_rollback(b, m);
				/* RFC 2181 9: missing answers or authority, or
				 * required glue (RFC 9471), mean TC; other
				 * additional data is simply left out. */
				if (sec != SEC_ADDITIONAL || (e->flags & E_REQUIRED))
					return 1;
				continue;
			}
			counts[sec] = (uint16_t)(counts[sec] + n);
		}
	}
	return 0;
}
