/* The wire cursor and the message builder.
 *
 * Every untrusted byte is read through struct cursor.  A read past the end
 * returns zero and sets a sticky error flag, so a caller checks once after
 * a group of reads instead of after each one.  Integers are assembled byte
 * by byte: no casts of the buffer to wider types, which would fault on an
 * unaligned address on the lx106. */
#ifndef ICBIND_WIRE_H
#define ICBIND_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "limits.h" /* BUILDER_COMP_MAX */

struct cursor {
	const uint8_t *buf; /* the whole message: compression pointers index it */
	size_t len;
	size_t pos;
	int err;
};

static inline void cur_init(struct cursor *c, const uint8_t *buf, size_t len)
{
	c->buf = buf;
	c->len = len;
	c->pos = 0;
	c->err = 0;
}

static inline size_t cur_left(const struct cursor *c)
{
	return c->err ? 0 : c->len - c->pos;
}

static inline int cur_need(struct cursor *c, size_t n)
{
	if (c->err || c->len - c->pos < n) {
		c->err = 1;
		return 0;
	}
	return 1;
}

static inline uint8_t cur_u8(struct cursor *c)
{
	if (!cur_need(c, 1))
		return 0;
	return c->buf[c->pos++];
}

static inline uint16_t cur_u16(struct cursor *c)
{
	if (!cur_need(c, 2))
		return 0;
	uint16_t v = (uint16_t)((c->buf[c->pos] << 8) | c->buf[c->pos + 1]);
	c->pos += 2;
	return v;
}

static inline uint32_t cur_u32(struct cursor *c)
{
	if (!cur_need(c, 4))
		return 0;
	const uint8_t *p = c->buf + c->pos;
	c->pos += 4;
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

/* Pointer to the next n bytes, or NULL (and the error flag) if fewer remain. */
static inline const uint8_t *cur_take(struct cursor *c, size_t n)
{
	if (!cur_need(c, n))
		return NULL;
	const uint8_t *p = c->buf + c->pos;
	c->pos += n;
	return p;
}

static inline void cur_skip(struct cursor *c, size_t n)
{
	(void)cur_take(c, n);
}

/* Big-endian stores into a buffer the caller has sized. */
static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

/* Length of an uncompressed, already validated wire name. */
static inline size_t name_len_inline(const uint8_t *n)
{
	const uint8_t *p = n;
	while (*p)
		p += 1 + *p;
	return (size_t)(p - n) + 1;
}

/* The message builder: a bounded writer with a small compression table.
 * A write that does not fit sets the sticky error flag and writes nothing;
 * callers mark a point, try to write a whole RRset, and roll back to the
 * mark when it did not fit (truncation at an RRset boundary).
 * BUILDER_COMP_MAX: limits.h. */
struct builder {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int err;
	/* Every suffix of the names written so far, for compression (RFC
	 * 1035 4.1.4): where it starts and its length uncompressed (a
	 * candidate of another length is never compared). */
	struct comp_entry {
		uint16_t off;
		uint16_t len;
	} comp[BUILDER_COMP_MAX];
	unsigned n_comp;
	/* Names written from memory that holds still until the message is
	 * done (the question, the zone's names): most names of an answer are
	 * one of them again (the question as owner, an exchange or target as
	 * the owner of its addresses), found by address with no search. */
	struct kept_name {
		const uint8_t *name;
		uint16_t off;
	} kept[BUILDER_KEPT_MAX];
	unsigned n_kept;
};

struct builder_mark {
	size_t len;
	unsigned n_comp, n_kept;
};

void bld_init(struct builder *b, uint8_t *buf, size_t cap);
static inline struct builder_mark bld_mark(const struct builder *b)
{
	struct builder_mark m = { b->len, b->n_comp, b->n_kept };
	return m;
}
static inline void bld_rollback(struct builder *b, struct builder_mark m)
{
	b->len = m.len;
	b->n_comp = m.n_comp;
	b->n_kept = m.n_kept;
	b->err = 0;
}
/* The small writers are inline: they run for every field of every RR. */
static inline void bld_bytes(struct builder *b, const void *p, size_t n)
{
	if (b->err || b->cap - b->len < n) {
		b->err = 1;
		return;
	}
	memcpy(b->buf + b->len, p, n);
	b->len += n;
}

static inline void bld_u8(struct builder *b, uint8_t v)
{
	if (b->err || b->cap - b->len < 1) {
		b->err = 1;
		return;
	}
	b->buf[b->len++] = v;
}

static inline void bld_u16(struct builder *b, uint16_t v)
{
	if (b->err || b->cap - b->len < 2) {
		b->err = 1;
		return;
	}
	put16(b->buf + b->len, v);
	b->len += 2;
}

static inline void bld_u32(struct builder *b, uint32_t v)
{
	if (b->err || b->cap - b->len < 4) {
		b->err = 1;
		return;
	}
	put32(b->buf + b->len, v);
	b->len += 4;
}
/* Write a wire name (trusted: from our store or validated), compressed
 * against the names written before it if BLD_COMPRESS; its suffixes are
 * remembered for the names that follow.  BLD_KEPT: the name's octets stay
 * at this address until the message is done, so it is remembered by
 * address too (a buffer that is written over may not say so). */
enum { BLD_PLAIN = 0, BLD_COMPRESS = 1, BLD_KEPT = 2 };
void bld_name(struct builder *b, const uint8_t *name, int how);
/* Write again the name (compressed) that was written at offset at, e.g.
 * the owner of each RR of an RRset after the first: a copy of its pointer
 * if it was one, else a pointer to it. */
void bld_name_again(struct builder *b, size_t at, const uint8_t *name);

#endif
