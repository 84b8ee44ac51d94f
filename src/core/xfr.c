/* The zone transfer stream parser. */
#include "xfr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "rrtype.h"
#include "serial.h"
#include "tsig.h"
#include "wire.h"

enum { S_LEN, S_HDR, S_QNAME, S_QFIX, S_OWNER, S_RRFIX, S_RDATA, S_DONE, S_FAIL };
enum { N_LEN, N_LABEL, N_PTR }; /* name machine */
enum { R_START, R_RAW, R_STRLEN, R_NAME };  /* within an RDATA field */
enum { SOA_FIRST, SOA_FINAL, SOA_DEL, SOA_ADD }; /* what an apex SOA is */

#define XL_END 0xFFFF
#define XL_NONE 0xFFFE

/* XFR_MAX_LABELS (limits.h) bounds the label index; it holds at most one
 * entry per two octets of a message. */

static int fail(struct xfr_parser *p, const char *fmt, const char *arg)
{
	char what[160];
	snprintf(what, sizeof(what), fmt, arg ? arg : "");
	snprintf(p->err, sizeof(p->err), "message %lu, offset %u: %s", p->msgs,
		 (unsigned)p->msg_pos, what);
	p->state = S_FAIL;
	return XFR_FAIL;
}

void xfr_init(struct xfr_parser *p, const uint8_t *apex, uint16_t id, struct zone_builder *zb,
	      int strip_dnssec)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->apex, apex, name_len(apex));
	p->id = id;
	p->qtype = T_AXFR;
	p->mode = M_AXFR;
	p->zb = zb;
	p->strip_dnssec = strip_dnssec;
	p->state = S_LEN;
}

void xfr_set_ixfr(struct xfr_parser *p, uint32_t have_serial)
{
	p->qtype = T_IXFR;
	p->mode = M_IXFR_FIRST;
	p->have_serial = p->cur_serial = have_serial;
}

void xfr_set_tsig(struct xfr_parser *p, struct tsig_stream *ts, uint64_t now)
{
	p->ts = ts;
	p->now = now;
}

void xfr_free(struct xfr_parser *p)
{
	free(p->labels);
	free(p->pool);
	p->labels = NULL;
	p->pool = NULL;
	p->labels_cap = p->pool_cap = 0;
}

static const char *rcode_name(unsigned rc)
{
	static const char *const names[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
					     "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
					     "NXRRSET", "NOTAUTH", "NOTZONE" };
	return rc < sizeof(names) / sizeof(names[0]) ? names[rc] : "an unknown rcode";
}

/* ---- the label index ---------------------------------------------- */

static int label_add(struct xfr_parser *p, uint16_t off, const uint8_t *label, uint8_t len)
{
	if (p->n_labels >= XFR_MAX_LABELS)
		return -1;
	if (p->n_labels == p->labels_cap) {
		size_t nc = p->labels_cap ? p->labels_cap * 2 : 64;
		void *n = realloc(p->labels, nc * sizeof(*p->labels));
		if (!n)
			return -1;
		p->labels = n;
		p->labels_cap = nc;
	}
	if (p->pool_len + len > p->pool_cap) {
		size_t nc = p->pool_cap ? p->pool_cap : 256;
		while (nc < p->pool_len + len)
			nc *= 2;
		void *n = realloc(p->pool, nc);
		if (!n)
			return -1;
		p->pool = n;
		p->pool_cap = nc;
	}
	struct xfr_label *l = &p->labels[p->n_labels];
	l->off = off;
	l->pool = (uint16_t)p->pool_len;
	l->len = len;
	l->next = XL_NONE;
	memcpy(p->pool + p->pool_len, label, len);
	p->pool_len += len;
	if (p->nm.prev != XL_NONE)
		p->labels[p->nm.prev].next = (uint16_t)p->n_labels;
	p->nm.prev = (uint16_t)p->n_labels;
	p->n_labels++;
	return 0;
}

