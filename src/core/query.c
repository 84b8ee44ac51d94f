/* Processing one message from a client. */
#include "query.h"

#include <string.h>

#include "answer.h"
#include "rrl.h"
#include "rrtype.h"
#include "tsig.h"
#include "wire.h"

enum {
	F_QR = 0x8000, F_AA = 0x0400, F_TC = 0x0200, F_RD = 0x0100, F_CD = 0x0010,
	OP_QUERY = 0, OP_NOTIFY = 4,
	RC_NOERROR = 0, RC_FORMERR = 1, RC_SERVFAIL = 2, RC_NOTIMP = 4, RC_REFUSED = 5,
	RC_NXDOMAIN_ = 3, RC_NOTAUTH = 9, RC_BADVERS = 16,
};

#define OPT_LEN 11 /* root name, type, class, TTL, RDLENGTH 0 */

enum { OPT_NSID = 3 }; /* RFC 5001 2.3 */

struct edns {
	int tsig;          /* a TSIG record is in the additional section */
	int present;
	uint16_t size;
	uint8_t version;
	int dnssec_ok;
	int nsid;          /* the client asked for our NSID */
};

/* How the sections after the question read (read_rest()). */
enum { REST_OK = 0, REST_BAD = -1, REST_BAD_OPT = -2 };

/* The additional section of a query: at most one OPT, owned by the root
 * (RFC 6891 6.1.1); anything malformed is FORMERR.  A broken record is
 * REST_BAD; a whole OPT that is wrong in itself (a second one, another
 * owner, its options) is REST_BAD_OPT, answered with our OPT all the
 * same so that the client can tell it from a server without EDNS
 * (RFC 6891 7). */
static int parse_additional(struct cursor *c, uint16_t count, struct edns *e, uint8_t *owner)
{
	int bad_opt = 0;
	for (uint16_t i = 0; i < count; i++) {
		if (name_parse(c, owner, 1) < 0)
			return REST_BAD;
		uint16_t type = cur_u16(c), rclass = cur_u16(c);
		uint32_t ttl = cur_u32(c);
		uint16_t rdlen = cur_u16(c);
		const uint8_t *rd = cur_take(c, rdlen);
		if (c->err)
			return REST_BAD;
		if (type == T_TSIG)
			e->tsig = 1; /* checked whole by tsig_verify(), where it stands */
		if (type != T_OPT)
			continue;
		if (e->present || owner[0] != 0)
			bad_opt = 1;
		if (e->present)
			continue; /* the first one's size and flags stand */
		e->present = 1;
		e->size = rclass < 512 ? 512 : rclass;
		e->version = (uint8_t)(ttl >> 16);
		e->dnssec_ok = (ttl & 0x8000) != 0;
		/* Options are skipped (unknown ones ignored, RFC 6891 6.1.2)
		 * but must be well formed. */
		struct cursor oc;
		cur_init(&oc, rd, rdlen);
		while (cur_left(&oc)) {
			/* NSID: asked for with an empty option (RFC 5001 2.1);
			 * one with data is taken as asking too, as NSD and
			 * Knot DNS do. */
			if (cur_u16(&oc) == OPT_NSID)
				e->nsid = 1;
			cur_skip(&oc, cur_u16(&oc));
		}
		if (oc.err)
			bad_opt = 1;
	}
	return bad_opt ? REST_BAD_OPT : REST_OK;
}

/* Skip count records (NOTIFY's answer section), keeping the SOA serial of
 * an SOA record for the zone if there is one (RFC 1996 3.7). */
static int skip_records(struct cursor *c, uint16_t count, const uint8_t *qname,
			struct query_result *res, uint8_t *owner)
{
	for (uint16_t i = 0; i < count; i++) {
		if (name_parse(c, owner, 1) < 0)
			return REST_BAD;
		uint16_t type = cur_u16(c);
		cur_u16(c);
		cur_u32(c);
		uint16_t rdlen = cur_u16(c);
		size_t start = c->pos;
		if (type == T_SOA && qname && name_equal(owner, qname) && c->len - start >= rdlen) {
			struct cursor rc;
			cur_init(&rc, c->buf, start + rdlen);
			rc.pos = start;
			uint8_t n[NAME_MAXLEN];
			if (name_parse(&rc, n, 1) >= 0 && name_parse(&rc, n, 1) >= 0) {
				uint32_t serial = cur_u32(&rc);
				if (!rc.err) {
					res->has_serial = 1;
					res->serial = serial;
				}
			}
		}
		cur_skip(c, rdlen);
		if (c->err)
			return REST_BAD;
	}
	return REST_OK;
}

