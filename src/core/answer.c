/* The answer engine. */
#include "answer.h"

#include <string.h>

#include "catalog.h"
#include "nsec3.h"
#include "rrtype.h"

/* E_SIGS: the RRSIGs of the entry just before (add()). */
enum { E_TTL = 1, E_REQUIRED = 2, E_SIGS = 4 };
enum { RC_NOERROR = 0, RC_NXDOMAIN = 3, RC_YXDOMAIN = 6 };

#define NO_NODE 0xFFFFFFFFu

/* Is an RRset of this type at this name already in the answer? */
static int present(const struct answer *a, const uint8_t *owner, uint16_t type)
{
	for (unsigned i = 0; i < a->n; i++) {
		const struct rr_entry *e = &a->e[i];
		uint16_t t = e->rs ? e->rs->type : T_CNAME;
		if (t == type && e->owner && name_equal(e->owner, owner))
			return 1;
	}
	return 0;
}

/* The same for an RRset known by its place in the zone. */
static int present_rrset(const struct answer *a, const struct zone_rrset *rs)
{
	for (unsigned i = 0; i < a->n; i++)
		if (a->e[i].rs == rs)
			return 1;
	return 0;
}

/* The RRSIGs at a node that cover a type (RFC 4034 3). */
static const struct zone_rrset *rrsig_of(const struct zone *z, uint32_t node, uint16_t type)
{
	const struct zone_node *n = &z->nodes[node];
	for (uint16_t i = 0; i < n->n_rrsets; i++) {
		const struct zone_rrset *rs = zone_rrset_at(z, n->rrsets + i);
		if (rs->type != T_RRSIG)
			continue;
		const uint8_t *rd = zone_rdata(z, rs);
		if (rdata_len(rd) >= 2 && get16(rd + 2) == type)
			return rs;
	}
	return NULL;
}

static void add_one(struct answer *a, uint8_t section, const uint8_t *owner, uint32_t node,
		    const struct zone_rrset *rs, uint8_t flags)
{
	if (a->n == ICB_ANSWER_MAX_RRSETS)
		return;
	struct rr_entry *e = &a->e[a->n++];
	e->z = a->z;
	e->owner = owner;
	e->node = node;
	e->rs = rs;
	e->synth = NULL;
	e->ttl = rs->ttl;
	e->section = section;
	e->flags = flags;
}

/* Add an RRset (owner NULL: the node's own name) and, when the client
 * asked for DNSSEC, the RRSIGs that cover it (RFC 4035 3.1.1). */
static void add(struct answer *a, uint8_t section, const uint8_t *owner, uint32_t node,
		const struct zone_rrset *rs, uint8_t flags)
{
	if (!rs)
		return;
	add_one(a, section, owner, node, rs, flags);
	if (a->dnssec && rs->type != T_RRSIG) {
		const struct zone_rrset *sig = rrsig_of(a->z, node, rs->type);
		if (sig)
			add_one(a, section, owner, node, sig, flags | E_SIGS);
	}
}

static void add_soa(struct answer *a)
{
	const struct zone *z = a->z;
	unsigned first = a->n;
	add(a, SEC_AUTHORITY, z->apex, 0, zone_rrset(z, 0, T_SOA), E_REQUIRED | E_TTL);
	/* RFC 2308 section 3: the negative TTL is min(SOA TTL, MINIMUM); the
	 * same for its RRSIG (RFC 4035 3.1.3). */
	for (unsigned i = first; i < a->n; i++)
		a->e[i].ttl = z->neg_ttl < a->e[i].rs->ttl ? z->neg_ttl : a->e[i].rs->ttl;
}

/* ---- denial of existence (RFC 4035 3.1.3, RFC 5155 7.2) ------------- */

/* The NSEC or NSEC3 RRset of a node, with its RRSIGs, in authority. */
static void proof_at(struct answer *a, uint32_t node)
{
	if (node == NO_NODE)
		return;
	const struct zone_rrset *rs =
		zone_rrset(a->z, node, a->z->dnssec == ZONE_NSEC3 ? T_NSEC3 : T_NSEC);
	if (rs && !present_rrset(a, rs))
		add(a, SEC_AUTHORITY, NULL, node, rs, E_REQUIRED);
}

/* NSEC: the NSEC that covers a name absent from the zone: the nearest
 * owner before it in canonical order. */
