/* The configuration file (docs/configuration.md) and the address syntax it
 * shares with the command line. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdarg.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#if defined(__GNUC__)
#define CFG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CFG_PRINTF(f, a)
#endif

/* Bounds on the SOA timers (docs/configuration.md, NSD's defaults). */
#define CFG_MIN_REFRESH 1
#define CFG_MAX_REFRESH 86400
#define CFG_MIN_RETRY   1
#define CFG_MAX_RETRY   86400
#define CFG_MIN_EXPIRE  1
#define CFG_MAX_EXPIRE  2419200

static void index_free(struct cfg_index *x);

void cfg_init(struct cfg *c)
{
	memset(c, 0, sizeof *c);
	c->udp_max_payload = 1232;
	c->tcp_clients = 100;
	c->tcp_idle_timeout = 10;
	c->xfr_timeout = 30;
	c->verbosity = 1;
	c->xfr_concurrency = 16;
	c->udp_workers = 1;
	rrl_config_default(&c->rrl);
	c->rrl_table_size = RRL_DEFAULT_TABLE_SIZE;
	c->xfr_max_size = 1073741824u;
	c->xfr_max_records = 20000000u;
	c->xfr_max_time = 3600;
}

void cfg_zone_init(struct cfg_zone *z)
{
	memset(z, 0, sizeof *z);
	for (size_t i = 0; i < CFG_MAX_PRIMARIES; i++)
		z->primary_key[i] = CFG_NO_KEY;
	for (size_t i = 0; i < CFG_MAX_ACL; i++)
		z->allow_notify_key[i] = CFG_NO_KEY;
	z->request_ixfr = 1;
	z->member_pattern = -1;
	z->min_refresh = CFG_MIN_REFRESH;
	z->max_refresh = CFG_MAX_REFRESH;
	z->min_retry = CFG_MIN_RETRY;
	z->max_retry = CFG_MAX_RETRY;
	z->min_expire = CFG_MIN_EXPIRE;
	z->max_expire = CFG_MAX_EXPIRE;
}

/* memset() that the compiler may not drop as a dead store. */
static void wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;
	while (n--)
		*v++ = 0;
}

void cfg_free(struct cfg *c)
{
	free(c->templates);
	c->templates = NULL;
	c->n_templates = 0;
	free(c->zones);
	c->zones = NULL;
	c->n_zones = 0;
	if (c->keys)
		wipe(c->keys, c->n_keys * sizeof *c->keys);
	free(c->keys);
	c->keys = NULL;
	c->n_keys = 0;
	index_free(&c->zone_index);
	index_free(&c->key_index);
}

/* Decimal digits only (no sign, no blanks, which strtoul would allow).
 * Returns 0, -1 when not a number, -2 when above hi. */
static int parse_num(const char *s, unsigned long hi, unsigned long *out)
{
	unsigned long v = 0;
	int over = 0;
	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		unsigned long d;
		if (*s < '0' || *s > '9')
			return -1;
		d = (unsigned long)(*s - '0');
		if (over || d > hi || v > (hi - d) / 10)
			over = 1; /* keep checking the syntax, the range is lost */
		else
			v = v * 10 + d;
	}
	if (over)
		return -2;
	*out = v;
	return 0;
}

/* Copy the part of s before the last sep into buf; *rest gets what follows
 * it, or NULL when there is no sep. */
static int split(const char *s, int sep, char *buf, size_t len, const char **rest)
{
	const char *p = strrchr(s, sep);
	size_t n = p ? (size_t)(p - s) : strlen(s);
	if (n == 0 || n >= len)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	*rest = p ? p + 1 : NULL;
	return 0;
}

int cfg_parse_addr(const char *s, unsigned default_port, struct cfg_addr *out)
{
	char host[INET6_ADDRSTRLEN];
	const char *ps;
	unsigned long port = default_port;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;

	if (split(s, '@', host, sizeof host, &ps) < 0)
		return -1;
	if (ps && parse_num(ps, 65535, &port) < 0)
		return -1;
	if (port < 1 || port > 65535)
		return -1;
	memset(out, 0, sizeof *out);
	memset(&v4, 0, sizeof v4);
	memset(&v6, 0, sizeof v6);
	if (inet_pton(AF_INET, host, &v4.sin_addr) == 1) {
		v4.sin_family = AF_INET;
		v4.sin_port = htons((uint16_t)port);
		memcpy(&out->sa, &v4, sizeof v4);
		out->len = sizeof v4;
	} else if (inet_pton(AF_INET6, host, &v6.sin6_addr) == 1) {
		v6.sin6_family = AF_INET6;
		v6.sin6_port = htons((uint16_t)port);
		memcpy(&out->sa, &v6, sizeof v6);
		out->len = sizeof v6;
	} else {
		return -1;
	}
	return 0;
}

int cfg_parse_prefix(const char *s, struct cfg_prefix *out)
{
	char host[INET6_ADDRSTRLEN];
	const char *bs;
	unsigned long bits;

	if (split(s, '/', host, sizeof host, &bs) < 0)
		return -1;
	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, host, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, host, out->addr) == 1)
		out->family = AF_INET6;
	else
		return -1;
	bits = out->family == AF_INET ? 32 : 128;
	if (bs && parse_num(bs, bits, &bits) < 0)
		return -1;
	out->bits = (unsigned)bits;
	return 0;
}

int cfg_prefix_match(const struct cfg_prefix *p, const struct sockaddr *sa)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	uint8_t a[16];

	/* A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d: compare
	 * in the prefix's family so "192.0.2.0/24" still matches them. */
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in v4;
		memcpy(&v4, sa, sizeof v4);
		if (p->family == AF_INET) {
			memcpy(a, &v4.sin_addr, 4);
		} else {
			memcpy(a, mapped, 12);
			memcpy(a + 12, &v4.sin_addr, 4);
		}
	} else if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 v6;
		memcpy(&v6, sa, sizeof v6);
		if (p->family == AF_INET6)
			memcpy(a, v6.sin6_addr.s6_addr, 16);
		else if (memcmp(v6.sin6_addr.s6_addr, mapped, 12) == 0)
			memcpy(a, v6.sin6_addr.s6_addr + 12, 4);
		else
			return 0;
	} else {
		return 0;
	}
	unsigned full = p->bits / 8, rest = p->bits % 8;
	if (memcmp(a, p->addr, full) != 0)
		return 0;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));
		if ((a[full] & mask) != (p->addr[full] & mask))
			return 0;
	}
	return 1;
}

