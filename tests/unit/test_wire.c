/* The cursor and the builder. */
#include <stdio.h>
#include <string.h>

#include "core/name.h"
#include "core/wire.h"
#include "test.h"

void test_wire(void);
void test_wire(void)
{
	/* Reads past the end give zero and a sticky error. */
	const uint8_t d[5] = { 1, 2, 3, 4, 5 };
	struct cursor c;
	cur_init(&c, d, sizeof(d));
	CHECK_EQ(cur_u16(&c), 0x0102);
	CHECK_EQ(cur_u16(&c), 0x0304);
	CHECK_EQ(cur_u16(&c), 0);
	CHECK(c.err);
	CHECK_EQ(cur_u8(&c), 0); /* sticky: even though one octet is left */
	CHECK_EQ(cur_left(&c), 0);
	/* Unaligned reads are assembled byte by byte. */
	cur_init(&c, d + 1, 4);
	CHECK_EQ(cur_u32(&c), 0x02030405u);
	CHECK(cur_take(&c, 1) == NULL);

	/* The builder compresses suffixes and rolls back cleanly. */
	uint8_t buf[64];
	struct builder b;
	bld_init(&b, buf, sizeof(buf));
	uint8_t n1[NAME_MAXLEN], n2[NAME_MAXLEN];
	name_from_text("www.example.com", n1);
	name_from_text("mail.EXAMPLE.com", n2);
	bld_bytes(&b, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
	bld_name(&b, n1, 1);
	CHECK_EQ(b.len, 12 + 17);
	bld_name(&b, n2, 1);
	CHECK_EQ(b.len, 12 + 17 + 7); /* "mail" + pointer to "example.com" */
	CHECK_EQ(buf[12 + 17 + 5], 0xC0);
	CHECK_EQ(buf[12 + 17 + 6], 16);
	struct builder_mark m = bld_mark(&b);
	bld_name(&b, n1, 1);
	CHECK_EQ(b.len, 12 + 17 + 7 + 2); /* the whole name is a pointer */
	bld_rollback(&b, m);
	CHECK_EQ(b.len, 12 + 17 + 7);
	/* Overflow: nothing written, error set, rollback clears it. */
	m = bld_mark(&b);
	uint8_t big[40] = { 0 };
	bld_bytes(&b, big, sizeof(big));
	CHECK(b.err);
	CHECK_EQ(b.len, 12 + 17 + 7);
	bld_rollback(&b, m);
	CHECK(!b.err);
	bld_name(&b, n1, 0);
	CHECK_EQ(b.len, 12 + 17 + 7 + 17);

	/* Names kept by address: written again, a pointer to where they were
	 * written, also when that was uncompressed (an SRV target, which
	 * leaves no suffixes to find); never once a rollback took the place
	 * back; and a name not kept is not known by its address (a buffer
	 * that is written over). */
	{
		uint8_t msg[256], scratch[NAME_MAXLEN], back[NAME_MAXLEN];
		bld_init(&b, msg, sizeof(msg));
		bld_bytes(&b, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
		bld_name(&b, n1, BLD_PLAIN | BLD_KEPT);
		CHECK_EQ(b.len, 12 + 17);
		bld_name(&b, n1, BLD_COMPRESS | BLD_KEPT);
		CHECK_EQ(b.len, 12 + 17 + 2);
		CHECK(msg[29] == 0xC0 && msg[30] == 12);
		bld_name(&b, n1, BLD_COMPRESS); /* found by address, kept or not */
		CHECK_EQ(b.len, 12 + 17 + 4);
		CHECK(msg[31] == 0xC0 && msg[32] == 12);
		m = bld_mark(&b);
		bld_name(&b, n2, BLD_COMPRESS | BLD_KEPT);
		CHECK_EQ(b.len, 33 + 18); /* nothing to compress against */
		bld_rollback(&b, m);
		bld_name(&b, n2, BLD_COMPRESS | BLD_KEPT);
		CHECK_EQ(b.len, 33 + 18); /* not a pointer to itself */
		memcpy(scratch, n1, name_len(n1));
		bld_name(&b, scratch, BLD_COMPRESS);
		memcpy(scratch, n2, name_len(n2));
		size_t at2 = b.len;
		bld_name(&b, scratch, BLD_COMPRESS);
		CHECK(!b.err);
		cur_init(&c, msg, b.len);
		c.pos = at2;
		CHECK(name_parse(&c, back, 1) > 0 && name_equal(back, n2));
		/* A name written again past the kept ones is found by its
		 * suffixes as before. */
		uint8_t many[BUILDER_KEPT_MAX + 2][NAME_MAXLEN];
		bld_init(&b, msg, sizeof(msg));
		bld_bytes(&b, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
		size_t first_at[BUILDER_KEPT_MAX + 2];
		for (int i = 0; i < BUILDER_KEPT_MAX + 2; i++) {
			char t[32];
			snprintf(t, sizeof(t), "h%d.example.com", i);
			name_from_text(t, many[i]);
			first_at[i] = b.len;
			bld_name(&b, many[i], BLD_COMPRESS | BLD_KEPT);
		}
		for (int i = 0; i < BUILDER_KEPT_MAX + 2; i++) {
			size_t at = b.len;
			bld_name(&b, many[i], BLD_COMPRESS | BLD_KEPT);
			CHECK_EQ(b.len - at, 2);
			CHECK_EQ(((size_t)(msg[at] & 0x3F) << 8) | msg[at + 1], first_at[i]);
		}
		CHECK(!b.err);
	}

	/* Random names from few labels, in either case, written compressed
	 * (and some again with bld_name_again) and read back through the
	 * cursor: each the same name, each as short as the names before it
	 * allow (its longest suffix written before is a pointer). */
	static const char *const labels[] = { "a", "www", "Mail", "example", "COM", "x1", "b" };
	uint32_t seed = 12345;
	unsigned bad = 0, short_bad = 0, names_total = 0;
	for (int round = 0; round < 300; round++) {
		uint8_t msg[1024], names[24][NAME_MAXLEN];
		size_t at[24];
		bld_init(&b, msg, sizeof(msg));
		bld_bytes(&b, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
		int n = 1 + (int)((seed >> 8) % 24);
		for (int i = 0; i < n; i++) {
			char text[128] = "";
			unsigned nl = (seed = seed * 1103515245u + 12345u) >> 16 & 3;
			for (unsigned k = 0; k <= nl; k++) {
				seed = seed * 1103515245u + 12345u;
				strcat(text, labels[(seed >> 16) % 7]);
				strcat(text, ".");
			}
			name_from_text(text, names[i]);
			/* The longest suffix of it among the names before, whole
			 * names and their suffixes (case aside). */
			size_t expect = name_len(names[i]);
			for (const uint8_t *p = names[i]; *p && expect == name_len(names[i]); p += 1 + *p)
				for (int j = 0; j < i; j++)
					for (const uint8_t *q = names[j]; *q; q += 1 + *q)
						if (name_equal(p, q))
							expect = (size_t)(p - names[i]) + 2;
			at[i] = b.len;
			if (i > 0 && name_equal(names[i], names[i - 1]) && (seed & 0x10000)) {
				bld_name_again(&b, at[i - 1], names[i]);
				expect = 2;
			} else {
				/* Half kept by address (all these arrays hold still). */
				bld_name(&b, names[i], (seed & 0x20000) ? BLD_COMPRESS | BLD_KEPT
								      : BLD_COMPRESS);
			}
			short_bad += b.len - at[i] != expect;
		}
		CHECK(!b.err);
		cur_init(&c, msg, b.len);
		cur_take(&c, 12);
		for (int i = 0; i < n; i++) {
			uint8_t back[NAME_MAXLEN];
			bad += name_parse(&c, back, 1) < 0 || !name_equal(back, names[i]);
		}
		names_total += (unsigned)n;
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(short_bad, 0);
	CHECK(names_total > 3000);
}
