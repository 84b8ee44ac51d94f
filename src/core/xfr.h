/* The zone transfer stream parser (AXFR, RFC 5936).
 *
 * Fed the TCP byte stream in chunks of any size, down to one octet, it
 * checks every message and hands the records to a zone builder.  It never
 * holds a whole message: what it keeps is the record being parsed (one name
 * and a few fixed fields) and, per message, the labels of the names it has
 * seen, indexed by their offset, so that a compression pointer (which can
 * only point backwards, to a name already parsed) is resolved from them.
 * Those labels come from the names themselves, so they take at most as many
 * octets as the message's names; the index is reset with every message.
 * The same parser reads IXFR answers (RFC 1995), whose differences go to the
 * builder as deletions and additions to replay on the old version. */
#ifndef ICBIND_XFR_H
#define ICBIND_XFR_H

#include <stddef.h>
#include <stdint.h>

#include "limits.h"
#include "name.h"
#include "tsig.h"
#include "zonebuilder.h"

enum { XFR_MORE = 0, XFR_DONE = 1, XFR_FAIL = -1 };
enum { M_AXFR, M_IXFR_FIRST, M_IXFR_DEL, M_IXFR_ADD };

struct xfr_label {
	uint16_t off;   /* offset of the label in its message */
	uint16_t pool;  /* its octets in the label pool */
	uint16_t next;  /* index of the rest of the name, or XL_END */
	uint8_t len;
};

struct xfr_name {
	uint8_t buf[NAME_MAXLEN];
	uint16_t len;
	uint16_t start;     /* message offset of the first octet */
	uint16_t label_off;
	uint16_t prev;      /* label entry to link to what follows */
	uint8_t state, label_len, label_have, ptr_hi;
};

struct xfr_parser {
	uint8_t apex[NAME_MAXLEN];
	uint16_t id;
	int strip_dnssec;
	struct zone_builder *zb;

	int state;
	uint8_t fix[12];     /* a fixed-size part being gathered */
	unsigned have;
	uint16_t msg_len, msg_pos;
	unsigned section;    /* 0 question, 1 answer, 2 authority, 3 additional */
	uint16_t left;       /* records left in the section */
	uint16_t counts[4];

	struct xfr_name nm;  /* the name being parsed */
	uint8_t owner[NAME_MAXLEN];
	uint16_t type, rclass, rd_left;
	uint32_t ttl;
	unsigned field;      /* index into the type's RDATA fields */
	uint16_t fix_left;   /* octets left of a fixed or string field */
	int in_name, keep, is_soa, final_soa;

	/* The first SOA's RDATA, to compare with the last (RFC 5936 2.2). */
	uint8_t soa[ICB_XFR_SOA_MAX];
	uint16_t soa_len, soa_have;
	int soa_seen, soa_differs, soa_role;
	uint32_t serial;     /* the first SOA's: the version being sent */
	uint32_t soa_ttl;
	uint8_t soa2[ICB_XFR_SOA_MAX]; /* an SOA inside IXFR differences */

	/* IXFR (RFC 1995): the form of the answer, as far as known. */
	uint16_t qtype;
	int mode;
	uint32_t have_serial;  /* the version we asked from */
	uint32_t cur_serial;   /* where the differences have got to */
	int incremental;       /* differences, not a whole zone */
	int uptodate;          /* just our own SOA: nothing to do */
	unsigned rcode;        /* an error rcode the primary answered */

	struct xfr_label *labels;
	size_t n_labels, labels_cap;
	uint8_t *pool;
	size_t pool_len, pool_cap;

	/* TSIG (RFC 8945 5.3.1): the stream verifier, and the last record of
	 * each message held back until it shows whether it is the TSIG. */
	struct tsig_stream *ts;
	uint64_t now;
	int withhold, is_tsig, have_tsig;
	uint16_t rdlen;
	uint8_t held[ICB_XFR_TSIG_HOLD];
	size_t held_len;
	struct tsig_rr tsig;

	unsigned long msgs, records, dropped_class, dropped_dnssec;
	unsigned long long max_bytes;  /* limits on what a primary may send (0: none) */
	unsigned long max_records;
	unsigned long long bytes;
	char err[256];
};

void xfr_init(struct xfr_parser *p, const uint8_t *apex, uint16_t id, struct zone_builder *zb,
	      int strip_dnssec);
void xfr_free(struct xfr_parser *p);

/* Verify every message with this stream verifier (set up with our signed
 * request's MAC); now is the wall-clock time in seconds. */
void xfr_set_tsig(struct xfr_parser *p, struct tsig_stream *ts, uint64_t now);

/* Parse an IXFR answer instead (RFC 1995): have_serial is the version we
 * hold, which the builder must be loaded with (zb_load).  The answer may
 * be differences (p->incremental), a whole zone, or "current" (p->uptodate). */
void xfr_set_ixfr(struct xfr_parser *p, uint32_t have_serial);

/* Consume octets: XFR_MORE (want more), XFR_DONE (the final SOA and its
 * message are in; nothing more may follow) or XFR_FAIL (p->err says why). */
int xfr_feed(struct xfr_parser *p, const uint8_t *data, size_t len);

/* The connection ended: XFR_DONE if the transfer was complete, otherwise
 * XFR_FAIL with the reason. */
int xfr_end(struct xfr_parser *p);

/* Write a query for (name, type, class IN) with id into buf; returns its
 * length or 0 if it does not fit. */
size_t xfr_make_query(uint8_t *buf, size_t cap, uint16_t id, const uint8_t *name, uint16_t type);

/* An IXFR query for the version we have (its SOA goes in the authority
 * section); 0 if it does not fit. */
size_t xfr_make_ixfr_query(uint8_t *buf, size_t cap, uint16_t id, const struct zone *have);

#endif