/* Everything after the first question (read or not there): the other
 * questions, the answer and authority records (keeping a NOTIFY's serial,
 * if qname is known) and the additional section, whatever is wrong with
 * the message before it, so that any error answers an OPT with an OPT
 * (RFC 6891 6.1.1). */
static int read_rest(struct cursor *c, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar,
		     const uint8_t *qname, struct query_result *res, struct edns *e)
{
	uint8_t name[NAME_MAXLEN]; /* one for every name read here: a small device's stack */
	for (uint16_t i = 0; i < qd; i++) {
		if (name_parse(c, name, 1) < 0)
			return REST_BAD;
		cur_skip(c, 4);
	}
	if (c->err || skip_records(c, an, qname, res, name) < 0 ||
	    skip_records(c, ns, qname, res, name) < 0)
		return REST_BAD;
	int r = parse_additional(c, ar, e, name);
	if (r == REST_BAD)
		e->present = 0; /* nothing of it can be trusted */
	return r;
}

/* A question in class CH: the names by which a server tells who and what
 * it is (RFC 4892 2, and BIND's older names), answered with the configured
 * text as one TXT record, TTL 0; not authoritative data, so no AA, and
 * anything else refused, as NSD does. */
static uint8_t chaos(const struct catalog *cat, const uint8_t *qname, uint16_t qtype,
		     struct builder *b, uint16_t *counts)
{
	static const uint8_t id_server[] = "\2id\6server", hostname_bind[] = "\10hostname\4bind",
			     version_server[] = "\7version\6server",
			     version_bind[] = "\7version\4bind";
	const struct cat_text *t = NULL;
	if (name_equal(qname, id_server) || name_equal(qname, hostname_bind))
		t = &cat->identity;
	else if (name_equal(qname, version_server) || name_equal(qname, version_bind))
		t = &cat->version;
	if (!t || !t->len || (qtype != T_TXT && qtype != T_ANY))
		return RC_REFUSED;
	struct builder_mark m = bld_mark(b);
	bld_name_again(b, 12, qname);
	bld_u16(b, T_TXT);
	bld_u16(b, C_CH);
	bld_u32(b, 0);
	bld_u16(b, (uint16_t)(1 + t->len));
	bld_u8(b, t->len);
	bld_bytes(b, t->data, t->len);
	if (b->err) { /* cannot happen: at most 12 + 19 + 268 octets */
		bld_rollback(b, m);
		return RC_SERVFAIL;
	}
	counts[0] = 1;
	return RC_NOERROR;
}

static void notify(const struct catalog *cat, const uint8_t *qname, uint16_t qtype,
		   uint16_t qclass, const struct query_env *env, struct query_result *res)
{
	if (qtype != T_SOA || qclass != C_IN) {
		res->rcode = RC_FORMERR;
		return;
	}
	struct cat_zone *cz = catalog_exact(cat, qname);
	res->action = QA_NOTIFY_REFUSED;
	res->rcode = RC_REFUSED;
	res->zone = cz;
	if (!cz) {
		res->why = "zone not served";
		return;
	}
	if (!catalog_notify_allowed(cz, &env->client, res->key)) {
		res->why = res->key ? "not allowed to notify with this key"
				    : "not allowed to notify (unsigned, or not from an allowed address)";
		return;
	}
	res->action = QA_NOTIFY;
	res->rcode = RC_NOERROR;
}

/* The steps of a hint (query.h), each reading what the one before asked
 * the CPU to load. */
