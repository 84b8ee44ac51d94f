/* Domain names (RFC 1035 3.1, 4.1.4; RFC 4034 6.1 canonical order).
 *
 * A name is kept in uncompressed wire form, at most 255 octets.  For the
 * zone store a name is also turned into a lookup key: its labels from the
 * root down, each lower-cased, escaped and ended by a 0x00 octet, so that
 * memcmp() on keys gives the canonical order of RFC 4034 section 6.1 and a
 * key of an ancestor is a prefix of the key of every descendant. */
#ifndef ICBIND_NAME_H
#define ICBIND_NAME_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define NAME_MAXLEN   255
#define NAME_MAXLABEL 63
#define NAME_TEXT_MAX 1024 /* 255 octets as \DDD, dots, NUL */
#define NAME_KEY_MAX  512  /* every octet escaped to two, plus terminators */

enum name_err {
	NAME_OK = 0,
	NAME_ETRUNC = -1,   /* runs past the end of the message */
	NAME_ELABEL = -2,   /* label over 63 octets or reserved label type */
	NAME_ELONG = -3,    /* name over 255 octets */
	NAME_EPTR = -4,     /* pointer not strictly backwards (loop, forward) */
	NAME_ECOMP = -5,    /* compression where it is not allowed */
	NAME_ETEXT = -6,    /* bad presentation form */
};

const char *name_strerror(int err);

/* Read a name at the cursor, following compression pointers into the
 * cursor's buffer.  Each pointer must point strictly before the start of the
 * part that contains it, which bounds the walk (no loops).  On success the
 * cursor is past the name as it stands in the message, out holds the
 * uncompressed name and its length is returned; otherwise a negative
 * name_err and the cursor's error flag is set.  allow_comp = 0 rejects
 * pointers (names in RRSIG and NSEC RDATA, RFC 4034 3.1.7, 4.1.1). */
int name_parse(struct cursor *c, uint8_t *out, int allow_comp);

/* Validate a name already in uncompressed wire form in a buffer of len
 * octets; returns its length or a negative name_err. */
int name_check(const uint8_t *name, size_t len);

size_t name_len(const uint8_t *name);
unsigned name_labels(const uint8_t *name);
void name_lower(uint8_t *name);

/* One octet of a name in lower case (ASCII letters only, RFC 4343).
 * Without a branch: the letters of a name are of either case at random
 * when resolvers use 0x20, and a mispredicted branch per octet costs more
 * than these three operations. */
static inline uint8_t name_lower_octet(uint8_t c)
{
	return (uint8_t)(c | ((uint8_t)(c - 'A') < 26) << 5);
}
int name_equal(const uint8_t *a, const uint8_t *b); /* case-insensitive */

/* If name is at or below zone, the number of labels name has in front of
 * zone (0 for the zone itself); otherwise -1. */
int name_in_zone(const uint8_t *name, const uint8_t *zone);

/* Skip n labels from the front. */
const uint8_t *name_skip(const uint8_t *name, unsigned n);

/* Presentation form: "www.example.com." <-> wire.  from_text returns the
 * wire length or a negative name_err; a name without a final dot is taken
 * as absolute. */
int name_from_text(const char *s, uint8_t *out);
int name_to_text(const uint8_t *name, char *out, size_t len);

/* Lookup key of the first `labels` labels of name (the part in front of the
 * zone apex when labels = name_in_zone()), appended in canonical order.
 * Returns the key length. */
size_t name_key(const uint8_t *name, unsigned labels, uint8_t *key);
/* Back from a key relative to apex to a wire name (lower case). */
int name_from_key(const uint8_t *key, size_t klen, const uint8_t *apex, uint8_t *out);

#endif
