/* Catalog zones (RFC 9432): the members read from a catalog zone. */
#include <stdio.h>
#include <string.h>

#include "core/catz.h"
#include "test.h"
#include "testzone.h"

/* Zone listed with this unique label, as the k-th of its entries. */
static int has(const struct catz *c, const char *zone, const char *unique, int k)
{
	uint8_t n[NAME_MAXLEN];
	name_from_text(zone, n);
	for (size_t i = 0; i < c->n; i++)
		if (name_equal(c->m[i].name, n) && k-- == 0)
			return c->m[i].unique[0] == strlen(unique) &&
			       memcmp(c->m[i].unique + 1, unique, strlen(unique)) == 0;
	return 0;
}

static int read_catalog(const char *const *recs, struct catz *c)
{
	memset(c, 0, sizeof(*c));
	struct zone *z = tz_build("cat.example", recs);
	CHECK(z != NULL);
	if (!z)
		return -2;
	int rc = catz_read(z, c);
	zone_free(z);
	return rc;
}

void test_catz(void);
void test_catz(void)
{
	struct catz c;
	static const char *const good[] = {
		"@ 0 SOA invalid. invalid. 1 3600 600 2147483646 0",
		"@ 0 NS invalid.",
		"version 0 TXT 2",
		"a 0 PTR ignored.example.",           /* not below zones */
		"AbC.zones 0 PTR Example.NET.",       /* cases folded */
		"group.abc.zones 0 TXT blue",         /* a property: not a member */
		"coo.abc.zones 0 PTR other.catalog.",
		"b.zones 0 PTR example.org.",
		"group.b.zones 0 TXT first",          /* two groups, kept in canonical order */
		"group.b.zones 0 TXT second",
		"group.b.zones 0 TYPE16 03616263026465", /* two strings: not a group */
		"group.e.zones 0 TXT self",           /* a node left out has none */
		"c.zones 0 PTR example.net.",         /* listed again: the first label keeps it */
		"e.zones 0 PTR cat.example.",         /* the catalog itself */
		"f.zones 0 TXT not-a-member",
		"x.y.zones 0 PTR deep.test.",         /* two labels below zones */
		"g.zones 0 PTR .",                    /* the root: a name like any */
		NULL,
	};
	CHECK_EQ(read_catalog(good, &c), 0);
	CHECK_EQ(c.n, 4);
	CHECK(has(&c, "example.net", "abc", 0) && has(&c, "example.net", "c", 1)); /* label order */
	CHECK(has(&c, "example.org", "b", 0));
	for (size_t i = 0; i < c.n; i++) {
		const struct catz_member *m = &c.m[i];
		if (m->unique[0] == 3)
			CHECK(m->n_groups == 1 && strcmp(m->groups[0], "blue") == 0);
		else if (m->unique[1] == 'b')
			CHECK(m->n_groups == 2 && strcmp(m->groups[0], "first") == 0 &&
			      strcmp(m->groups[1], "second") == 0);
		else
			CHECK_EQ(m->n_groups, 0);
	}
	CHECK(has(&c, ".", "g", 0));
	for (size_t i = 0; i < c.n; i++) /* entries of one zone next to each other */
		for (size_t j = i + 2; j < c.n; j++)
			CHECK(!name_equal(c.m[i].name, c.m[j].name) || name_equal(c.m[i].name, c.m[i + 1].name));
	CHECK_EQ(c.duplicate, 1);
	CHECK_EQ(c.self, 1);
	catz_free(&c);

	/* RFC 9432 4.2.1: no version 2, no processing. */
	static const char *const none[] = { "@ 0 SOA invalid. invalid. 1 3600 600 2147483646 0",
					    "a.zones 0 PTR example.net.", NULL };
	static const char *const one[] = { "@ 0 SOA invalid. invalid. 1 3600 600 2147483646 0",
					   "version 0 TXT 1", "a.zones 0 PTR example.net.", NULL };
	static const char *const two[] = { "@ 0 SOA invalid. invalid. 1 3600 600 2147483646 0",
					   "version 0 TXT 2", "version 0 TXT 3", NULL };
	static const char *const deep[] = { "@ 0 SOA invalid. invalid. 1 3600 600 2147483646 0",
					    "x.version 0 TXT 2", NULL };
	/* RFC 9432 4.1: two PTRs at a member node break the catalog. */
	static const char *const ptrs[] = { "@ 0 SOA invalid. invalid. 1 3600 600 2147483646 0",
					    "version 0 TXT 2", "a.zones 0 PTR ok.test.", "d.zones 0 PTR x.test.",
					    "d.zones 0 PTR y.test.", NULL };
	const char *const *bad[] = { none, one, two, deep, ptrs };
	const char *why[] = { "no version", "other than 2", "more than one", "no version",
			      "1 member node with more than one PTR" };
	for (size_t i = 0; i < 5; i++) {
		CHECK_EQ(read_catalog(bad[i], &c), -1);
		CHECK(strstr(c.err, why[i]) != NULL);
		catz_free(&c);
	}
}