enum hint_step {
	H_SLOT = 1, /* the key's (or an ancestor's) slot: its node next */
	H_NODE,     /* the node: its key and RRsets next */
	H_RRSETS,   /* the RRsets: the one the answer reads, its RDATA next */
	H_RDATA,    /* the RDATA: the slots of the names it holds next */
	H_TSLOT,    /* their slots: their nodes next */
	H_TNODE,    /* their nodes: their keys and RRsets next */
	H_TRRSETS,  /* their RRsets: the RDATA the answer copies next */
};

void query_hint_start(const struct catalog *cat, const uint8_t *q, size_t qlen,
		      struct query_hint *h)
{
	h->z = NULL;
	h->q = q;
	h->qlen = qlen;
	h->qname_end = 0;
	h->node = ZONE_NONE;
	h->qz = NULL;
	h->n_t = 0;
	struct cursor c;
	cur_init(&c, q, qlen);
	cur_skip(&c, 4);
	if (cur_u16(&c) != 1 || c.err)
		return; /* not one question: nothing to look up */
	cur_skip(&c, 6);
	if (name_parse(&c, h->qname, 1) < 0)
		return;
	/* What query_process() does with the question, done here once. */
	h->cz = catalog_find(cat, h->qname, h->key, &h->klen);
	h->qname_end = c.pos;
	h->qtype = cur_u16(&c);
	if (c.err)
		return; /* no type: answered FORMERR, nothing to look up */
	const struct zone *z = h->cz ? cat_zone_serving(h->cz) : NULL;
	if (z && zone_hint_slot(z, h->key, h->klen, &h->slot, &h->tag)) {
		h->z = z;
		h->step = H_SLOT;
		h->plen = h->klen;
	}
}

/* The RRset the answer reads at the node the lookup came to: NS at a
 * zone cut above or at the name (a referral, RFC 1034 4.3.2 3b; DS at the
 * cut is the parent's), else at the name the type asked for or a CNAME.
 * A guess, for prefetching only: the answer decides for itself. */
static const struct zone_rrset *hint_rrset(const struct query_hint *h)
{
	const struct zone *z = h->z;
	int exact = h->plen == h->klen;
	if ((z->nodes[h->node].flags & NODE_DELEG) && !(exact && h->qtype == T_DS))
		return zone_hint_rrset(z, h->node, T_NS);
	if (!exact || h->qtype == T_ANY)
		return NULL;
	const struct zone_rrset *rs = zone_hint_rrset(z, h->node, h->qtype);
	return rs ? rs : zone_hint_rrset(z, h->node, T_CNAME);
}

static int hint_targets(struct query_hint *h)
{
	const struct zone *z = h->z;
	const struct rrtype *d = rrtype_get(h->rs->type);
	const uint8_t *rd = zone_rdata(z, h->rs);
	h->n_t = 0;
	for (uint16_t i = 0; i < h->rs->count && h->n_t < QUERY_HINT_TARGETS; i++, rd = rdata_next(rd)) {
		const uint8_t *t = rrtype_first_name(d, rd + 2);
		if (t && zone_hint_name(z, t, &h->t_slot[h->n_t], &h->t_tag[h->n_t]))
			h->n_t++;
	}
	return h->n_t > 0;
}