static void nsec_cover(struct answer *a, const uint8_t *key, size_t klen)
{
	uint32_t idx;
	zone_find(a->z, key, klen, &idx);
	proof_at(a, a->z->aux[idx]);
}

/* NSEC3: the chain entry covering (or matching) the hash of a name. */
static uint32_t n3_cover(const struct zone *z, const uint8_t *name)
{
	uint8_t hash[SHA1_LEN];
	char label[32];
	if (z->n_nsec3 == 0 || nsec3_hash(&z->n3, name, hash) < 0)
		return NO_NODE;
	nsec3_b32(hash, label);
	uint32_t lo = 0, hi = z->n_nsec3;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		size_t kl;
		const uint8_t *k = zone_key(z, z->nsec3[mid], &kl);
		if (memcmp(k, label, 32) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return z->nsec3[lo ? lo - 1 : z->n_nsec3 - 1]; /* wraps: 7.2.1 */
}

static uint32_t n3_entry(const struct zone *z, uint32_t i)
{
	return i == ZONE_NONE ? NO_NODE : z->nsec3[i];
}

/* RFC 5155 7.2.1: the closest (provable) encloser proof.  Climb from node
 * to the nearest ancestor whose hash is in the chain; prove it, and cover
 * the next closer name, the one below it on the way to name. */
static uint32_t n3_encloser_proof(struct answer *a, const uint8_t *name, unsigned rel, uint32_t node)
{
	const struct zone *z = a->z;
	while (z->aux[2 * node] == ZONE_NONE && z->nodes[node].labels > 0)
		node = z->nodes[node].parent;
	proof_at(a, n3_entry(z, z->aux[2 * node]));
	if (rel > z->nodes[node].labels)
		proof_at(a, n3_cover(z, name_skip(name, rel - z->nodes[node].labels - 1)));
	return node;
}

/* The name does not exist: NXDOMAIN's proofs that neither it nor a
 * wildcard that could match it does (4035 3.1.3.2, 5155 7.2.2). */
static void deny_name(struct answer *a, const uint8_t *name, unsigned rel, const uint8_t *key,
		      size_t klen, uint32_t ce)
{
	const struct zone *z = a->z;
	if (z->dnssec == ZONE_NSEC) {
		nsec_cover(a, key, klen);
		uint32_t w; /* the wildcard at the closest encloser, or its predecessor */
		zone_find_wildcard(z, ce, &w);
		proof_at(a, z->aux[w]);
	} else if (z->dnssec == ZONE_NSEC3) {
		ce = n3_encloser_proof(a, name, rel, ce);
		proof_at(a, n3_entry(z, z->aux[2 * ce + 1]));
	}
}

/* The name exists without the type: its own NSEC or NSEC3 (or, for an
 * empty non-terminal under NSEC, the one covering it; for a name not in
 * an NSEC3 chain, the opt-out proof of 5155 7.2.4). */
static void deny_type(struct answer *a, const uint8_t *name, unsigned rel, uint32_t node)
{
	const struct zone *z = a->z;
	if (z->dnssec == ZONE_NSEC)
		proof_at(a, zone_rrset(z, node, T_NSEC) ? node : z->aux[node]);
	else if (z->dnssec == ZONE_NSEC3 && z->aux[2 * node] != ZONE_NONE)
		proof_at(a, n3_entry(z, z->aux[2 * node]));
	else if (z->dnssec == ZONE_NSEC3)
		n3_encloser_proof(a, name, rel, node);
}

/* ---- additional data ------------------------------------------------ */

/* A node of the zone by name, exact match only. */
static uint32_t lookup(const struct zone *z, const uint8_t *name)
{
	uint8_t key[NAME_KEY_MAX];
	int klen = zone_name_key(z, name, key);
	uint32_t idx;
	return klen >= 0 && zone_find_exact(z, key, (size_t)klen, &idx) ? idx : NO_NODE;
}

/* A and AAAA of a target name (RFC 1034 3.6.2 additional processing). */
static void add_addresses(struct answer *a, const uint8_t *target, int glue_ok, uint8_t flags)
{
	uint32_t n = lookup(a->z, target);
	if (n == NO_NODE)
		return;
	int glue = (a->z->nodes[n].flags & (NODE_UNDER | NODE_DELEG)) != 0;
	if (!glue_ok && glue)
		return; /* not authoritative data: glue only goes with referrals */
	static const uint16_t types[2] = { T_A, T_AAAA };
	for (int i = 0; i < 2; i++) {
		const struct zone_rrset *rs = zone_rrset(a->z, n, types[i]);
		if (rs && !present(a, target, types[i]))
			add(a, SEC_ADDITIONAL, target, n, rs, flags); /* glue has no RRSIG */
	}
}

static void additional(struct answer *a, const struct zone_rrset *rs)
{
	const struct rrtype *d = rrtype_get(rs->type);
	if (!(d->flags & RRT_ADDITIONAL))
		return;
	const uint8_t *rd = zone_rdata(a->z, rs);
	for (uint16_t i = 0; i < rs->count; i++, rd = rdata_next(rd)) {
		const uint8_t *t = rrtype_first_name(d, rd + 2);
		if (t)
			add_addresses(a, t, 0, 0);
	}
}

static void referral(struct answer *a, const uint8_t *name, unsigned rel, uint32_t cut,
		     const uint8_t *cut_name, unsigned step)
{
	const struct zone *z = a->z;
	const struct zone_rrset *ns = zone_rrset(z, cut, T_NS);
	if (step == 0)
		a->aa = 0; /* RFC 1034 4.3.2 step 3b: not authoritative */
	a->cut = cut_name;
	/* NS of the child is not signed here; DS (and its RRSIG) or the proof
	 * that there is none is (RFC 4035 3.1.4). */
	add_one(a, SEC_AUTHORITY, cut_name, cut, ns, E_REQUIRED);
	if (a->dnssec) {
		const struct zone_rrset *ds = zone_rrset(z, cut, T_DS);
		if (ds)
			add(a, SEC_AUTHORITY, cut_name, cut, ds, E_REQUIRED);
		else
			deny_type(a, name_skip(name, rel - z->nodes[cut].labels),
				  z->nodes[cut].labels, cut);
	}
	/* Glue: addresses of the name servers that are inside this zone; the
	 * ones below the cut are required (RFC 9471). */
	const uint8_t *rd = zone_rdata(z, ns);
	for (uint16_t i = 0; i < ns->count; i++, rd = rdata_next(rd)) {
		const uint8_t *t = rd + 2;
		add_addresses(a, t, 1, name_in_zone(t, cut_name) >= 0 ? E_REQUIRED : 0);
	}
}

/* About the octets an RRset takes in an answer (its owner a pointer). */
static size_t rrset_size(const struct zone *z, const struct zone_rrset *rs)
{
	size_t size = 0;
	const uint8_t *rd = zone_rdata(z, rs);
	for (uint16_t k = 0; k < rs->count; k++, rd = rdata_next(rd))
		size += 2 + 10 + rdata_len(rd);
	return size;
}

/* Is rs the wildcard's own NSEC, or an RRSIG of it?  It places the "*"
 * name in the zone's chain: not data to synthesise for ANY (RFC 4592 4.7:
 * only a query for NSEC itself may get it); a copy at the name asked
 * proves nothing, and would stand where the real proof goes. */
static int wildcard_nsec(const struct zone *z, const struct zone_rrset *rs)
{
	if (rs->type == T_NSEC)
		return 1;
	if (rs->type != T_RRSIG)
		return 0;
	const uint8_t *rd = zone_rdata(z, rs);
	return rdata_len(rd) >= 2 && get16(rd + 2) == T_NSEC;
}

/* Answer from a node that matched (exactly, or as the source of a
 * wildcard: wild); owner is the name asked.  Returns the CNAME target to
 * follow, or NULL when the answer is complete (*nodata set when it is
 * NODATA). */
static const uint8_t *from_node(struct answer *a, uint32_t node, const uint8_t *owner,
				uint16_t qtype, int all_any, int wild, int *nodata)
{
	const struct zone *z = a->z;
	const struct zone_node *n = &z->nodes[node];
	*nodata = 0;
	if (qtype == T_ANY && n->n_rrsets) {
		/* RFC 8482 4.1: over UDP one RRset is enough, the smallest
		 * (most likely to fit without TC and a retry over TCP); over
		 * TCP all.  Data before a signed zone's own records (an NSEC
		 * or an RRSIG asked without DO), whatever their sizes: they
		 * tell a client nothing it asked for. */
		const struct zone_rrset *one = NULL;
		size_t one_size = 0;
		int one_meta = 0;
		for (uint16_t i = 0; i < n->n_rrsets; i++) {
			const struct zone_rrset *rs = zone_rrset_at(z, n->rrsets + i);
			if ((a->dnssec && rs->type == T_RRSIG) || present_rrset(a, rs))
				continue; /* RRSIGs come with the RRsets they cover */
			if (wild && wildcard_nsec(z, rs))
				continue;
			if (all_any) {
				add(a, SEC_ANSWER, owner, node, rs, 0);
				continue;
			}
			size_t size = rrset_size(z, rs);
			int meta = rs->type == T_NSEC || rs->type == T_RRSIG;
			if (!one || meta < one_meta || (meta == one_meta && size < one_size)) {
				one = rs;
				one_size = size;
				one_meta = meta;
			}
		}
		add(a, SEC_ANSWER, owner, node, one, 0);
		return NULL;
	}
	/* Usually one RRset; RRSIGs are one per covered type.  A chain can
	 * come to the owner of a DNAME it took (a CNAME back to it): its
	 * DNAME is answered once. */
	int found = 0;
	for (uint16_t i = 0; i < n->n_rrsets; i++) {
		const struct zone_rrset *rs = zone_rrset_at(z, n->rrsets + i);
		if (rs->type != qtype)
			continue;
		found = 1;
		if (present_rrset(a, rs))
			continue;
		add(a, SEC_ANSWER, owner, node, rs, 0);
		additional(a, rs);
	}
	if (found)
		return NULL;
	const struct zone_rrset *cn = zone_rrset(z, node, T_CNAME);
	if (cn && qtype != T_ANY) {
		add(a, SEC_ANSWER, owner, node, cn, 0);
		return zone_rdata(z, cn) + 2;
	}
	add_soa(a); /* NODATA: RFC 2308 section 2.2 */
	*nodata = 1;
	return NULL;
}

void answer_zone(struct answer *a, const struct catalog *cat, const struct zone *z,
		 const uint8_t *qname, const uint8_t *qkey, size_t qklen, uint32_t qnode,
		 uint16_t qtype, int all_any, int dnssec_ok)
{
	const uint8_t *cur = qname;
	a->n = 0;
	a->n_synth = 0;
	a->rcode = RC_NOERROR;
	a->aa = 1;
	a->cut = NULL;
	a->wild_zone = NULL;
	a->any = qtype == T_ANY && all_any;

	for (unsigned step = 0; step <= ICB_CHAIN_MAX; step++) {
		/* The question is known to be in z; later names of a chain
		 * are checked. */
		int rel = step == 0 && qkey ? (int)(name_labels(cur) - z->apex_labels)
					    : name_in_zone(cur, z->apex);
		if (rel < 0) {
			/* The chain left the zone: on in another zone we serve,
			 * else the resolver goes on from here. */
			const struct cat_zone *cz = cat ? catalog_find(cat, cur, NULL, NULL) : NULL;
			if (!cz || !(z = cat_zone_serving(cz)))
				return;
			rel = name_in_zone(cur, z->apex);
		}
		a->z = z;
		a->dnssec = dnssec_ok && z->dnssec != ZONE_UNSIGNED;
		uint8_t kbuf[NAME_KEY_MAX + 2];
		const uint8_t *key = kbuf;
		size_t klen;
		if (step == 0 && qkey) {
			key = qkey; /* worked out when the zone was found */
			klen = qklen;
		} else {
			klen = name_key(cur, (unsigned)rel, kbuf);
		}
		uint32_t node = step == 0 ? qnode : ZONE_NONE;
		int exact = node != ZONE_NONE && zone_node_is(z, node, key, klen);
		if (!exact)
			exact = zone_find_encloser(z, key, klen, &node);
		/* The NSEC3 chain's own names answer as if absent (5155 7.2.8). */
		if (z->nodes[node].flags & NODE_NSEC3) {
			node = z->nodes[node].parent;
			exact = 0;
		}

		/* A zone cut or a DNAME above the name (or a cut at it) decides
		 * first; the one nearest the apex wins (RFC 1034 4.3.2 3b). */
		if (z->nodes[node].flags & (NODE_UNDER | NODE_DELEG | NODE_DNAME)) {
			uint32_t cut = NO_NODE;
			/* Up to the apex itself: a DNAME there redirects the
			 * whole zone below it (RFC 6672 2.3), NS there is no cut. */
			for (uint32_t x = node;; x = z->nodes[x].parent) {
				uint8_t f = z->nodes[x].flags;
				int self = exact && x == node, apex = z->nodes[x].labels == 0;
				/* DS lives on the parent side of the cut (RFC 4035 3.1.4.1). */
				if ((f & NODE_DELEG) && !apex && !(self && qtype == T_DS))
					cut = x;
				else if ((f & NODE_DNAME) && !self)
					cut = x;
				if (apex)
					break;
			}
			if (cut != NO_NODE) {
				const uint8_t *cut_name = name_skip(cur, (unsigned)rel - z->nodes[cut].labels);
				if (z->nodes[cut].flags & NODE_DELEG) {
					referral(a, cur, (unsigned)rel, cut, cut_name, step);
					return;
				}
				/* DNAME: answer it and synthesise the CNAME (RFC 6672 3.3).
				 * A DNAME into its own subtree repeats: once is enough
				 * in the answer, and the synthesis stops at our limit. */
				const struct zone_rrset *dn = zone_rrset(z, cut, T_DNAME);
				if (a->n_synth == ICB_SYNTH_MAX || a->n + 3 > ICB_ANSWER_MAX_RRSETS)
					return;
				if (!present(a, cut_name, T_DNAME))
					add(a, SEC_ANSWER, cut_name, cut, dn, 0);
				const uint8_t *target = zone_rdata(z, dn) + 2;
				size_t prefix = (size_t)(cut_name - cur), tlen = name_len(target);
				if (prefix + tlen > NAME_MAXLEN) {
					a->rcode = RC_YXDOMAIN;
					return;
				}
				/* A DNAME loop comes back to a name already answered:
				 * its CNAME is there once, and the chain ends. */
				if (present(a, cur, T_CNAME))
					return;
				uint8_t *s = a->synth[a->n_synth++];
				memcpy(s, cur, prefix);
				memcpy(s + prefix, target, tlen);
				/* The synthesised CNAME is unsigned (RFC 6672 5.3.1). */
				struct rr_entry *e = &a->e[a->n++];
				e->z = z;
				e->owner = cur;
				e->node = NO_NODE;
				e->rs = NULL;
				e->synth = s;
				e->ttl = dn->ttl;
				e->section = SEC_ANSWER;
				e->flags = E_TTL;
				if (qtype == T_CNAME)
					return; /* the synthesised CNAME is the answer */
				if (name_equal(s, cur) || present(a, s, T_CNAME))
					return; /* it points back into the chain */
				cur = s;
				continue;
			}
		}

		const uint8_t *next;
		int nodata;
		if (exact) {
			next = from_node(a, node, cur, qtype, all_any, 0, &nodata);
			if (nodata && a->dnssec)
				deny_type(a, cur, (unsigned)rel, node);
		} else if (z->nodes[node].flags & NODE_WILDCHILD) {
			/* RFC 4592: the source of synthesis is "*" below the
			 * closest encloser. */
			uint32_t w;
			if (!zone_find_wildcard(z, node, &w))
				return;
			next = from_node(a, w, cur, qtype, all_any, 1, &nodata);
			if (step == 0) {
				a->wild_zone = z;
				a->wild_node = w;
			}
			if (a->dnssec) {
				/* The name asked for does not exist itself (4035
				 * 3.1.3.3, 5155 7.2.6), and for NODATA neither does
				 * the type at the wildcard (3.1.3.4, 7.2.5). */
				if (z->dnssec == ZONE_NSEC) {
					nsec_cover(a, key, klen);
					if (nodata)
						proof_at(a, w);
				} else {
					if (nodata)
						n3_encloser_proof(a, cur, (unsigned)rel, node);
					else
						proof_at(a, n3_cover(z, name_skip(cur, (unsigned)rel -
											     z->nodes[node].labels - 1)));
					if (nodata)
						proof_at(a, n3_entry(z, z->aux[2 * w]));
				}
			}
		} else {
			a->rcode = RC_NXDOMAIN;
			add_soa(a);
			if (a->dnssec)
				deny_name(a, cur, (unsigned)rel, key, klen, node);
			return;
		}
		if (!next)
			return;
		/* Follow the CNAME, unless it leads back into the chain.  The
		 * owner of a DNAME of the chain is not: its DNAME redirects
		 * the names below it, not itself (RFC 6672 2.3), so it is
		 * answered as any name (NODATA with the SOA, or its data). */
		if (present(a, next, T_CNAME))
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
		/* Names in RDATA are the zone's (or a synthesised CNAME's),
		 * all kept until the message is written.  One that is not
		 * compressed is remembered only when it may be an owner again
		 * (an SRV target's addresses): an RRSIG's signer would take
		 * a place for nothing. */
		if (f == RD_NAME_C) {
			bld_name(b, rd + pos, BLD_COMPRESS | BLD_KEPT);
			pos += name_len(rd + pos);
		} else if (f == RD_NAME_D || f == RD_NAME_U) {
			bld_name(b, rd + pos, (d->flags & RRT_ADDITIONAL) ? BLD_KEPT : BLD_PLAIN);
			pos += name_len(rd + pos);
		} else if (f & 0x80) {
			bld_bytes(b, rd + pos, f & 0x7F);
			pos += f & 0x7F;
		} else if (f == RD_STR) {
			bld_bytes(b, rd + pos, 1 + (size_t)rd[pos]);
			pos += 1 + (size_t)rd[pos];
		} else {
			bld_bytes(b, rd + pos, len - pos);
			pos = len;
		}
	}
}

/* owner_at: where the owner was written for the RRset's first RR (its
 * name again, compressed to two octets), or NO_OFFSET. */
#define NO_OFFSET ((size_t)-1)
static void write_rr(struct builder *b, const uint8_t *owner, int how, size_t owner_at,
		     uint16_t type, uint32_t ttl, const uint8_t *rd, size_t len)
{
	if (owner_at == NO_OFFSET)
		bld_name(b, owner, how);
	else
		bld_name_again(b, owner_at, owner);
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
	uint8_t own[NAME_MAXLEN];
	int dropped = 0; /* the entry before was left out for room */
	counts[0] = counts[1] = counts[2] = 0;
	for (uint8_t sec = SEC_ANSWER; sec <= SEC_ADDITIONAL; sec++) {
		for (unsigned i = 0; i < a->n; i++) {
			const struct rr_entry *e = &a->e[i];
			if (e->section != sec)
				continue;
			/* An RRset left out for room takes its RRSIGs with it: it
			 * may go without them, never they without it (RFC 4035
			 * 3.1.1). */
			if ((e->flags & E_SIGS) && dropped)
				continue;
			dropped = 0;
			const uint8_t *owner = e->owner;
			/* Owners are the question, the zone's names or synthesised
			 * names, all kept until the end, but for a proof's owner
			 * made in own, which the next one overwrites. */
			int how = BLD_COMPRESS | BLD_KEPT;
			if (!owner) { /* a proof's owner: the node's own name */
				if (zone_node_name(e->z, e->node, own) < 0)
					continue;
				owner = own;
				how = BLD_COMPRESS;
			}
			struct builder_mark m = bld_mark(b);
			uint16_t n = 0;
			if (!e->rs) {
				write_rr(b, owner, how, NO_OFFSET, T_CNAME, e->ttl, e->synth,
					 name_len(e->synth));
				n = 1;
			} else {
				uint32_t ttl = (e->flags & E_TTL) ? e->ttl : e->rs->ttl;
				const uint8_t *rd = zone_rdata(e->z, e->rs);
				size_t at = NO_OFFSET;
				for (uint16_t k = 0; k < e->rs->count; k++, rd = rdata_next(rd)) {
					size_t here = b->len;
					write_rr(b, owner, how, at, e->rs->type, ttl, rd + 2,
						 rdata_len(rd));
					if (k == 0)
						at = here;
				}
				n = e->rs->count;
			}
			if (b->err) {
				bld_rollback(b, m);
				/* ANY may be answered with some of the RRsets (RFC
				 * 8482 4.1): one that does not fit after the first is
				 * left out, with its RRSIGs, and no TC (RFC 2181 9:
				 * over TCP there is nothing bigger to ask again on). */
				if (sec == SEC_ANSWER && a->any && counts[SEC_ANSWER] &&
				    !(e->flags & E_SIGS) && e->rs && e->rs->type != T_CNAME &&
				    e->rs->type != T_DNAME) {
					dropped = 1;
					continue;
				}
				/* RFC 2181 9: missing answers or authority (with
				 * their RRSIGs and proofs, RFC 4035 3.1.1), or
				 * required glue (RFC 9471), mean TC; other
				 * additional data is simply left out. */
				if (sec != SEC_ADDITIONAL || (e->flags & E_REQUIRED))
					return 1;
				dropped = 1;
				continue;
			}
			counts[sec] = (uint16_t)(counts[sec] + n);
		}
	}
	return 0;
}