const char *cfg_addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (sa->sa_family == AF_INET) {
		struct sockaddr_in v4;
		memcpy(&v4, sa, sizeof v4);
		inet_ntop(AF_INET, &v4.sin_addr, host, sizeof host);
		port = ntohs(v4.sin_port);
	} else if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 v6;
		memcpy(&v6, sa, sizeof v6);
		inet_ntop(AF_INET6, &v6.sin6_addr, host, sizeof host);
		port = ntohs(v6.sin6_port);
	}
	snprintf(buf, len, "%s@%u", host, port);
	return buf;
}

/* The name index.  A slot holds a hash and the array position plus one (0:
 * empty); at most half the slots are used, so probes stay short. */
struct cfg_index_slot {
	uint32_t hash;
	uint32_t id;
};

static void index_free(struct cfg_index *x)
{
	free(x->slot);
	x->slot = NULL;
	x->size = 0;
	x->n = 0;
}

static void index_put(struct cfg_index *x, uint32_t hash, uint32_t id)
{
	size_t mask = x->size - 1, j = hash & mask;
	while (x->slot[j].id)
		j = (j + 1) & mask;
	x->slot[j].hash = hash;
	x->slot[j].id = id;
}

/* Index array position i under hash; -1 when out of memory. */
static int index_add(struct cfg_index *x, uint32_t hash, size_t i)
{
	if (i >= UINT32_MAX)
		return -1;
	if ((x->n + 1) * 2 > x->size) {
		struct cfg_index old = *x;
		x->size = old.size ? 2 * old.size : 16;
		x->slot = calloc(x->size, sizeof *x->slot);
		if (!x->slot) {
			*x = old;
			return -1;
		}
		for (size_t j = 0; j < old.size; j++)
			if (old.slot[j].id)
				index_put(x, old.slot[j].hash, old.slot[j].id);
		free(old.slot);
	}
	index_put(x, hash, (uint32_t)(i + 1));
	x->n++;
	return 0;
}

/* The first position under hash for which eq(ctx, position) holds, or
 * SIZE_MAX. */
static size_t index_find(const struct cfg_index *x, uint32_t hash,
			 int (*eq)(const void *ctx, size_t i), const void *ctx)
{
	if (x->size == 0)
		return SIZE_MAX;
	size_t mask = x->size - 1;
	for (size_t j = hash & mask; x->slot[j].id; j = (j + 1) & mask)
		if (x->slot[j].hash == hash && eq(ctx, x->slot[j].id - 1))
			return x->slot[j].id - 1;
	return SIZE_MAX;
}

/* FNV-1a over octets, with ASCII letters folded to lower case if fold. */
static uint32_t hash_bytes(const uint8_t *p, size_t n, int fold)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		uint8_t b = p[i];
		if (fold && b >= 'A' && b <= 'Z')
			b = (uint8_t)(b + ('a' - 'A'));
		h = (h ^ b) * 16777619u;
	}
	return h;
}

static uint32_t hash_name(const uint8_t *name)
{
	return hash_bytes(name, name_len(name), 1);
}

struct name_in {
	const struct cfg *c;
	const uint8_t *name;
};

static int zone_is(const void *ctx, size_t i)
{
	const struct name_in *q = ctx;
	return i < q->c->n_zones && name_equal(q->c->zones[i].name, q->name);
}

static int key_is(const void *ctx, size_t i)
{
	const struct name_in *q = ctx;
	return i < q->c->n_keys && name_equal(q->c->keys[i].key.name, q->name);
}

const struct cfg_zone *cfg_find_zone(const struct cfg *c, const uint8_t *name)
{
	struct name_in q = { c, name };
	/* The index covers the array unless someone grew it by hand. */
	if (c->zone_index.n == c->n_zones) {
		size_t i = index_find(&c->zone_index, hash_name(name), zone_is, &q);
		return i == SIZE_MAX ? NULL : &c->zones[i];
	}
	for (size_t i = 0; i < c->n_zones; i++)
		if (name_equal(c->zones[i].name, name))
			return &c->zones[i];
	return NULL;
}

int cfg_find_key(const struct cfg *c, const uint8_t *name)
{
	struct name_in q = { c, name };
	if (c->key_index.n == c->n_keys) {
		size_t i = index_find(&c->key_index, hash_name(name), key_is, &q);
		return i == SIZE_MAX ? CFG_NO_KEY : (int)i;
	}
	for (size_t i = 0; i < c->n_keys; i++)
		if (name_equal(c->keys[i].key.name, name))
			return (int)i;
	return CFG_NO_KEY;
}

/* Bring an index up to array[0..n), rebuilding it if the array changed
 * behind its back. */
static int index_sync(struct cfg_index *x, size_t n,
		      const uint8_t *(*name_at)(const struct cfg *, size_t), const struct cfg *c)
{
	if (x->n > n)
		index_free(x);
	while (x->n < n)
		if (index_add(x, hash_name(name_at(c, x->n)), x->n) < 0)
			return -1;
	return 0;
}

static const uint8_t *zone_name_at(const struct cfg *c, size_t i)
{
	return c->zones[i].name;
}

static const uint8_t *key_name_at(const struct cfg *c, size_t i)
{
	return c->keys[i].key.name;
}

/* The capacity of the heap arrays is implied by the count: 4, then each
 * power of two.  Makes room for element n; -1 when out of memory. */
static int grow(void **arr, size_t n, size_t size)
{
	if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) {
		size_t cap = n ? 2 * n : 4;
		void *na;
		if (cap > SIZE_MAX / size)
			return -1;
		na = realloc(*arr, cap * size);
		if (!na)
			return -1;
		*arr = na;
	}
	return 0;
}

