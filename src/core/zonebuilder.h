/* Building a zone version from a stream of records (a transfer).
 *
 * Records arrive in any order; the builder keeps them compactly (owner as a
 * lookup key, RDATA uncompressed), and finish() sorts them into canonical
 * order, merges RRsets, drops duplicate RRs (RFC 2181 5), adds the empty
 * non-terminals and lays the result out as one immutable block.  A whole
 * zone in canonical order (what primaries send) is laid out an owner at a
 * time as it arrives instead, while the rest is still on its way. */
#ifndef ICBIND_ZONEBUILDER_H
#define ICBIND_ZONEBUILDER_H

#include <stddef.h>
#include <stdint.h>

#include "zone.h"

struct zb_layout;

struct zone_builder {
	uint8_t apex[NAME_MAXLEN];
	size_t apex_len;
	unsigned apex_labels;
	/* Records (u16 klen, key, u16 type, u32 ttl, u8 op, u32 seq, u16
	 * rdlen, rdata) in chunks of ZB_CHUNK octets, a record never across
	 * two (a bigger one has a chunk of its own); a record's offset is its
	 * chunk's number times ZB_CHUNK plus its place there.  The layout
	 * frees each chunk as soon as its records are laid out, so a
	 * transfer that came in order never holds all of them and the new
	 * version at once. */
	uint8_t **chunk;
	uint32_t *chunk_left; /* records of each chunk not laid out yet */
	size_t n_chunks, chunks_cap;
	size_t fill, last_cap; /* octets used in the last chunk, its size */
	size_t len;         /* octets of records in all (max_bytes) */
	uint32_t *idx;      /* offsets of the records */
	size_t n, idx_cap;
	size_t open;        /* offset of the record being written, or SIZE_MAX */
	size_t max_bytes;   /* 0: no limit */
	const char *err;    /* why the last call failed */
	/* For IXFR (RFC 1995): each record is part of the old zone, or a
	 * deletion or addition of difference number seq. */
	uint8_t op;         /* of the records zb_begin() starts */
	uint32_t seq;
	int ignore_old;     /* the answer was a whole zone after all */
	/* A whole zone (AXFR) of a zone already served (zb_against): a
	 * record the served version holds as it is, is not kept but marked
	 * in seen, a bit per two octets of the version's RDATA. */
	const struct zone *against;
	int compare;        /* records added now are compared (zb_against) */
	uint8_t *seen;
	size_t seen_split;  /* octets of RDATA in the base, before the patch's */
	size_t n_seen;      /* records marked (copies included) */
	/* A whole zone from nothing (its first transfer: a refresh is
	 * compared with the served version instead) that comes in canonical
	 * order, as primaries send it, is laid out as it arrives: each
	 * owner's records once the next owner's start (zb_end), so that
	 * finishing it is short.  Records out of that order put back what was
	 * laid out among the records, to be sorted at the end.  Once records
	 * are laid out, records of another op or seq are refused (the layout
	 * keeps an RRset's TTL, not each record's, which a deletion or a
	 * later difference would need), and a failure to lay out sticks:
	 * every later call fails with it. */
	uint8_t stream;     /* ZB_STREAM_*: decided at the first record */
	struct zb_layout *lay; /* what is laid out so far (ZB_STREAM_ON); idx
				* then holds the owner being gathered only */
};

enum { ZB_STREAM_UNDECIDED = 0, ZB_STREAM_ON = 1, ZB_STREAM_OFF = 2, ZB_STREAM_FAILED = 3 };

enum { ZB_OLD = 0, ZB_DEL = 1, ZB_ADD = 2 };

void zb_init(struct zone_builder *b, const uint8_t *apex, size_t max_bytes);
void zb_free(struct zone_builder *b);

/* Start a record; owner must be at or below the apex.  0 or -1 (b->err). */
int zb_begin(struct zone_builder *b, const uint8_t *owner, uint16_t type, uint32_t ttl);
/* Append RDATA octets (uncompressed) to the open record. */
int zb_rdata(struct zone_builder *b, const void *p, size_t n);
/* Close the record after checking its RDATA against its type. */
int zb_end(struct zone_builder *b);
/* Forget the open record. */
void zb_cancel(struct zone_builder *b);

/* Start from the records of an existing version (for IXFR). */
int zb_load(struct zone_builder *b, const struct zone *z);

/* The whole zone that comes next (op ZB_ADD, seq 0) is compared with
 * version cur as it arrives: what cur already holds is only marked, so
 * that the builder keeps the differences alone (zonepatch.h
 * zb_finish_axfr).  cur must stay until the builder is finished.  0 or -1
 * (b->err). */
int zb_against(struct zone_builder *b, const struct zone *cur);
/* Was the record at rd (its u16 length) of RRset rs of b->against marked? */
int zb_seen(const struct zone_builder *b, const struct zone_rrset *rs, const uint8_t *rd);

/* Build the zone; the builder is empty afterwards.  0 or -1 (b->err). */
int zb_finish(struct zone_builder *b, struct zone **out);

/* The records in canonical order, an RR's copies in the order they came:
 * the old zone, then each difference's deletions before its additions.
 * What was laid out as it came goes back among them first.  0 or -1
 * (b->err). */
int zb_sort(struct zone_builder *b);

/* Record i of the sorted order (valid until the builder changes). */
struct zb_rec {
	const uint8_t *key;  /* lookup key (name.h) */
	size_t klen;
	uint16_t type;
	uint32_t ttl;
	const uint8_t *rd;
	size_t rdlen;
	uint8_t op;          /* ZB_OLD, ZB_DEL or ZB_ADD */
	uint32_t seq;
};
void zb_record(const struct zone_builder *b, size_t i, struct zb_rec *out);

#endif