int query_hint_step(struct query_hint *h)
{
	const struct zone *z = h->z;
	unsigned k = 0;
	switch (h->step) {
	case H_SLOT:
		h->node = zone_hint_node(z, &h->slot, h->tag);
		if (h->node != ZONE_NONE) {
			if (h->plen == h->klen) {
				h->qz = z; /* the question's, by its tag */
				h->qnode = h->node;
			}
			h->step = H_NODE;
			return 1;
		}
		/* Absent: the answer climbs to the closest encloser
		 * (zone_find_encloser), so the parent's slot is next.  The
		 * apex (key length 0) is read by every answer: no need. */
		size_t l = h->plen ? h->plen - 1 : 0;
		while (l > 0 && h->key[l - 1] != 0)
			l--;
		if (l == 0 || !zone_hint_slot(z, h->key, l, &h->slot, &h->tag))
			break;
		h->plen = l;
		return 1;
	case H_NODE:
		zone_hint_data(z, h->node);
		h->step = H_RRSETS;
		return 1;
	case H_RRSETS:
		h->rs = hint_rrset(h);
		if (!h->rs || !((h->rs->type == T_CNAME && h->qtype != T_CNAME) ||
				(rrtype_get(h->rs->type)->flags & RRT_ADDITIONAL)))
			break;
		h->step = H_RDATA;
		return 1;
	case H_RDATA:
		if (!hint_targets(h))
			break;
		h->step = H_TSLOT;
		return 1;
	case H_TSLOT:
		for (unsigned i = 0; i < h->n_t; i++) {
			uint32_t n = zone_hint_node(z, &h->t_slot[i], h->t_tag[i]);
			if (n != ZONE_NONE)
				h->t_node[k++] = n;
		}
		if (!(h->n_t = k))
			break;
		h->step = H_TNODE;
		return 1;
	case H_TNODE:
		for (unsigned i = 0; i < h->n_t; i++)
			zone_hint_data(z, h->t_node[i]);
		h->step = H_TRRSETS;
		return 1;
	case H_TRRSETS:
		/* A CNAME's target answers the type asked for; other
		 * targets give their addresses (RFC 1034 3.6.2). */
		for (unsigned i = 0; i < h->n_t; i++) {
			if (h->rs->type == T_CNAME) {
				zone_hint_rrset(z, h->t_node[i], h->qtype);
			} else {
				zone_hint_rrset(z, h->t_node[i], T_A);
				zone_hint_rrset(z, h->t_node[i], T_AAAA);
			}
		}
		break;
	default:
		break;
	}
	h->z = NULL;
	return 0;
}

size_t query_process(const struct catalog *cat, const uint8_t *q, size_t qlen,
		     const struct query_env *env, uint8_t *out, size_t cap,
		     struct query_result *res)
{
	return query_process_hinted(cat, NULL, q, qlen, env, out, cap, res);
}

/* The header over the first len octets of out (the sections), and our
 * OPT after them when the query had one: our payload size, the extended
 * rcode, DO echoed (RFC 3225 3), no other flags, our NSID if asked for.
 * Returns the length. */
static size_t seal(uint8_t *out, size_t len, uint16_t id, uint16_t rflags, uint8_t rcode, int qd,
		   const uint16_t counts[3], const struct edns *e, size_t nsid_len,
		   const struct catalog *cat, uint16_t udp_max)
{
	put16(out, id);
	put16(out + 2, (uint16_t)(rflags | (rcode & 0xF)));
	put16(out + 4, qd ? 1 : 0);
	put16(out + 6, counts[0]);
	put16(out + 8, counts[1]);
	put16(out + 10, (uint16_t)(counts[2] + (e->present ? 1 : 0)));
	if (!e->present)
		return len;
	uint8_t *o = out + len;
	o[0] = 0;
	put16(o + 1, T_OPT);
	put16(o + 3, udp_max);
	put32(o + 5, ((uint32_t)(rcode >> 4) << 24) | (e->dnssec_ok ? 0x8000u : 0));
	put16(o + 9, (uint16_t)(nsid_len ? 4 + nsid_len : 0));
	len += OPT_LEN;
	if (nsid_len) {
		put16(out + len, OPT_NSID);
		put16(out + len + 2, (uint16_t)nsid_len);
		memcpy(out + len + 4, cat->nsid.data, nsid_len);
		len += 4 + nsid_len;
	}
	return len;
}

/* The TSIG of a reply to a signed query (RFC 8945 5.3): signed with the
 * key on success, BADTIME and BADTRUNC signed too, BADKEY and BADSIG
 * unsigned (5.3.2).  -1 if it does not fit in limit. */
static int sign_reply(const struct query_result *res, const struct tsig_rr *trr,
		      const struct tsig_key *tkey, uint8_t *out, size_t *len, size_t limit,
		      uint64_t now)
{
	if (res->tsig == TSIG_OK)
		return tsig_sign(res->key, out, len, limit, now, trr->mac, trr->mac_len, 0, NULL,
				 NULL);
	if (res->tsig == TSIG_EBADTIME && tkey)
		return tsig_sign_badtime(tkey, out, len, limit, now, trr->time_signed, trr->mac,
					 trr->mac_len, NULL, NULL);
	if (res->tsig == TSIG_EBADTRUNC && tkey)
		return tsig_sign(tkey, out, len, limit, now, trr->mac, trr->mac_len,
				 TSIG_RC_BADTRUNC, NULL, NULL);
	return tsig_sign_error(trr, out, len, limit, now,
			       res->tsig == TSIG_EBADKEY ? TSIG_RC_BADKEY : TSIG_RC_BADSIG);
}