/* Entries are added in stream order, so their offsets ascend. */
static long label_find(const struct xfr_parser *p, uint16_t off)
{
	size_t lo = 0, hi = p->n_labels;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (p->labels[mid].off == off)
			return (long)mid;
		if (p->labels[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* ---- the name machine: a label at a time ---------------------------- */

static void name_start(struct xfr_parser *p)
{
	p->nm.len = 0;
	p->nm.start = p->msg_pos;
	p->nm.prev = XL_NONE;
	p->nm.state = N_LEN;
}

/* The octets of a label, as many as are at hand (k, at most what the label
 * still lacks): copied in one go, not one octet per step. */
static int name_label(struct xfr_parser *p, const uint8_t *d, size_t k)
{
	struct xfr_name *n = &p->nm;
	memcpy(n->buf + n->len + 1 + n->label_have, d, k);
	n->label_have = (uint8_t)(n->label_have + k);
	if (n->label_have == n->label_len) {
		if (label_add(p, n->label_off, n->buf + n->len + 1, n->label_len) < 0)
			return fail(p, "too many names in one message", NULL), -1;
		n->len += 1 + n->label_len;
		n->state = N_LEN;
	}
	return 0;
}

/* How many octets the name machine takes in its next step: the rest of a
 * label, or one (a length octet, the second octet of a pointer). */
static size_t name_step(const struct xfr_parser *p)
{
	return p->nm.state == N_LABEL ? (size_t)(p->nm.label_len - p->nm.label_have) : 1;
}

/* Returns 1 when the name is complete, 0 for more, -1 on error. */
static int name_octet(struct xfr_parser *p, uint8_t b, uint16_t off)
{
	struct xfr_name *n = &p->nm;
	switch (n->state) {
	case N_LEN:
		if (b == 0) {
			n->buf[n->len++] = 0;
			if (n->prev != XL_NONE)
				p->labels[n->prev].next = XL_END;
			return 1;
		}
		if ((b & 0xC0) == 0xC0) {
			n->ptr_hi = b & 0x3F;
			n->state = N_PTR;
			return 0;
		}
		if (b & 0xC0)
			return fail(p, "label of a reserved type", NULL), -1;
		if (n->len + 1 + b + 1 > NAME_MAXLEN)
			return fail(p, "name longer than 255 octets", NULL), -1;
		n->buf[n->len] = b;
		n->label_len = b;
		n->label_have = 0;
		n->label_off = off;
		n->state = N_LABEL;
		return 0;
	case N_LABEL:
		return name_label(p, &b, 1);
	case N_PTR: {
		uint16_t target = (uint16_t)((n->ptr_hi << 8) | b);
		/* Only backwards, before this name: that also rules out loops. */
		if (target >= n->start)
			return fail(p, "compression pointer that does not point backwards", NULL), -1;
		long e = label_find(p, target);
		if (e < 0)
			return fail(p, "compression pointer to an offset where no name starts", NULL), -1;
		if (n->prev != XL_NONE)
			p->labels[n->prev].next = (uint16_t)e;
		/* Copy the rest of the name from the labels already seen;
		 * each hop goes to an earlier name, so the walk ends. */
		while (e != XL_END) {
			const struct xfr_label *l = &p->labels[e];
			if (n->len + 1 + l->len + 1 > NAME_MAXLEN)
				return fail(p, "name longer than 255 octets", NULL), -1;
			n->buf[n->len] = l->len;
			memcpy(n->buf + n->len + 1, p->pool + l->pool, l->len);
			n->len += 1 + l->len;
			if (l->next == XL_NONE)
				return fail(p, "compression pointer into an unfinished name", NULL), -1;
			e = l->next;
		}
		n->buf[n->len++] = 0;
		return 1;
	}
	}
	return -1;
}

/* The name machine over the avail (>= 1) octets at d, which start at
 * message offset off; *used says how many it took.  It goes on while the
 * octets last (names mostly come within one read), a label's octets at
 * once, until the name ends or the octets run out inside it. */
static int name_take(struct xfr_parser *p, const uint8_t *d, size_t avail, uint16_t off, size_t *used)
{
	size_t k = 0;
	int r = 0;
	while (r == 0 && k < avail) {
		if (p->nm.state == N_LABEL) {
			size_t m = name_step(p);
			m = m < avail - k ? m : avail - k;
			r = name_label(p, d + k, m);
			k += m;
			if (p->nm.state == N_LABEL)
				break; /* the label goes on in the next read */
		} else {
			r = name_octet(p, d[k], (uint16_t)(off + k));
			k++;
		}
	}
	*used = k;
	return r;
}

/* ---- records ------------------------------------------------------- */

static void emit(struct xfr_parser *p, const uint8_t *d, size_t n)
{
	if (p->keep && zb_rdata(p->zb, d, n) < 0) {
		fail(p, "%s", p->zb->err);
		return;
	}
	if (p->is_soa) {
		if (p->soa_have + n > sizeof(p->soa)) {
			fail(p, "SOA RDATA too long", NULL);
			return;
		}
		/* The first SOA is kept; the final one is compared with it;
		 * the SOAs inside IXFR differences go to a scratch copy. */
		if (p->soa_role == SOA_FIRST)
			memcpy(p->soa + p->soa_have, d, n);
		else if (p->soa_role == SOA_FINAL)
			p->soa_differs |= memcmp(p->soa + p->soa_have, d, n) != 0;
		else
			memcpy(p->soa2 + p->soa_have, d, n);
		p->soa_have = (uint16_t)(p->soa_have + n);
	}
}

/* Move on after a question or record: to the next one, to the next
 * message, or to the end of the transfer. */
static int next_item(struct xfr_parser *p)
{
	if (p->left)
		p->left--;
	while (p->left == 0 && p->section < 3) {
		p->section++;
		p->left = p->counts[p->section];
	}
	if (p->left) {
		p->state = p->section == 0 ? S_QNAME : S_OWNER;
		name_start(p);
		/* The last record of a message may be its TSIG, whose octets
		 * are not part of the digest: hold them until its type shows. */
		p->withhold = p->ts && p->section == 3 && p->left == 1;
		p->held_len = 0;
		return XFR_MORE;
	}
	if (p->msg_pos != p->msg_len)
		return fail(p, "octets after the last record: the counts do not match", NULL);
	if (p->rcode) {
		if (p->have_tsig && p->tsig.error)
			return fail(p, "primary answered %s", tsig_rcode_text(p->tsig.error));
		return fail(p, "primary answered %s", rcode_name(p->rcode));
	}
	if (p->ts) {
		int st = tsig_stream_end(p->ts, p->have_tsig ? &p->tsig : NULL, p->now);
		if (st < 0 && st != TSIG_EPEER)
			return fail(p, "TSIG: %s", tsig_strerror(st));
		if (st == TSIG_EPEER)
			return fail(p, "primary answered TSIG error %s", tsig_rcode_text(p->tsig.error));
		if (p->final_soa && tsig_stream_finish(p->ts) != TSIG_OK)
			return fail(p, "TSIG: the last message is not signed", NULL);
	}
	p->have_tsig = 0;
	/* RFC 1995 4: a lone SOA with our serial says we are current. */
	if (p->mode == M_IXFR_FIRST && p->soa_seen && p->serial == p->have_serial)
		p->uptodate = p->final_soa = 1;
	if (p->final_soa) {
		p->state = S_DONE;
		return XFR_DONE;
	}
	p->state = S_LEN;
	return XFR_MORE;
}

static int header(struct xfr_parser *p)
{
	const uint8_t *h = p->fix;
	uint16_t id = get16(h), flags = get16(h + 2);
	char num[16];
	if (id != p->id) {
		snprintf(num, sizeof(num), "%u", (unsigned)id);
		return fail(p, "message ID %s does not match the query's", num);
	}
	if (!(flags & 0x8000))
		return fail(p, "not a response (QR clear)", NULL);
	if (((flags >> 11) & 0xF) != 0)
		return fail(p, "response with an opcode other than QUERY", NULL);
	if (flags & 0x0200)
		return fail(p, "truncated response (TC set)", NULL);
	for (int i = 0; i < 4; i++)
		p->counts[i] = get16(h + 4 + 2 * i);
	if (flags & 0xF) {
		/* Read on to the end, for a TSIG error (BADKEY, BADSIG...)
		 * that says more; records of an error answer are not data. */
		p->rcode = flags & 0xF;
		if (!p->ts || p->counts[1] || p->counts[2])
			return fail(p, "primary answered %s", rcode_name(flags & 0xF));
	}
	if (p->ts && tsig_stream_begin(p->ts, h) < 0)
		return fail(p, "TSIG: out of memory", NULL);
	if (p->counts[0] > 1)
		return fail(p, "more than one question", NULL);
	/* A fresh message: compression pointers only reach inside it. */
	p->n_labels = 0;
	p->pool_len = 0;
	p->section = 0;
	p->left = p->counts[0] + 1; /* next_item() takes one off */
	return next_item(p);
}

static int question(struct xfr_parser *p)
{
	uint16_t qtype = get16(p->fix), qclass = get16(p->fix + 2);
	if (!name_equal(p->nm.buf, p->apex) || qtype != p->qtype || qclass != C_IN)
		return fail(p, "question does not match the query", NULL);
	return next_item(p);
}

/* The first record of an IXFR answer was not followed by an SOA: the
 * answer is a whole zone (RFC 1995 4), which starts with that first SOA. */
static int ixfr_is_axfr(struct xfr_parser *p)
{
	p->mode = M_AXFR;
	p->zb->ignore_old = 1;
	p->zb->op = ZB_ADD;
	p->zb->seq = 0;
	if (zb_begin(p->zb, p->apex, T_SOA, p->soa_ttl) < 0 ||
	    zb_rdata(p->zb, p->soa, p->soa_len) < 0 || zb_end(p->zb) < 0)
		return fail(p, "%s", p->zb->err);
	return XFR_MORE;
}

static int record_start(struct xfr_parser *p)
{
	p->type = get16(p->fix);
	p->rclass = get16(p->fix + 2);
	p->ttl = get32(p->fix + 4);
	p->rd_left = get16(p->fix + 8);
	p->rdlen = p->rd_left;
	/* RFC 2181 8: a TTL with the top bit set is taken as zero. */
	if (p->ttl & 0x80000000u)
		p->ttl = 0;
	p->keep = 0;
	p->is_soa = 0;
	p->field = 0;
	p->fix_left = 0;
	p->in_name = R_START;
	p->is_tsig = 0;
	if (p->withhold) {
		if (p->type == T_TSIG) {
			p->is_tsig = 1; /* keep holding: its RDATA is read at the end */
		} else {
			tsig_stream_data(p->ts, p->held, p->held_len);
			p->withhold = 0;
		}
	} else if (p->type == T_TSIG) {
		return fail(p, "TSIG record that is not the last one", NULL);
	}
	if (p->section == 1) {
		const struct rrtype *d = rrtype_get(p->type);
		int apex_soa = p->type == T_SOA && name_equal(p->owner, p->apex);
		int store = 1;
		if (p->final_soa)
			return fail(p, "records after the final SOA", NULL);
		if (!p->soa_seen && !apex_soa)
			return fail(p, "transfer does not start with the zone's SOA", NULL);
		if (name_in_zone(p->owner, p->apex) < 0) {
			char t[NAME_TEXT_MAX];
			name_to_text(p->owner, t, sizeof(t));
			return fail(p, "record outside the zone: %.100s", t);
		}
		if (d->flags & RRT_META)
			return fail(p, "meta type in the answer section", NULL);
		if (apex_soa) {
			p->is_soa = 1;
			p->soa_have = 0;
		}
		if (!p->soa_seen) {
			p->soa_role = SOA_FIRST;
			p->soa_ttl = p->ttl;
			store = p->mode == M_AXFR; /* IXFR: only once we know the form */
		} else if (p->mode == M_IXFR_FIRST) {
			if (apex_soa) { /* differences follow: this SOA is the old one */
				p->mode = M_IXFR_DEL;
				p->soa_role = SOA_DEL;
				p->zb->op = ZB_DEL;
				p->zb->seq = 1;
				p->incremental = 1;
			} else if (ixfr_is_axfr(p) == XFR_FAIL) {
				return XFR_FAIL;
			}
		} else if (p->mode == M_IXFR_DEL && apex_soa) {
			p->mode = M_IXFR_ADD;
			p->soa_role = SOA_ADD;
			p->zb->op = ZB_ADD;
		} else if (p->mode == M_IXFR_ADD && apex_soa) {
			if (p->cur_serial == p->serial) {
				p->soa_role = SOA_FINAL;
			} else { /* the next difference */
				p->mode = M_IXFR_DEL;
				p->soa_role = SOA_DEL;
				p->zb->op = ZB_DEL;
				p->zb->seq++;
			}
		} else if (p->mode == M_AXFR && apex_soa) {
			p->soa_role = SOA_FINAL;
		}
		if (p->is_soa && p->soa_role == SOA_FINAL) {
			p->final_soa = 1;
			p->soa_differs = 0;
			store = 0;
		}
		if (++p->records > p->max_records && p->max_records)
			return fail(p, "transfer has more records than xfr-max-records", NULL);
		if (p->rclass != C_IN)
			p->dropped_class++;
		else if (p->strip_dnssec && (d->flags & RRT_DNSSEC))
			p->dropped_dnssec++;
		else if (store)
			p->keep = 1;
		if (p->keep && zb_begin(p->zb, p->owner, p->type, p->ttl) < 0)
			return fail(p, "%s", p->zb->err);
	}
	p->state = S_RDATA;
	return XFR_MORE;
}

static int record_end(struct xfr_parser *p)
{
	char a[16], b[16];
	if (p->keep && zb_end(p->zb) < 0)
		return fail(p, "%s", p->zb->err);
	if (p->is_tsig) {
		size_t rdlen = get16(p->held + p->held_len - p->rdlen - 2);
		if (rdlen != p->rdlen ||
		    tsig_rr_parse(p->owner, p->held + p->held_len - rdlen, rdlen, &p->tsig) < 0)
			return fail(p, "malformed TSIG record", NULL);
		p->have_tsig = 1;
		p->withhold = 0;
	}
	if (!p->is_soa)
		return next_item(p);
	if (p->soa_have < 20)
		return fail(p, "SOA RDATA too short", NULL);
	uint32_t serial = get32((p->soa_role == SOA_DEL || p->soa_role == SOA_ADD ? p->soa2 : p->soa) +
				p->soa_have - 20);
	switch (p->soa_role) {
	case SOA_FIRST:
		p->soa_seen = 1;
		p->soa_len = p->soa_have;
		p->serial = serial;
		if (p->mode == M_IXFR_FIRST && serial_newer(p->have_serial, serial)) {
			snprintf(a, sizeof(a), "%lu", (unsigned long)serial);
			return fail(p, "primary offers serial %s, older than ours", a);
		}
		break;
	case SOA_FINAL:
		if (p->soa_have != p->soa_len || p->soa_differs)
			return fail(p, "the final SOA differs from the first", NULL);
		break;
	case SOA_DEL: /* each difference starts where the last one ended */
		if (serial != p->cur_serial) {
			char w[48];
			snprintf(a, sizeof(a), "%lu", (unsigned long)serial);
			snprintf(b, sizeof(b), "%lu", (unsigned long)p->cur_serial);
			snprintf(w, sizeof(w), "%s where %s", a, b);
			return fail(p, "IXFR serial chain broken: a difference from %s was expected", w);
		}
		break;
	case SOA_ADD:
		if (!serial_newer(serial, p->cur_serial))
			return fail(p, "IXFR difference does not move the serial forward", NULL);
		p->cur_serial = serial;
		break;
	}
	return next_item(p);
}

/* Start the next RDATA field, or end the record. */
static int field_start(struct xfr_parser *p)
{
	const struct rrtype *d = rrtype_get(p->type);
	uint8_t f = p->field < sizeof(d->fields) ? d->fields[p->field] : RD_END;
	if (p->section != 1)
		f = RD_REST; /* authority and additional: not zone data */
	if (f == RD_END) {
		if (p->rd_left)
			return fail(p, "RDATA longer than its type allows", NULL);
		return record_end(p);
	}
	if (f & 0x80) {
		p->fix_left = f & 0x7F;
		if (p->fix_left > p->rd_left)
			return fail(p, "RDATA shorter than its type needs", NULL);
		p->in_name = R_RAW;
	} else if (f == RD_NAME_C || f == RD_NAME_D || f == RD_NAME_U) {
		name_start(p);
		p->in_name = R_NAME;
	} else if (f == RD_STR || f == RD_STRS) {
		if (p->rd_left == 0)
			return fail(p, "RDATA shorter than its type needs", NULL);
		p->in_name = R_STRLEN;
	} else { /* RD_REST */
		p->fix_left = p->rd_left;
		p->in_name = R_RAW;
		if (p->fix_left == 0) {
			p->field = sizeof(d->fields);
			return record_end(p);
		}
	}
	return XFR_MORE;
}

static int field_end(struct xfr_parser *p)
{
	const struct rrtype *d = rrtype_get(p->type);
	if (p->section == 1 && d->fields[p->field] == RD_STRS && p->rd_left)
		p->in_name = R_STRLEN; /* more strings */
	else {
		p->field = p->section == 1 ? p->field + 1 : sizeof(d->fields);
		p->in_name = R_START;
	}
	return XFR_MORE;
}

/* ---- the driver ---------------------------------------------------- */

/* How many octets the next step takes at most. */
static size_t step_size(const struct xfr_parser *p)
{
	switch (p->state) {
	case S_HDR: return 12 - p->have;
	case S_QFIX: return 4 - p->have;
	case S_RRFIX: return 10 - p->have;
	case S_QNAME:
	case S_OWNER: return name_step(p);
	case S_RDATA:
		return p->in_name == R_START ? 0
		       : p->in_name == R_RAW ? p->fix_left
		       : p->in_name == R_NAME ? name_step(p) : 1;
	default: return 1;
	}
}

static int gather(struct xfr_parser *p, const uint8_t *d, size_t avail, unsigned need, size_t *used)
{
	size_t n = need - p->have;
	if (n > avail)
		n = avail;
	memcpy(p->fix + p->have, d, n);
	p->have += (unsigned)n;
	p->msg_pos = (uint16_t)(p->msg_pos + n);
	*used = n;
	if (p->have < need)
		return 0;
	p->have = 0;
	return 1;
}

int xfr_feed(struct xfr_parser *p, const uint8_t *data, size_t len)
{
	size_t i = 0;
	p->bytes += len;
	if (p->max_bytes && p->bytes > p->max_bytes && p->state != S_FAIL)
		return fail(p, "transfer larger than xfr-max-size", NULL);
	while (i < len) {
		if (p->state == S_FAIL)
			return XFR_FAIL;
		if (p->state == S_DONE)
			return fail(p, "data after the end of the transfer", NULL);
		if (p->state == S_LEN) {
			p->fix[p->have++] = data[i++];
			if (p->have == 2) {
				p->have = 0;
				p->msg_len = get16(p->fix);
				p->msg_pos = 0;
				p->msgs++;
				p->state = S_HDR;
				if (p->msg_len < 12)
					return fail(p, "message shorter than a header", NULL);
			}
			continue;
		}
		size_t avail = len - i, used = 0;
		if (avail > (size_t)(p->msg_len - p->msg_pos))
			avail = p->msg_len - p->msg_pos;
		if (avail == 0)
			return fail(p, "record runs past the end of the message", NULL);
		/* Every octet of a message after its header goes to the TSIG
		 * digest before it is parsed, but those of a possible TSIG
		 * record, held back until record_start() knows its type.  A
		 * name may take more octets in one step than step_size() (its
		 * whole labels at hand): those go to the digest after it,
		 * held ones are taken a step at a time. */
		int naming = p->state == S_QNAME || p->state == S_OWNER ||
			     (p->state == S_RDATA && p->in_name == R_NAME);
		int late = p->ts && naming && !p->withhold;
		if (p->ts && p->state != S_HDR && !late) {
			size_t n = step_size(p);
			n = n < avail ? n : avail;
			if (naming)
				avail = n;
			if (!p->withhold) {
				tsig_stream_data(p->ts, data + i, n);
			} else {
				if (p->held_len + n > sizeof(p->held))
					return fail(p, "TSIG record too long", NULL);
				memcpy(p->held + p->held_len, data + i, n);
				p->held_len += n;
			}
		}
		int rc = XFR_MORE;
		switch (p->state) {
		case S_HDR:
			/* the header goes to the digest in header() */
			if (gather(p, data + i, avail, 12, &used))
				rc = header(p);
			break;
		case S_QFIX:
			if (gather(p, data + i, avail, 4, &used))
				rc = question(p);
			break;
		case S_RRFIX:
			if (gather(p, data + i, avail, 10, &used))
				rc = record_start(p);
			break;
		case S_QNAME:
		case S_OWNER: {
			int r = name_take(p, data + i, avail, p->msg_pos, &used);
			p->msg_pos = (uint16_t)(p->msg_pos + used);
			if (r < 0)
				return XFR_FAIL;
			if (r == 1) {
				if (p->state == S_QNAME) {
					p->state = S_QFIX;
				} else {
					memcpy(p->owner, p->nm.buf, p->nm.len);
					p->state = S_RRFIX;
				}
			}
			break;
		}
		case S_RDATA:
			switch (p->in_name) {
			case R_START:
				rc = field_start(p);
				break;
			case R_RAW:
				used = avail < p->fix_left ? avail : p->fix_left;
				emit(p, data + i, used);
				p->msg_pos = (uint16_t)(p->msg_pos + used);
				p->fix_left = (uint16_t)(p->fix_left - used);
				p->rd_left = (uint16_t)(p->rd_left - used);
				if (p->state != S_FAIL && p->fix_left == 0)
					rc = field_end(p);
				break;
			case R_STRLEN: {
				uint8_t b = data[i];
				used = 1;
				p->msg_pos++;
				p->rd_left--;
				emit(p, &b, 1);
				if (p->state == S_FAIL)
					return XFR_FAIL;
				if (b > p->rd_left)
					return fail(p, "character-string runs past the RDATA", NULL);
				p->fix_left = b;
				p->in_name = b ? R_RAW : R_START;
				if (!b)
					rc = field_end(p);
				break;
			}
			case R_NAME: {
				if (p->rd_left == 0)
					return fail(p, "name runs past the RDATA", NULL);
				int r = name_take(p, data + i, avail < p->rd_left ? avail : p->rd_left,
						  p->msg_pos, &used);
				p->msg_pos = (uint16_t)(p->msg_pos + used);
				p->rd_left = (uint16_t)(p->rd_left - used);
				if (r < 0)
					return XFR_FAIL;
				if (r == 1) {
					emit(p, p->nm.buf, p->nm.len);
					rc = field_end(p);
				}
				break;
			}
			}
			break;
		}
		if (late)
			tsig_stream_data(p->ts, data + i, used);
		i += used;
		if (p->state == S_FAIL)
			return XFR_FAIL;
		if (rc == XFR_FAIL)
			return XFR_FAIL;
		/* An RDATA state reached at the very end of a message (an empty
		 * RDATA, the last field done) must still close its record. */
		while (p->state == S_RDATA && p->in_name == R_START && p->msg_pos == p->msg_len) {
			rc = field_start(p);
			if (rc == XFR_FAIL)
				return XFR_FAIL;
			if (p->in_name != R_START)
				break;
		}
		/* The message is used up but its records are not. */
		if (p->msg_pos == p->msg_len && p->state != S_LEN && p->state != S_DONE)
			return fail(p, "record runs past the end of the message", NULL);
		if (rc == XFR_DONE && i < len)
			return fail(p, "data after the end of the transfer", NULL);
	}
	if (p->state == S_DONE)
		return XFR_DONE;
	return p->state == S_FAIL ? XFR_FAIL : XFR_MORE;
}

int xfr_end(struct xfr_parser *p)
{
	if (p->state == S_DONE)
		return XFR_DONE;
	if (p->state != S_FAIL) {
		if (!p->soa_seen)
			fail(p, "connection closed before the first SOA", NULL);
		else
			fail(p, "connection closed before the final SOA", NULL);
	}
	return XFR_FAIL;
}

size_t xfr_make_query(uint8_t *buf, size_t cap, uint16_t id, const uint8_t *name, uint16_t type)
{
	struct builder b;
	bld_init(&b, buf, cap);
	bld_u16(&b, id);
	bld_u16(&b, 0); /* QUERY, no flags: RD clear, we ask an authority */
	bld_u16(&b, 1);
	bld_u16(&b, 0);
	bld_u16(&b, 0);
	bld_u16(&b, 0);
	bld_name(&b, name, 0);
	bld_u16(&b, type);
	bld_u16(&b, C_IN);
	return b.err ? 0 : b.len;
}

size_t xfr_make_ixfr_query(uint8_t *buf, size_t cap, uint16_t id, const struct zone *have)
{
	/* RFC 1995 3: the authority section holds the SOA we have. */
	const struct zone_rrset *soa = zone_rrset(have, 0, T_SOA);
	size_t n = xfr_make_query(buf, cap, id, have->apex, T_IXFR);
	if (!n || !soa)
		return 0;
	struct builder b;
	bld_init(&b, buf, cap);
	b.len = n;
	const uint8_t *rd = zone_rdata(have, soa);
	bld_u16(&b, 0xC00C); /* the apex, as in the question */
	bld_u16(&b, T_SOA);
	bld_u16(&b, C_IN);
	bld_u32(&b, soa->ttl);
	bld_u16(&b, (uint16_t)rdata_len(rd));
	bld_bytes(&b, rd + 2, rdata_len(rd));
	if (b.err)
		return 0;
	put16(buf + 8, 1); /* NSCOUNT */
	return b.len;
}
