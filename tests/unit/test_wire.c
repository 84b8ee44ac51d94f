/* The cursor and the builder. */
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
}