size_t query_process_hinted(const struct catalog *cat, const struct query_hint *h,
			    const uint8_t *q, size_t qlen, const struct query_env *env,
			    uint8_t *out, size_t cap, struct query_result *res)
{
	memset(res, 0, sizeof(*res));
	res->action = QA_DROP;
	if (qlen < 12)
		return 0; /* no header to answer with */

	struct cursor c;
	cur_init(&c, q, qlen);
	uint16_t id = cur_u16(&c), flags = cur_u16(&c);
	uint16_t qd = cur_u16(&c), an = cur_u16(&c), ns = cur_u16(&c), ar = cur_u16(&c);
	if (flags & F_QR)
		return 0; /* a response: answering it could start a loop */
	unsigned opcode = (flags >> 11) & 0xF;

	/* The question's name, as the hint read it (the same message: one
	 * question, name parsed) or read here. */
	uint8_t qname_buf[NAME_MAXLEN];
	const uint8_t *qname = qname_buf;
	uint16_t qtype = 0, qclass = 0;
	int have_q = 0, hinted = h && h->q == q && h->qlen == qlen && h->qname_end && qd == 1;
	if (hinted) {
		qname = h->qname;
		c.pos = h->qname_end;
	}
	if (hinted || (qd >= 1 && name_parse(&c, qname_buf, 1) >= 0)) {
		qtype = cur_u16(&c);
		qclass = cur_u16(&c);
		have_q = !c.err;
	}

	struct edns e = { 0, 0, 0, 0, 0, 0 };
	uint8_t rcode = RC_NOERROR;
	int echo_q = have_q && qd == 1;
	int rest = have_q || qd == 0
		? read_rest(&c, have_q ? (uint16_t)(qd - 1) : 0, an, ns, ar, have_q ? qname : NULL,
			    res, &e)
		: REST_BAD;
	res->action = QA_REPLY;
	if (opcode != OP_QUERY && opcode != OP_NOTIFY) {
		rcode = RC_NOTIMP;
	} else if (!echo_q) {
		rcode = RC_FORMERR;
	} else if (rest != REST_OK) {
		rcode = RC_FORMERR;
	} else if (opcode == OP_QUERY && (an || (ns && qtype != T_IXFR))) {
		/* A query holds only its question; an IXFR request its
		 * version's SOA in the authority section too (RFC 1995 3),
		 * and is refused below like any transfer request. */
		rcode = RC_FORMERR;
	} else if (e.present && e.version > 0) {
		rcode = RC_BADVERS; /* RFC 6891 6.1.3 */
	}

	/* TSIG (RFC 8945 5.2): verified before anything is answered; a
	 * failure is NOTAUTH with the TSIG error, unsigned or signed as 5.3.2
	 * says. */
	struct tsig_rr trr;
	const struct tsig_key *tkey = NULL; /* known key, even when the check failed */
	res->tsig = TSIG_UNSIGNED;
	if (rcode == RC_NOERROR && e.tsig) {
		res->tsig = tsig_verify(q, qlen, cat->keys, cat->n_keys, env->now, NULL, 0, &trr,
					&tkey);
		if (res->tsig == TSIG_EFORMERR || res->tsig == TSIG_EPEER)
			rcode = RC_FORMERR;
		else if (res->tsig < 0)
			rcode = RC_NOTAUTH;
	}
	res->key = res->tsig == TSIG_OK ? tkey : NULL;
	if (opcode == OP_NOTIFY && res->tsig < 0 && echo_q) {
		res->action = QA_NOTIFY_REFUSED;
		res->zone = catalog_exact(cat, qname);
		res->why = tsig_strerror(res->tsig);
	}

	/* The size we may send: 512 without EDNS over UDP (RFC 1035 4.2.1),
	 * else the smaller of the client's and our own limit. */
	size_t limit = 65535;
	if (env->transport == TRANSPORT_UDP) {
		limit = 512;
		if (e.present)
			limit = e.size < env->udp_max ? e.size : env->udp_max;
		if (limit < 512)
			limit = 512;
	}
	if (limit > cap)
		limit = cap;

	/* Room after the sections for our OPT, always (ARCOUNT counts it),
	 * with our NSID only for a client that asked (RFC 5001 2.1); and for
	 * TSIG when the question fits beside it (else signing finds out). */
	size_t nsid_len = e.present && e.nsid ? cat->nsid.len : 0;
	size_t opt_size = e.present ? OPT_LEN + (nsid_len ? 4 + nsid_len : 0) : 0;
	size_t room = limit > opt_size ? limit - opt_size : 0;
	size_t tsig_size = 0;
	if (res->tsig != TSIG_UNSIGNED && res->tsig != TSIG_EFORMERR && res->tsig != TSIG_EPEER)
		tsig_size = name_len(trr.key) + name_len(trr.alg) + 10 + 16 + HMAC_MAX_LEN + 6;
	struct builder b;
	bld_init(&b, out, room > tsig_size + 12 + NAME_MAXLEN + 4 ? room - tsig_size : room);
	uint8_t hdr[12] = { 0 };
	bld_bytes(&b, hdr, 12);
	if (echo_q) {
		/* As asked (nothing to compress against yet); every suffix of it
		 * is remembered for the names that follow, and the name itself
		 * by address (qname holds still until the end). */
		bld_name(&b, qname, BLD_COMPRESS | BLD_KEPT);
		bld_u16(&b, qtype);
		bld_u16(&b, qclass);
	}

	res->question_end = b.len;
	res->qtype = qtype;
	res->rrl_kind = RRL_ANSWER;
	uint16_t counts[3] = { 0, 0, 0 };
	uint16_t rflags = (uint16_t)(F_QR | (opcode << 11) | (flags & (F_RD | F_CD)));
	if (rcode == RC_NOERROR && opcode == OP_NOTIFY) {
		notify(cat, qname, qtype, qclass, env, res);
		rcode = res->rcode;
		if (rcode == RC_NOERROR)
			rflags |= F_AA;
	} else if (rcode == RC_NOERROR) {
		const struct cat_zone *cz = NULL;
		const struct zone *z = NULL;
		uint8_t qkey_buf[NAME_KEY_MAX];
		const uint8_t *qkey = hinted ? h->key : qkey_buf;
		size_t qklen = hinted ? h->klen : 0;
		if (qclass == C_CH) {
			rcode = chaos(cat, qname, qtype, &b, counts);
			if (rcode == RC_NOERROR && env->rrl) {
				memcpy(res->rrl_buf, qname, name_len(qname));
				res->rrl_name = res->rrl_buf;
			}
		} else if (qclass != C_IN && qclass != C_ANY)
			rcode = RC_REFUSED; /* only class IN is served */
		else if (qtype == T_AXFR || qtype == T_IXFR)
			rcode = RC_REFUSED; /* no transfers out */
		else if (qtype == T_OPT || qtype == T_TSIG || qtype == T_TKEY)
			rcode = RC_FORMERR; /* pseudo-types are not questions */
		else if (qtype == T_MAILA || qtype == T_MAILB)
			rcode = RC_NOTIMP;
		else if (!(cz = hinted ? h->cz : catalog_find(cat, qname, qkey_buf, &qklen)))
			rcode = RC_REFUSED; /* not ours: RFC 1034 4.3.2 step 2 */
		else if (!(z = cat_zone_serving(cz)))
			rcode = RC_SERVFAIL; /* not loaded yet, or expired */
		if (cz && qtype == T_DS && qname[0] != 0 && name_equal(qname, cz->apex)) {
			/* DS at a zone's apex belongs to its parent (RFC 4035
			 * 3.1.4.1): answered from the parent zone when that is
			 * served here too, as NSD and Knot DNS do. */
			const struct cat_zone *pz = catalog_find(cat, name_skip(qname, 1), NULL, NULL);
			const struct zone *pv = pz ? cat_zone_serving(pz) : NULL;
			if (pv) {
				rcode = RC_NOERROR; /* the child may be unloaded or expired */
				cz = pz;
				z = pv;
				qklen = name_key(qname, name_labels(qname) - pz->labels, qkey_buf);
				qkey = qkey_buf;
			}
		}
		if (z) {
			struct answer a;
			/* The batched lookup's node for the question, if
			 * it read this version (answer_zone() checks it). */
			uint32_t qnode = hinted && h->qz == z ? h->qnode : ZONE_NONE;
			answer_zone(&a, cat, z, qname, qkey, qklen, qnode, qtype,
				    env->transport == TRANSPORT_TCP,
				    e.present && e.dnssec_ok);
			rcode = a.rcode;
			/* QCLASS * matches class IN too, but no server knows
			 * every class: never authoritative (RFC 1034 3.7.1,
			 * RFC 1035 6.2), as NSD answers it. */
			if (a.aa && qclass == C_IN)
				rflags |= F_AA;
			if (answer_write(&a, &b, counts))
				rflags |= F_TC;
			/* The class rate limiting counts it in (a copy: the
			 * names here do not outlive this call), made only when
			 * rates are limited. */
			const uint8_t *rn = qname;
			if (rcode == RC_NXDOMAIN_) {
				res->rrl_kind = RRL_NXDOMAIN;
				rn = a.z->apex;
			} else if (a.cut && !counts[0]) {
				res->rrl_kind = RRL_REFERRAL;
				rn = a.cut;
			} else if (!counts[0]) {
				res->rrl_kind = RRL_NODATA;
			}
			if (env->rrl) {
				/* Whatever a wildcard makes, answer or NODATA,
				 * counts as the wildcard: random names below it
				 * would each start a class of their own. */
				if ((res->rrl_kind == RRL_ANSWER || res->rrl_kind == RRL_NODATA) &&
				    a.wild_zone &&
				    zone_node_name(a.wild_zone, a.wild_node, res->rrl_buf) > 0)
					rn = res->rrl_buf;
				else
					memcpy(res->rrl_buf, rn, name_len(rn));
				res->rrl_name = res->rrl_buf;
			}
		}
	}
	if (b.err) /* cannot happen: limit >= 512 holds a header and question */
		return 0;
	res->rcode = rcode;
	if (rcode != RC_NOERROR && rcode != RC_NXDOMAIN_)
		res->rrl_kind = RRL_ERROR;
	static const uint16_t none[3] = { 0, 0, 0 };
	if (env->slip) {
		/* Rate limiting's slip (rrl.h): the question with TC, and our
		 * OPT and TSIG as in any answer (RFC 6891 6.1.1, RFC 8945
		 * 5.3), nothing more: no bigger than the query but for a MAC
		 * the query cut short. */
		b.len = res->question_end;
		memcpy(counts, none, sizeof(none));
		rflags |= F_TC;
		nsid_len = 0;
	}
	size_t len = seal(out, b.len, id, rflags, rcode, echo_q, counts, &e, nsid_len, cat,
			  env->udp_max);
	if (res->tsig == TSIG_UNSIGNED || res->tsig == TSIG_EFORMERR || res->tsig == TSIG_EPEER ||
	    sign_reply(res, &trr, tkey, out, &len, limit, env->now) == 0)
		return len;
	/* The TSIG does not fit after the sections (huge key and algorithm
	 * names over UDP): the question and our OPT with TC, or else the
	 * header alone with TC; signed if that fits, else not (RFC 8945
	 * 5.3.2 wants an answer more than it wants the record). */
	len = seal(out, res->question_end, id, rflags | F_TC, rcode, echo_q, none, &e, 0, cat,
		   env->udp_max);
	if (sign_reply(res, &trr, tkey, out, &len, limit, env->now) == 0)
		return len;
	const struct edns no_opt = { 0, 0, 0, 0, 0, 0 };
	len = seal(out, 12, id, rflags | F_TC, rcode, 0, none, &no_opt, 0, cat, env->udp_max);
	if (sign_reply(res, &trr, tkey, out, &len, limit, env->now) < 0)
		len = 12;
	return len;
}
