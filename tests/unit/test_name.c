/* Names: parsing with compression, hostile names, text form, keys. */
#include <string.h>

#include "core/name.h"
#include "test.h"

static int parse_at(const uint8_t *msg, size_t len, size_t pos, uint8_t *out)
{
	struct cursor c;
	cur_init(&c, msg, len);
	c.pos = pos;
	return name_parse(&c, out, 1);
}

void test_name(void);
void test_name(void)
{
	uint8_t out[NAME_MAXLEN], w[NAME_MAXLEN];
	char t[NAME_TEXT_MAX];

	/* Text and back. */
	CHECK_EQ(name_from_text("www.Example.COM.", w), 17);
	CHECK_EQ(name_to_text(w, t, sizeof(t)), 16);
	CHECK(strcmp(t, "www.Example.COM.") == 0);
	CHECK_EQ(name_from_text(".", w), 1);
	CHECK_EQ(name_from_text("a..b", w), NAME_ETEXT);
	CHECK_EQ(name_from_text("a\\.b.c", w), 7);
	CHECK_EQ(w[0], 3);
	CHECK_EQ(name_from_text("\\065\\000x", w), 5);
	CHECK_EQ(w[2], 0);
	name_to_text(w, t, sizeof(t));
	CHECK(strcmp(t, "A\\000x.") == 0);
	char l64[80];
	memset(l64, 'a', 64);
	l64[64] = 0;
	CHECK_EQ(name_from_text(l64, w), NAME_ELABEL);
	char big[400];
	for (int i = 0; i < 130; i++)
		memcpy(big + 2 * i, "a.", 2);
	big[260] = 0;
	CHECK_EQ(name_from_text(big, w), NAME_ELONG);

	/* A message: "example.com" at 12, "www" + pointer at 25. */
	uint8_t msg[64] = { 0 };
	size_t n = 12;
	memcpy(msg + n, "\7example\3com\0", 13);
	n += 13;
	memcpy(msg + n, "\3www\xC0\x0C", 6);
	n += 6;
	CHECK_EQ(parse_at(msg, n, 25, out), 17);
	name_from_text("www.example.com", w);
	CHECK(name_equal(out, w));
	struct cursor c;
	cur_init(&c, msg, n);
	c.pos = 25;
	name_parse(&c, out, 1);
	CHECK_EQ(c.pos, 31); /* past the pointer, not where it led */
	CHECK_EQ(parse_at(msg, n, 25, out), 17);

	/* Hostile: a pointer to itself, forward, past the end, a loop of two. */
	uint8_t self[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xC0, 12 };
	CHECK_EQ(parse_at(self, sizeof(self), 12, out), NAME_EPTR);
	uint8_t fwd[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xC0, 14, 0 };
	CHECK_EQ(parse_at(fwd, sizeof(fwd), 12, out), NAME_EPTR);
	uint8_t loop2[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 'a', 0xC0, 16, 1, 'b', 0xC0, 12 };
	CHECK(parse_at(loop2, sizeof(loop2), 16, out) < 0);
	CHECK(parse_at(loop2, sizeof(loop2), 12, out) < 0);
	uint8_t trunc[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 'a', 'b' };
	CHECK_EQ(parse_at(trunc, sizeof(trunc), 12, out), NAME_ETRUNC);
	uint8_t halfptr[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xC0 };
	CHECK_EQ(parse_at(halfptr, sizeof(halfptr), 12, out), NAME_ETRUNC);
	uint8_t reserved[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x41, 0 };
	CHECK_EQ(parse_at(reserved, sizeof(reserved), 12, out), NAME_ELABEL);
	/* 256 octets through pointers: each piece fine, the whole too long. */
	uint8_t lng[400] = { 0 };
	size_t p = 12;
	for (int i = 0; i < 4; i++) {
		lng[p] = 62;
		memset(lng + p + 1, 'x', 62);
		p += 63;
	}
	lng[p++] = 0; /* 4*63+1 = 253: fine */
	CHECK_EQ(parse_at(lng, p, 12, out), 253);
	size_t q = p;
	lng[p++] = 2;
	lng[p++] = 'y';
	lng[p++] = 'y';
	lng[p++] = 0xC0;
	lng[p++] = 12;
	CHECK_EQ(parse_at(lng, p, q, out), NAME_ELONG);
	uint8_t comp[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xC0, 12 };
	struct cursor cc;
	cur_init(&cc, comp, sizeof(comp));
	cc.pos = 13;
	CHECK_EQ(name_parse(&cc, out, 0), NAME_ECOMP);

	/* name_check on uncompressed names. */
	CHECK_EQ(name_check((const uint8_t *)"\3www\0", 5), 5);
	CHECK_EQ(name_check((const uint8_t *)"\3www", 4), NAME_ETRUNC);
	CHECK_EQ(name_check((const uint8_t *)"\xC0\x0C", 2), NAME_ECOMP);

	/* Zone membership and case-insensitive equality. */
	uint8_t zone[NAME_MAXLEN], a[NAME_MAXLEN];
	name_from_text("example.com", zone);
	name_from_text("A.b.EXAMPLE.com", a);
	CHECK_EQ(name_in_zone(a, zone), 2);
	CHECK_EQ(name_in_zone(zone, zone), 0);
	name_from_text("notexample.com", a);
	CHECK_EQ(name_in_zone(a, zone), -1);
	name_from_text("com", a);
	CHECK_EQ(name_in_zone(a, zone), -1);

	/* Keys sort canonically (RFC 4034 6.1's example order). */
	static const char *const order[] = {
		"example", "a.example", "yljkjljk.a.example", "Z.a.example",
		"zABC.a.EXAMPLE", "z.example", "\\001.z.example", "*.z.example",
		"\\200.z.example",
	};
	uint8_t prev[NAME_KEY_MAX], key[NAME_KEY_MAX];
	size_t pl = 0;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		name_from_text(order[i], w);
		size_t kl = name_key(w, name_labels(w), key);
		if (i) {
			int cmp = memcmp(prev, key, pl < kl ? pl : kl);
			CHECK(cmp < 0 || (cmp == 0 && pl < kl));
		}
		memcpy(prev, key, kl);
		pl = kl;
		/* And back to the name (lower case). */
		uint8_t root[1] = { 0 }, back[NAME_MAXLEN];
		CHECK(name_from_key(key, kl, root, back) > 0);
		CHECK(name_equal(back, w));
	}
	/* A 0x00 octet in a label must not end the label in the key. */
	name_from_text("a\\000.example", w);
	name_from_text("a.example", a);
	size_t k1 = name_key(w, 2, key), k2 = name_key(a, 2, prev);
	CHECK(memcmp(prev, key, k1 < k2 ? k1 : k2) < 0 || k2 < k1);
}