int cfg_add_zone(struct cfg *c, const struct cfg_zone *z)
{
	size_t n = c->n_zones;
	void *arr = c->zones;
	if (index_sync(&c->zone_index, n, zone_name_at, c) < 0)
		return -1;
	if (grow(&arr, n, sizeof *c->zones) < 0)
		return -1;
	c->zones = arr;
	if (index_add(&c->zone_index, hash_name(z->name), n) < 0)
		return -1;
	c->zones[n] = *z;
	c->n_zones = n + 1;
	return 0;
}

static int add_key(struct cfg *c, const struct cfg_key *k)
{
	size_t n = c->n_keys;
	void *arr = c->keys;
	if (n >= INT_MAX || index_sync(&c->key_index, n, key_name_at, c) < 0)
		return -1;
	if (grow(&arr, n, sizeof *c->keys) < 0)
		return -1;
	c->keys = arr;
	if (index_add(&c->key_index, hash_name(k->key.name), n) < 0)
		return -1;
	c->keys[n] = *k;
	c->n_keys = n + 1;
	return 0;
}

/* The presentation form of a wire name, without the final dot except for
 * the root. */
static int name_text(const uint8_t *name, char *out, size_t len)
{
	int rc = name_to_text(name, out, len);
	if (rc < 0)
		return NAME_ETEXT;
	if (rc > 1)
		out[rc - 1] = '\0';
	return 0;
}

int cfg_zone_name(struct cfg_zone *z, const char *s)
{
	int rc = name_from_text(s, z->name);
	if (rc < 0)
		return rc;
	name_lower(z->name);
	return name_text(z->name, z->text, sizeof z->text);
}

static int b64_value(int ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

int cfg_base64_decode(const char *s, uint8_t *out, size_t cap)
{
	size_t len = strlen(s), n = 0;

	if (len == 0 || len % 4 != 0)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		int v[4], pad = 0;
		for (size_t j = 0; j < 4; j++) {
			if (s[i + j] == '=' && i + 4 == len && j >= 2) {
				v[j] = 0;
				pad++;
			} else if (pad) {
				return -1; /* "=" followed by data: "ab=c" */
			} else if ((v[j] = b64_value((unsigned char)s[i + j])) < 0) {
				return -1;
			}
		}
		/* The bits below the last whole octet must be zero (RFC 4648
		 * 3.5), as NSD's b64_pton requires. */
		if ((pad == 2 && (v[1] & 0x0f)) || (pad == 1 && (v[2] & 0x03)))
			return -1;
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
			     (uint32_t)v[3];
		for (int j = 0; j < 3 - pad; j++, n++)
			if (n < cap)
				out[n] = (uint8_t)(w >> (16 - 8 * j));
	}
	/* Too long only once the whole text is known to be base64. */
	return n > cap || n > INT_MAX ? -2 : (int)n;
}

/* "hmac-sha256" to the algorithm (as tsig_alg_from_text, without needing
 * the TSIG code here). */
static enum hmac_alg alg_from_text(const char *s)
{
	static const struct {
		const char *name;
		enum hmac_alg alg;
	} algs[] = {
		{ "hmac-md5", HMAC_MD5 },       { "hmac-sha1", HMAC_SHA1 },
		{ "hmac-sha224", HMAC_SHA224 }, { "hmac-sha256", HMAC_SHA256 },
		{ "hmac-sha384", HMAC_SHA384 }, { "hmac-sha512", HMAC_SHA512 },
	};
	for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
		if (strcasecmp(s, algs[i].name) == 0)
			return algs[i].alg;
	return HMAC_NONE;
}

/* The file parser.  The section being read is kept here and added to the
 * configuration only once it is complete. */

/* Zone settings a pattern may give (which ones it gave). */
enum {
	SET_STRIP = 1 << 0,
	SET_IXFR = 1 << 1,
	SET_MIN_REFRESH = 1 << 2,
	SET_MAX_REFRESH = 1 << 3,
	SET_MIN_RETRY = 1 << 4,
	SET_MAX_RETRY = 1 << 5,
	SET_MIN_EXPIRE = 1 << 6,
	SET_MAX_EXPIRE = 1 << 7,
	SET_DROP_OLD = 1 << 8,
};

struct pattern {
	char *name;
	unsigned line;
	unsigned set;               /* SET_ bits */
	struct cfg_zone z;          /* its primaries, prefixes and settings */
};

/* A key name used in the file.  Until the end of the file, when keys are
 * resolved, zones hold CFG_REF(i) for the i-th name used. */
struct key_ref {
	uint8_t name[NAME_MAXLEN];
	char *text;                 /* as first written */
	unsigned line;              /* where first used */
	int key;
};

#define CFG_REF(i) (-2 - (int)(i))
#define CFG_IS_REF(v) ((v) < CFG_NO_KEY)
#define CFG_REF_INDEX(v) ((size_t)(-2 - (v)))

struct parser {
	struct cfg *c;
	const char *path;
	unsigned line;
	char *err;
	size_t errlen;
	enum section { SEC_NONE, SEC_SERVER, SEC_ZONE, SEC_KEY, SEC_PATTERN } sec;
	unsigned sec_line;
	int named;                  /* the section's name was given */
	struct cfg_zone zone;       /* SEC_ZONE */
	struct cfg_key key;         /* SEC_KEY */
	int key_alg, key_secret;    /* given */
	struct pattern pat;         /* SEC_PATTERN */
	struct pattern *pats;
	size_t n_pats;
	struct cfg_index pat_index;
	struct key_ref *refs;
	size_t n_refs;
	struct cfg_index ref_index;
	size_t first_zone;          /* the first zone of this file */
	size_t first_template;      /* the first template of this file */
};

