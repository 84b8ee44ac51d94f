/* The message builder (the cursor is all inline in wire.h). */
#include "wire.h"

#include <string.h>

#include "name.h"

void bld_init(struct builder *b, uint8_t *buf, size_t cap)
{
	b->buf = buf;
	b->cap = cap;
	b->len = 0;
	b->err = 0;
	b->n_comp = 0;
	b->n_kept = 0;
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
		/* Labels are short: a loop beats a call to memcmp(). Mostly the
		 * same octets; letters in another case (0x20 queries) are
		 * compared again folded. */
		const uint8_t *o = b->buf + off;
		for (uint8_t i = 1; i <= l; i++)
			if (o[i] != name[i] && name_lower_octet(o[i]) != name_lower_octet(name[i]))
				return 0;
		off += 1 + (size_t)l;
		name += 1 + l;
	}
}

static inline void put_pointer(struct builder *b, size_t to)
{
	b->buf[b->len++] = (uint8_t)(0xC0 | (to >> 8));
	b->buf[b->len++] = (uint8_t)to;
}

/* A pointer to the name written at at: a copy of it if that was a pointer
 * itself. */
static void again(struct builder *b, size_t at)
{
	if ((b->buf[at] & 0xC0) == 0xC0) {
		b->buf[b->len] = b->buf[at];
		b->buf[b->len + 1] = b->buf[at + 1];
		b->len += 2;
	} else {
		put_pointer(b, at);
	}
}

static void keep(struct builder *b, const uint8_t *name, size_t at)
{
	if (b->n_kept < BUILDER_KEPT_MAX && at < 0x4000 && !b->err) {
		b->kept[b->n_kept].name = name;
		b->kept[b->n_kept].off = (uint16_t)at;
		b->n_kept++;
	}
}

void bld_name(struct builder *b, const uint8_t *name, int how)
{
	size_t start = b->len;
	/* The root is one octet: never a pointer (it would be two). */
	if (!(how & BLD_COMPRESS) || name[0] == 0) {
		bld_bytes(b, name, name_len_inline(name));
		if ((how & BLD_KEPT) && name[0] != 0)
			keep(b, name, start);
		return;
	}
	if (b->err || b->cap - b->len < 2) {
		b->err = 1;
		return;
	}
	for (unsigned i = 0; i < b->n_kept; i++)
		if (b->kept[i].name == name) {
			again(b, b->kept[i].off);
			return;
		}
	size_t total = name_len_inline(name);

	/* The longest suffix already in the message wins: try suffixes from
	 * the whole name down to one label.  A candidate must have the same
	 * length uncompressed and the same first label length and letter
	 * before it is compared.  The first name (the question) has none. */
	const uint8_t *p = name;
	const struct comp_entry *cand = NULL;
	for (; *p && b->n_comp; p += 1 + *p) {
		uint16_t len = (uint16_t)(total - (size_t)(p - name));
		const struct comp_entry *c = b->comp, *end = b->comp + b->n_comp;
		for (; c < end; c++) {
			const uint8_t *o = b->buf + c->off;
			if (c->len == len && o[0] == p[0] && name_lower_octet(o[1]) == name_lower_octet(p[1]) &&
			    out_equal(b, c->off, p)) {
				cand = c;
				break;
			}
		}
		if (cand)
			break;
	}
	if (!b->n_comp)
		p = name + total - 1; /* the whole name, up to its root octet */
	size_t prefix = (size_t)(p - name);
	if (b->cap - b->len < prefix + (cand ? 2 : 1)) {
		b->err = 1;
		return;
	}
	/* Remember where each new label starts, for the names that follow. */
	for (const uint8_t *q = name; q < p && b->n_comp < BUILDER_COMP_MAX; q += 1 + *q) {
		size_t off = b->len + (size_t)(q - name);
		if (off >= 0x4000)
			break;
		struct comp_entry *c = &b->comp[b->n_comp++];
		c->off = (uint16_t)off;
		c->len = (uint16_t)(total - (size_t)(q - name));
	}
	memcpy(b->buf + b->len, name, prefix);
	b->len += prefix;
	if (cand)
		put_pointer(b, cand->off);
	else
		b->buf[b->len++] = 0;
	if (how & BLD_KEPT)
		keep(b, name, start);
}

void bld_name_again(struct builder *b, size_t at, const uint8_t *name)
{
	if (at >= 0x4000 || at >= b->len || b->buf[at] == 0) {
		bld_name(b, name, BLD_COMPRESS); /* too far for a pointer, or the root */
		return;
	}
	if (b->err || b->cap - b->len < 2) {
		b->err = 1;
		return;
	}
	again(b, at);
}
