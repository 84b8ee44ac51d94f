/* The message builder (the cursor is all inline in wire.h). */
#include "wire.h"

#include <string.h>

void bld_init(struct builder *b, uint8_t *buf, size_t cap)
{
	b->buf = buf;
	b->cap = cap;
	b->len = 0;
	b->err = 0;
	b->n_comp = 0;
	b->qname = NULL;
	b->qname_off = 0;
}

void bld_remember(struct builder *b, size_t off)
{
	if (b->n_comp < BUILDER_COMP_MAX && off < 0x4000)
		b->comp[b->n_comp++] = (uint16_t)off;
}

static inline uint8_t lc(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* Does the name written at off in our own output equal name?  The output
 * holds only names we wrote, whose pointers go backwards; the hop count
 * bounds the walk all the same. */
static int out_equal(const struct builder *b, size_t off, const uint8_t *name)
{
	unsigned hops = 0;
	for (;;) {
		if (off >= b->len)
			return 0;
		uint8_t l = b->buf[off];
		if ((l & 0xC0) == 0xC0) {
			if (++hops > 127 || off + 1 >= b->len)
				return 0;
			off = ((size_t)(l & 0x3F) << 8) | b->buf[off + 1];
			continue;
		}
		if (l != *name)
			return 0;
		if (l == 0)
			return 1;
		if (off + 1 + l > b->len)
			return 0;
		for (uint8_t i = 1; i <= l; i++)
			if (lc(b->buf[off + i]) != lc(name[i]))
				return 0;
		off += 1 + (size_t)l;
		name += 1 + l;
	}
}

void bld_name(struct builder *b, const uint8_t *name, int compress)
{
	const uint8_t *p = name;
	size_t match = 0;
	int found = 0;

	if (compress && name == b->qname) {
		if (b->err || b->cap - b->len < 2) {
			b->err = 1;
			return;
		}
		b->buf[b->len++] = (uint8_t)(0xC0 | (b->qname_off >> 8));
		b->buf[b->len++] = (uint8_t)b->qname_off;
		return;
	}
	if (compress) {
		/* The longest suffix already in the message wins: try suffixes
		 * from the whole name down to one label. */
		for (; *p; p += 1 + *p) {
			for (unsigned i = 0; i < b->n_comp; i++) {
				/* Cheap test first: the same label length and
				 * first octet (any case). */
				const uint8_t *o = b->buf + b->comp[i];
				if (o[0] != p[0] || lc(o[1]) != lc(p[1]))
					continue;
				if (out_equal(b, b->comp[i], p)) {
					match = b->comp[i];
					found = 1;
					break;
				}
			}
			if (found)
				break;
		}
	} else {
		p = name + name_len_inline(name) - 1;
	}
	size_t prefix = (size_t)(p - name);
	if (b->err || b->cap - b->len < prefix + (found ? 2 : 1)) {
		b->err = 1;
		return;
	}
	/* Remember where each new label starts, for the names that follow. */
	if (compress)
		for (const uint8_t *q = name; q < p; q += 1 + *q)
			bld_remember(b, b->len + (size_t)(q - name));
	memcpy(b->buf + b->len, name, prefix);
	b->len += prefix;
	if (found) {
		b->buf[b->len++] = (uint8_t)(0xC0 | (match >> 8));
		b->buf[b->len++] = (uint8_t)match;
	} else {
		b->buf[b->len++] = 0;
	}
}