CFG_PRINTF(3, 4)
static int fail_at(struct parser *p, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(p->err, p->errlen, "%s:%u: ", p->path, line);
	if (n >= 0 && (size_t)n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

#define fail(p, ...) fail_at((p), (p)->line, __VA_ARGS__)

static char *trim(char *s)
{
	char *e = s + strlen(s);
	while (*s == ' ' || *s == '\t')
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		e--;
	*e = '\0';
	return s;
}

/* Split v in place into its blank-separated words; the count, or -1 when
 * there are more than max (v is then unchanged). */
static int split_words(char *v, char **w, int max)
{
	int n = 0;
	const char *t = v;
	for (;;) {
		t += strspn(t, " \t");
		if (*t == '\0')
			break;
		if (n++ == max)
			return -1;
		t += strcspn(t, " \t");
	}
	n = 0;
	for (char *s = v;;) {
		s += strspn(s, " \t");
		if (*s == '\0')
			break;
		w[n++] = s;
		s += strcspn(s, " \t");
		if (*s)
			*s++ = '\0';
	}
	return n;
}

static int get_num(struct parser *p, const char *v, unsigned lo, unsigned hi, unsigned *out)
{
	unsigned long n;
	int rc = parse_num(v, hi, &n);
	if (rc == -1)
		return fail(p, "bad number '%s'", v);
	if (rc < 0 || n < lo)
		return fail(p, "value out of range %u..%u", lo, hi);
	*out = (unsigned)n;
	return 0;
}

static int get_u32(struct parser *p, const char *v, uint32_t *out)
{
	unsigned long n;
	int rc = parse_num(v, UINT32_MAX, &n);
	if (rc == -1)
		return fail(p, "bad number '%s'", v);
	if (rc < 0)
		return fail(p, "value out of range 0..%lu", (unsigned long)UINT32_MAX);
	*out = (uint32_t)n;
	return 0;
}

static int get_bool(struct parser *p, const char *v, int *out)
{
	if (strcmp(v, "yes") == 0)
		*out = 1;
	else if (strcmp(v, "no") == 0)
		*out = 0;
	else
		return fail(p, "expected yes or no, not '%s'", v);
	return 0;
}

static int get_path(struct parser *p, const char *k, const char *v, char *out, size_t size)
{
	if (strlen(v) >= size)
		return fail(p, "%s path longer than %zu characters", k, size - 1);
	memcpy(out, v, strlen(v) + 1);
	return 0;
}

/* The NSID as NSD writes it: hex digits, or "ascii_" and the text. */
static int get_nsid(struct parser *p, const char *v, struct cfg *c)
{
	size_t n = 0;
	if (strncmp(v, "ascii_", 6) == 0) {
		n = strlen(v + 6);
		if (n == 0 || n > CFG_NSID_MAX)
			return fail(p, "nsid text must be 1 to %d characters", CFG_NSID_MAX);
		memcpy(c->nsid, v + 6, n);
	} else {
		size_t len = strlen(v);
		if (len % 2 || len / 2 > CFG_NSID_MAX)
			return fail(p, "nsid '%s' is not 1 to %d octets in hex (or ascii_TEXT)", v,
				    CFG_NSID_MAX);
		for (; n < len / 2; n++) {
			unsigned x;
			if (!isxdigit((unsigned char)v[2 * n]) || !isxdigit((unsigned char)v[2 * n + 1]) ||
			    sscanf(v + 2 * n, "%2x", &x) != 1)
				return fail(p, "nsid '%s' is not hex (or ascii_TEXT)", v);
			c->nsid[n] = (uint8_t)x;
		}
	}
	c->nsid_len = n;
	return 0;
}

static int server_key(struct parser *p, const char *k, const char *v)
{
	struct cfg *c = p->c;

	if (strcmp(k, "listen") == 0) {
		if (c->n_listen == CFG_MAX_LISTEN)
			return fail(p, "too many listen addresses (at most %d)", CFG_MAX_LISTEN);
		if (cfg_parse_addr(v, 53, &c->listen[c->n_listen]) < 0)
			return fail(p, "bad address '%s'", v);
		c->n_listen++;
		return 0;
	}
	if (strcmp(k, "udp-max-payload") == 0)
		return get_num(p, v, 512, 4096, &c->udp_max_payload);
	if (strcmp(k, "tcp-clients") == 0)
		return get_num(p, v, 1, 65535, &c->tcp_clients);
	if (strcmp(k, "tcp-idle-timeout") == 0)
		return get_num(p, v, 1, 3600, &c->tcp_idle_timeout);
	if (strcmp(k, "xfr-timeout") == 0)
		return get_num(p, v, 1, 3600, &c->xfr_timeout);
	if (strcmp(k, "verbosity") == 0)
		return get_num(p, v, 0, 3, &c->verbosity);
	if (strcmp(k, "xfr-concurrency") == 0)
		return get_num(p, v, 1, 1024, &c->xfr_concurrency);
	if (strncmp(k, "rrl-", 4) == 0) {
		unsigned v32;
		if (strcmp(k, "rrl-responses-per-second") == 0)
			return get_num(p, v, 0, RRL_MAX_RATE, &c->rrl.responses_per_second);
		if (strcmp(k, "rrl-window") == 0)
			return get_num(p, v, 0, RRL_MAX_WINDOW, &c->rrl.window);
		if (strcmp(k, "rrl-table-size") == 0)
			return get_num(p, v, 1, 10000000, &c->rrl_table_size);
		if (strcmp(k, "rrl-slip") == 0) {
			if (get_num(p, v, 0, RRL_MAX_SLIP, &v32) < 0)
				return -1;
			c->rrl.slip = (uint8_t)v32;
			return 0;
		}
		if (strcmp(k, "rrl-ipv4-prefix-length") == 0) {
			if (get_num(p, v, 0, 32, &v32) < 0)
				return -1;
			c->rrl.ipv4_prefix_length = (uint8_t)v32;
			return 0;
		}
		if (strcmp(k, "rrl-ipv6-prefix-length") == 0) {
			if (get_num(p, v, 0, 128, &v32) < 0)
				return -1;
			c->rrl.ipv6_prefix_length = (uint8_t)v32;
			return 0;
		}
	}
	if (strcmp(k, "udp-workers") == 0)
		return get_num(p, v, 1, 64, &c->udp_workers);
	if (strcmp(k, "xfr-max-size") == 0)
		return get_u32(p, v, &c->xfr_max_size);
	if (strcmp(k, "xfr-max-records") == 0)
		return get_u32(p, v, &c->xfr_max_records);
	if (strcmp(k, "xfr-max-time") == 0)
		return get_u32(p, v, &c->xfr_max_time);
	if (strcmp(k, "pidfile") == 0)
		return get_path(p, k, v, c->pidfile, sizeof c->pidfile);
	if (strcmp(k, "data-dir") == 0)
		return get_path(p, k, v, c->data_dir, sizeof c->data_dir);
	if (strcmp(k, "username") == 0)
		return get_path(p, k, v, c->username, sizeof c->username);
	if (strcmp(k, "chroot") == 0)
		return get_path(p, k, v, c->chroot_dir, sizeof c->chroot_dir);
	if (strcmp(k, "identity") == 0 || strcmp(k, "version") == 0) {
		char *out = k[0] == 'i' ? c->identity : c->version;
		if (strlen(v) > 255)
			return fail(p, "%s longer than 255 characters (one TXT string)", k);
		memcpy(out, v, strlen(v) + 1);
		return 0;
	}
	if (strcmp(k, "nsid") == 0)
		return get_nsid(p, v, c);
	return fail(p, "unknown key '%s' in server section", k);
}

struct ref_q {
	const struct key_ref *refs;
	const uint8_t *name;
};

static int ref_is(const void *ctx, size_t i)
{
	const struct ref_q *q = ctx;
	return name_equal(q->refs[i].name, q->name);
}

/* The KEY word of "primary" and "allow-notify" (NULL: none) into *out:
 * CFG_NO_KEY or a reference resolved at the end of the file. */
static int key_ref(struct parser *p, const char *text, int *out)
{
	uint8_t name[NAME_MAXLEN];
	struct key_ref *r;
	uint32_t h;
	size_t i;
	int rc;

	if (!text || strcmp(text, "NOKEY") == 0) {
		*out = CFG_NO_KEY;
		return 0;
	}
	rc = name_from_text(text, name);
	if (rc < 0)
		return fail(p, "bad key name '%s': %s", text, name_strerror(rc));
	name_lower(name);
	h = hash_name(name);
	{
		struct ref_q q = { p->refs, name };
		i = index_find(&p->ref_index, h, ref_is, &q);
	}
	if (i == SIZE_MAX) {
		void *arr = p->refs;
		i = p->n_refs;
		if (i >= (size_t)INT_MAX - 2 || grow(&arr, i, sizeof *p->refs) < 0)
			return fail(p, "out of memory");
		p->refs = arr;
		r = &p->refs[i];
		memcpy(r->name, name, (size_t)rc);
		r->line = p->line;
		r->key = CFG_NO_KEY;
		r->text = strdup(text);
		if (!r->text)
			return fail(p, "out of memory");
		p->n_refs++;
		if (index_add(&p->ref_index, h, i) < 0)
			return fail(p, "out of memory");
	}
	*out = CFG_REF(i);
	return 0;
}

/* A key shared by zone and pattern sections: 1 when k is not one of
 * them, else 0 or -1.  set records which settings were given. */
static int zone_setting(struct parser *p, struct cfg_zone *z, unsigned *set, const char *k,
			char *v)
{
	static const struct {
		const char *key;
		size_t off;
		unsigned bit;
	} timers[] = {
		{ "min-refresh-time", offsetof(struct cfg_zone, min_refresh), SET_MIN_REFRESH },
		{ "max-refresh-time", offsetof(struct cfg_zone, max_refresh), SET_MAX_REFRESH },
		{ "min-retry-time", offsetof(struct cfg_zone, min_retry), SET_MIN_RETRY },
		{ "max-retry-time", offsetof(struct cfg_zone, max_retry), SET_MAX_RETRY },
		{ "min-expire-time", offsetof(struct cfg_zone, min_expire), SET_MIN_EXPIRE },
		{ "max-expire-time", offsetof(struct cfg_zone, max_expire), SET_MAX_EXPIRE },
	};
	char *w[2];
	int n;

	if (strcmp(k, "primary") == 0) {
		if (z->n_primary == CFG_MAX_PRIMARIES)
			return fail(p, "too many primaries (at most %d)", CFG_MAX_PRIMARIES);
		n = split_words(v, w, 2);
		if (n < 1)
			return fail(p, "expected ADDR[@PORT] [KEY], not '%s'", v);
		if (cfg_parse_addr(w[0], 53, &z->primary[z->n_primary]) < 0)
			return fail(p, "bad address '%s'", w[0]);
		if (key_ref(p, n == 2 ? w[1] : NULL, &z->primary_key[z->n_primary]) < 0)
			return -1;
		z->n_primary++;
		return 0;
	}
	if (strcmp(k, "allow-notify") == 0) {
		if (z->n_allow_notify == CFG_MAX_ACL)
			return fail(p, "too many allow-notify prefixes (at most %d)", CFG_MAX_ACL);
		n = split_words(v, w, 2);
		if (n < 1)
			return fail(p, "expected ADDR[/LEN] [KEY], not '%s'", v);
		if (cfg_parse_prefix(w[0], &z->allow_notify[z->n_allow_notify]) < 0)
			return fail(p, "bad prefix '%s'", w[0]);
		if (key_ref(p, n == 2 ? w[1] : NULL, &z->allow_notify_key[z->n_allow_notify]) < 0)
			return -1;
		z->n_allow_notify++;
		return 0;
	}
	if (strcmp(k, "strip-dnssec") == 0) {
		*set |= SET_STRIP;
		return get_bool(p, v, &z->strip_dnssec);
	}
	if (strcmp(k, "request-ixfr") == 0) {
		*set |= SET_IXFR;
		return get_bool(p, v, &z->request_ixfr);
	}
	if (strcmp(k, "xfr-drop-old") == 0) {
		*set |= SET_DROP_OLD;
		return get_bool(p, v, &z->xfr_drop_old);
	}
	for (size_t i = 0; i < sizeof timers / sizeof timers[0]; i++) {
		if (strcmp(k, timers[i].key) == 0) {
			*set |= timers[i].bit;
			return get_u32(p, v, (uint32_t *)(void *)((char *)z + timers[i].off));
		}
	}
	return 1;
}

struct pat_q {
	const struct pattern *pats;
	const char *name;
};

static int pat_is(const void *ctx, size_t i)
{
	const struct pat_q *q = ctx;
	return strcmp(q->pats[i].name, q->name) == 0;
}

static uint32_t hash_text(const char *s)
{
	return hash_bytes((const uint8_t *)s, strlen(s), 0);
}

/* Pattern names are compared exactly, as in NSD. */
static const struct pattern *find_pattern(const struct parser *p, const char *name)
{
	struct pat_q q = { p->pats, name };
	size_t i = index_find(&p->pat_index, hash_text(name), pat_is, &q);
	return i == SIZE_MAX ? NULL : &p->pats[i];
}

/* "include-pattern": the pattern's lines as if written here. */
static int apply_pattern(struct parser *p, struct cfg_zone *z, const struct pattern *pt)
{
	const struct cfg_zone *f = &pt->z;

	if (z->n_primary + f->n_primary > CFG_MAX_PRIMARIES)
		return fail(p, "too many primaries (at most %d)", CFG_MAX_PRIMARIES);
	if (z->n_allow_notify + f->n_allow_notify > CFG_MAX_ACL)
		return fail(p, "too many allow-notify prefixes (at most %d)", CFG_MAX_ACL);
	memcpy(&z->primary[z->n_primary], f->primary, f->n_primary * sizeof f->primary[0]);
	memcpy(&z->primary_key[z->n_primary], f->primary_key,
	       f->n_primary * sizeof f->primary_key[0]);
	z->n_primary += f->n_primary;
	memcpy(&z->allow_notify[z->n_allow_notify], f->allow_notify,
	       f->n_allow_notify * sizeof f->allow_notify[0]);
	memcpy(&z->allow_notify_key[z->n_allow_notify], f->allow_notify_key,
	       f->n_allow_notify * sizeof f->allow_notify_key[0]);
	z->n_allow_notify += f->n_allow_notify;
	if (pt->set & SET_STRIP)
		z->strip_dnssec = f->strip_dnssec;
	if (pt->set & SET_IXFR)
		z->request_ixfr = f->request_ixfr;
	if (pt->set & SET_DROP_OLD)
		z->xfr_drop_old = f->xfr_drop_old;
	if (pt->set & SET_MIN_REFRESH)
		z->min_refresh = f->min_refresh;
	if (pt->set & SET_MAX_REFRESH)
		z->max_refresh = f->max_refresh;
	if (pt->set & SET_MIN_RETRY)
		z->min_retry = f->min_retry;
	if (pt->set & SET_MAX_RETRY)
		z->max_retry = f->max_retry;
	if (pt->set & SET_MIN_EXPIRE)
		z->min_expire = f->min_expire;
	if (pt->set & SET_MAX_EXPIRE)
		z->max_expire = f->max_expire;
	return 0;
}

static int zone_key(struct parser *p, const char *k, char *v)
{
	struct cfg_zone *z = &p->zone;
	unsigned set = 0;
	int rc;

	if (strcmp(k, "name") == 0) {
		const struct cfg_zone *old;
		if (p->named)
			return fail(p, "second name for zone '%s'", z->text);
		rc = cfg_zone_name(z, v);
		if (rc < 0)
			return fail(p, "bad zone name '%s': %s", v, name_strerror(rc));
		old = cfg_find_zone(p->c, z->name);
		if (old)
			return fail(p, "duplicate zone '%s' (first at line %u)", z->text, old->line);
		p->named = 1;
		return 0;
	}
	if (strcmp(k, "include-pattern") == 0) {
		const struct pattern *pt = find_pattern(p, v);
		if (!pt)
			return fail(p, "unknown pattern '%s'", v);
		return apply_pattern(p, z, pt);
	}
	if (strcmp(k, "catalog-member-pattern") == 0) {
		const struct pattern *pt = find_pattern(p, v);
		if (!pt)
			return fail(p, "unknown pattern '%s'", v);
		if (pt->z.n_primary == 0)
			return fail(p, "pattern '%s' has no primary to transfer member zones from", v);
		/* Its template is made at the end of the file, in the
		 * patterns' order. */
		z->member_pattern = (int)(p->first_template + (size_t)(pt - p->pats));
		return 0;
	}
	if (strcmp(k, "catalog") == 0) {
		/* NSD's key; a secondary consumes catalogs, it produces none. */
		if (strcmp(v, "consumer") != 0)
			return fail(p, "catalog: expected 'consumer', not '%s'", v);
		z->catalog = 1;
		return 0;
	}
	rc = zone_setting(p, z, &set, k, v);
	if (rc <= 0)
		return rc;
	return fail(p, "unknown key '%s' in zone section", k);
}

static int pattern_key(struct parser *p, const char *k, char *v)
{
	struct pattern *pt = &p->pat;
	int rc;

	if (strcmp(k, "name") == 0) {
		const struct pattern *old;
		if (p->named)
			return fail(p, "second name for pattern '%s'", pt->name);
		old = find_pattern(p, v);
		if (old)
			return fail(p, "duplicate pattern '%s' (first at line %u)", v, old->line);
		pt->name = strdup(v);
		if (!pt->name)
			return fail(p, "out of memory");
		p->named = 1;
		return 0;
	}
	if (strcmp(k, "include-pattern") == 0)
		return fail(p, "include-pattern is not allowed in a pattern");
	rc = zone_setting(p, &pt->z, &pt->set, k, v);
	if (rc <= 0)
		return rc;
	return fail(p, "unknown key '%s' in pattern section", k);
}

static int key_key(struct parser *p, const char *k, const char *v)
{
	struct cfg_key *key = &p->key;
	int rc;

	if (strcmp(k, "name") == 0) {
		int old;
		if (p->named)
			return fail(p, "second name for key '%s'", key->text);
		rc = name_from_text(v, key->key.name);
		if (rc < 0)
			return fail(p, "bad key name '%s': %s", v, name_strerror(rc));
		name_lower(key->key.name);
		snprintf(key->text, sizeof key->text, "%s", v);
		old = cfg_find_key(p->c, key->key.name);
		if (old != CFG_NO_KEY)
			return fail(p, "duplicate key '%s' (first at line %u)", v,
				    p->c->keys[old].line);
		p->named = 1;
		return 0;
	}
	if (strcmp(k, "algorithm") == 0) {
		if (p->key_alg)
			return fail(p, "second algorithm for key");
		key->key.alg = alg_from_text(v);
		if (key->key.alg == HMAC_NONE)
			return fail(p, "unknown algorithm '%s'", v);
		p->key_alg = 1;
		return 0;
	}
	if (strcmp(k, "secret") == 0) {
		if (p->key_secret)
			return fail(p, "second secret for key");
		rc = cfg_base64_decode(v, key->key.secret, sizeof key->key.secret);
		if (rc == -2)
			return fail(p, "secret longer than %zu octets", sizeof key->key.secret);
		if (rc <= 0)
			return fail(p, "bad base64 secret");
		key->key.secret_len = (size_t)rc;
		p->key_secret = 1;
		return 0;
	}
	return fail(p, "unknown key '%s' in key section", k);
}

/* The timer bounds of a complete zone. */
/* kind: "zone", or "pattern" for a pattern as members' settings. */
static int check_bounds(struct parser *p, const struct cfg_zone *z, const char *kind)
{
	const struct {
		const char *what;
		uint32_t lo, hi;
	} b[] = {
		{ "refresh", z->min_refresh, z->max_refresh },
		{ "retry", z->min_retry, z->max_retry },
		{ "expire", z->min_expire, z->max_expire },
	};
	for (size_t i = 0; i < sizeof b / sizeof b[0]; i++)
		if (b[i].lo > b[i].hi)
			return fail_at(p, z->line, "%s '%s' has min-%s-time %lu above max-%s-time %lu",
				       kind, z->text, b[i].what, (unsigned long)b[i].lo, b[i].what,
				       (unsigned long)b[i].hi);
	return 0;
}

/* A section ends at the next section or at the end of the file; what it
 * lacks is reported at its first line. */
static int end_section(struct parser *p)
{
	enum section sec = p->sec;

	p->sec = SEC_NONE;
	if (sec == SEC_ZONE) {
		if (!p->named)
			return fail_at(p, p->sec_line, "zone without name");
		if (p->zone.n_primary == 0)
			return fail_at(p, p->sec_line, "zone '%s' has no primary", p->zone.text);
		if (p->zone.member_pattern >= 0 && !p->zone.catalog)
			return fail_at(p, p->sec_line, "zone '%s' has catalog-member-pattern but is no catalog (catalog: consumer)",
				       p->zone.text);
		if (check_bounds(p, &p->zone, "zone") < 0)
			return -1;
		if (cfg_add_zone(p->c, &p->zone) < 0)
			return fail_at(p, p->sec_line, "out of memory");
	} else if (sec == SEC_KEY) {
		if (!p->named)
			return fail_at(p, p->sec_line, "key without name");
		if (!p->key_alg)
			return fail_at(p, p->sec_line, "key '%s' has no algorithm", p->key.text);
		if (!p->key_secret)
			return fail_at(p, p->sec_line, "key '%s' has no secret", p->key.text);
		if (add_key(p->c, &p->key) < 0)
			return fail_at(p, p->sec_line, "out of memory");
		wipe(&p->key, sizeof p->key);
	} else if (sec == SEC_PATTERN) {
		void *arr = p->pats;
		size_t n = p->n_pats;
		if (!p->named)
			return fail_at(p, p->sec_line, "pattern without name");
		if (grow(&arr, n, sizeof *p->pats) < 0)
			return fail_at(p, p->sec_line, "out of memory");
		p->pats = arr;
		if (index_add(&p->pat_index, hash_text(p->pat.name), n) < 0)
			return fail_at(p, p->sec_line, "out of memory");
		p->pats[n] = p->pat;
		p->pat.name = NULL; /* now the array's */
		p->n_pats = n + 1;
	}
	return 0;
}

static int start_section(struct parser *p, const char *k)
{
	if (strcmp(k, "server") == 0) {
		p->sec = SEC_SERVER;
	} else if (strcmp(k, "zone") == 0) {
		p->sec = SEC_ZONE;
		cfg_zone_init(&p->zone);
		p->zone.line = p->line;
	} else if (strcmp(k, "key") == 0) {
		p->sec = SEC_KEY;
		memset(&p->key, 0, sizeof p->key);
		p->key.line = p->line;
		p->key_alg = p->key_secret = 0;
	} else if (strcmp(k, "pattern") == 0) {
		p->sec = SEC_PATTERN;
		free(p->pat.name);
		memset(&p->pat, 0, sizeof p->pat);
		cfg_zone_init(&p->pat.z);
		p->pat.line = p->line;
	} else {
		return 1;
	}
	p->sec_line = p->line;
	p->named = 0;
	return 0;
}

static int parse_line(struct parser *p, char *s)
{
	char *k, *v, *colon;
	int quoted = 0;

	for (char *t = s; *t; t++) {
		if (*t == '"') {
			quoted = !quoted;
		} else if (*t == '#' && !quoted) {
			*t = '\0';
			break;
		}
	}
	s = trim(s);
	if (*s == '\0')
		return 0;
	colon = strchr(s, ':');
	if (!colon || colon == s)
		return fail(p, "expected 'key: value'");
	*colon = '\0';
	k = trim(s);
	v = trim(colon + 1);
	if (*v == '"') {
		char *end = strchr(v + 1, '"');
		if (!end)
			return fail(p, "missing closing quote");
		if (end[1] != '\0')
			return fail(p, "text after closing quote");
		*end = '\0';
		v++;
	} else if (strchr(v, '"')) {
		return fail(p, "stray quote");
	}

	if (strcmp(k, "server") == 0 || strcmp(k, "zone") == 0 || strcmp(k, "key") == 0 ||
	    strcmp(k, "pattern") == 0) {
		if (*v)
			return fail(p, "nothing may follow '%s:'", k);
		if (end_section(p) < 0)
			return -1;
		return start_section(p, k);
	}
	if (strcasecmp(k, "server") == 0 || strcasecmp(k, "zone") == 0 ||
	    strcasecmp(k, "key") == 0 || strcasecmp(k, "pattern") == 0)
		return fail(p, "unknown section '%s:' (section names are lower case)", k);
	if (strcmp(k, "include") == 0)
		return fail(p, "'include:' is not supported: the configuration is one file");
	if (p->sec == SEC_NONE && *v == '\0')
		return fail(p, "unknown section '%s:' (sections are server:, zone:, key:, pattern:)", k);
	if (p->sec == SEC_NONE)
		return fail(p, "key outside of a section");
	if (*v == '\0')
		return fail(p, "missing value for '%s'", k);
	switch (p->sec) {
	case SEC_SERVER:
		return server_key(p, k, v);
	case SEC_ZONE:
		return zone_key(p, k, v);
	case SEC_KEY:
		return key_key(p, k, v);
	case SEC_PATTERN:
		return pattern_key(p, k, v);
	case SEC_NONE:
		break;
	}
	return fail(p, "key outside of a section"); /* not reached */
}

/* Turn the key references of this file's zones into key indexes; an
 * unknown key is reported where it was first used. */
/* Every pattern of the file as a zone's settings (cfg.templates), for
 * the members of catalog zones; keys are resolved with the zones'. */
static int make_templates(struct parser *p)
{
	struct cfg *c = p->c;
	if (!p->n_pats)
		return 0;
	void *arr = realloc(c->templates, (c->n_templates + p->n_pats) * sizeof(*c->templates));
	if (!arr)
		return fail(p, "out of memory");
	c->templates = arr;
	for (size_t i = 0; i < p->n_pats; i++) {
		struct cfg_zone *t = &c->templates[c->n_templates];
		cfg_zone_init(t);
		snprintf(t->text, sizeof(t->text), "%s", p->pats[i].name);
		t->line = p->pats[i].line;
		if (apply_pattern(p, t, &p->pats[i]) < 0 || check_bounds(p, t, "pattern") < 0)
			return -1;
		c->n_templates++;
	}
	return 0;
}

const struct cfg_zone *cfg_find_template(const struct cfg *c, const char *name)
{
	for (size_t i = 0; i < c->n_templates; i++)
		if (strcmp(c->templates[i].text, name) == 0)
			return &c->templates[i];
	return NULL;
}

static int resolve_keys(struct parser *p)
{
	struct cfg *c = p->c;

	for (size_t i = 0; i < p->n_refs; i++) {
		struct key_ref *r = &p->refs[i];
		r->key = cfg_find_key(c, r->name);
		if (r->key == CFG_NO_KEY)
			return fail_at(p, r->line, "unknown key '%s'", r->text);
	}
	for (size_t i = p->first_zone; i < c->n_zones + (c->n_templates - p->first_template); i++) {
		struct cfg_zone *z = i < c->n_zones ? &c->zones[i]
						    : &c->templates[p->first_template + i - c->n_zones];
		for (size_t j = 0; j < z->n_primary; j++)
			if (CFG_IS_REF(z->primary_key[j]))
				z->primary_key[j] = p->refs[CFG_REF_INDEX(z->primary_key[j])].key;
		for (size_t j = 0; j < z->n_allow_notify; j++)
			if (CFG_IS_REF(z->allow_notify_key[j]))
				z->allow_notify_key[j] =
					p->refs[CFG_REF_INDEX(z->allow_notify_key[j])].key;
	}
	return 0;
}

/* After a failure: no reference is left in the zones added. */
static void drop_refs(struct parser *p)
{
	struct cfg *c = p->c;
	for (size_t i = p->first_zone; i < c->n_zones + (c->n_templates - p->first_template); i++) {
		struct cfg_zone *z = i < c->n_zones ? &c->zones[i]
						    : &c->templates[p->first_template + i - c->n_zones];
		for (size_t j = 0; j < z->n_primary; j++)
			if (CFG_IS_REF(z->primary_key[j]))
				z->primary_key[j] = CFG_NO_KEY;
		for (size_t j = 0; j < z->n_allow_notify; j++)
			if (CFG_IS_REF(z->allow_notify_key[j]))
				z->allow_notify_key[j] = CFG_NO_KEY;
	}
}

static void parser_free(struct parser *p)
{
	for (size_t i = 0; i < p->n_pats; i++)
		free(p->pats[i].name);
	free(p->pats);
	free(p->pat.name);
	index_free(&p->pat_index);
	for (size_t i = 0; i < p->n_refs; i++)
		free(p->refs[i].text);
	free(p->refs);
	index_free(&p->ref_index);
	wipe(&p->key, sizeof p->key);
	free(p);
}

int cfg_load_file(struct cfg *c, const char *path, char *err, size_t errlen)
{
	struct parser *p;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	/* Heap, not stack: a zone under construction is a few kilobytes. */
	p = calloc(1, sizeof *p);
	if (!p) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	p->c = c;
	p->path = path;
	p->err = err;
	p->errlen = errlen;
	p->first_zone = c->n_zones;
	p->first_template = c->n_templates;
	while (rc == 0 && (n = getline(&buf, &cap, f)) >= 0) {
		p->line++;
		if (strlen(buf) != (size_t)n)
			rc = fail(p, "NUL character in line");
		else /* a UTF-8 byte order mark, as some editors write: not text */
			rc = parse_line(p, p->line == 1 && strncmp(buf, "\xEF\xBB\xBF", 3) == 0 ? buf + 3 : buf);
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		rc = -1;
	}
	if (rc == 0)
		rc = end_section(p);
	if (rc == 0)
		rc = make_templates(p);
	if (rc == 0)
		rc = resolve_keys(p);
	if (rc != 0)
		drop_refs(p);
	if (buf)
		wipe(buf, cap); /* it held the last line, maybe a secret */
	free(buf);
	parser_free(p);
	fclose(f);
	return rc;
}
