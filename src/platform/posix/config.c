/* The configuration file (docs/configuration.md) and the address syntax it
 * shares with the command line. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__)
#define CFG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CFG_PRINTF(f, a)
#endif

void cfg_init(struct cfg *c)
{
	memset(c, 0, sizeof *c);
	c->udp_max_payload = 1232;
	c->tcp_clients = 100;
	c->tcp_idle_timeout = 10;
	c->xfr_timeout = 30;
	c->verbosity = 1;
}

void cfg_free(struct cfg *c)
{
	free(c->zones);
	c->zones = NULL;
	c->n_zones = 0;
}

/* Decimal digits only (no sign, no blanks, which strtoul would allow).
 * Returns 0, -1 when not a number, -2 when above hi. */
static int parse_num(const char *s, unsigned long hi, unsigned long *out)
{
	unsigned long v = 0;
	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > hi)
			continue; /* keep checking the syntax, the range is lost */
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v > hi)
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

const struct cfg_zone *cfg_find_zone(const struct cfg *c, const uint8_t *name)
{
	for (size_t i = 0; i < c->n_zones; i++)
		if (name_equal(c->zones[i].name, name))
			return &c->zones[i];
	return NULL;
}

int cfg_add_zone(struct cfg *c, const struct cfg_zone *z)
{
	size_t n = c->n_zones;
	/* The capacity is implied by the count: 4, then each power of two. */
	if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) {
		size_t cap = n ? 2 * n : 4;
		struct cfg_zone *nz = realloc(c->zones, cap * sizeof *nz);
		if (!nz)
			return -1;
		c->zones = nz;
	}
	c->zones[n] = *z;
	c->n_zones = n + 1;
	return 0;
}

int cfg_zone_name(struct cfg_zone *z, const char *s)
{
	int rc = name_from_text(s, z->name);
	if (rc < 0)
		return rc;
	name_lower(z->name);
	rc = name_to_text(z->name, z->text, sizeof z->text);
	if (rc < 0)
		return NAME_ETEXT;
	if (rc > 1)
		z->text[rc - 1] = '\0'; /* drop the final dot, keep "." */
	return 0;
}

/* The file parser.  The zone being read is kept here and appended to the
 * configuration only once its section is complete. */
struct parser {
	struct cfg *c;
	const char *path;
	unsigned line;
	char *err;
	size_t errlen;
	enum { SEC_NONE, SEC_SERVER, SEC_ZONE } sec;
	struct cfg_zone zone;
	int zone_named;
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
	if (strcmp(k, "pidfile") == 0) {
		if (strlen(v) >= sizeof c->pidfile)
			return fail(p, "pidfile path longer than %zu characters",
				    sizeof c->pidfile - 1);
		strcpy(c->pidfile, v);
		return 0;
	}
	return fail(p, "unknown key '%s' in server section", k);
}

static int zone_key(struct parser *p, const char *k, const char *v)
{
	struct cfg_zone *z = &p->zone;

	if (strcmp(k, "name") == 0) {
		const struct cfg_zone *old;
		int rc;
		if (p->zone_named)
			return fail(p, "second name for zone '%s'", z->text);
		rc = cfg_zone_name(z, v);
		if (rc < 0)
			return fail(p, "bad zone name '%s': %s", v, name_strerror(rc));
		old = cfg_find_zone(p->c, z->name);
		if (old)
			return fail(p, "duplicate zone '%s' (first at line %u)", z->text, old->line);
		p->zone_named = 1;
		return 0;
	}
	if (strcmp(k, "primary") == 0) {
		if (z->n_primary == CFG_MAX_PRIMARIES)
			return fail(p, "too many primaries (at most %d)", CFG_MAX_PRIMARIES);
		if (cfg_parse_addr(v, 53, &z->primary[z->n_primary]) < 0)
			return fail(p, "bad address '%s'", v);
		z->n_primary++;
		return 0;
	}
	if (strcmp(k, "allow-notify") == 0) {
		if (z->n_allow_notify == CFG_MAX_ACL)
			return fail(p, "too many allow-notify prefixes (at most %d)", CFG_MAX_ACL);
		if (cfg_parse_prefix(v, &z->allow_notify[z->n_allow_notify]) < 0)
			return fail(p, "bad prefix '%s'", v);
		z->n_allow_notify++;
		return 0;
	}
	if (strcmp(k, "strip-dnssec") == 0)
		return get_bool(p, v, &z->strip_dnssec);
	return fail(p, "unknown key '%s' in zone section", k);
}

/* A zone section ends at the next section or at the end of the file; its
 * mistakes are reported at its "zone:" line. */
static int end_section(struct parser *p)
{
	if (p->sec != SEC_ZONE)
		return 0;
	p->sec = SEC_NONE;
	if (!p->zone_named)
		return fail_at(p, p->zone.line, "zone without name");
	if (p->zone.n_primary == 0)
		return fail_at(p, p->zone.line, "zone '%s' has no primary", p->zone.text);
	if (cfg_add_zone(p->c, &p->zone) < 0)
		return fail_at(p, p->zone.line, "out of memory");
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

	if (strcmp(k, "server") == 0 || strcmp(k, "zone") == 0) {
		if (*v)
			return fail(p, "nothing may follow '%s:'", k);
		if (end_section(p) < 0)
			return -1;
		if (*k == 's') {
			p->sec = SEC_SERVER;
		} else {
			p->sec = SEC_ZONE;
			memset(&p->zone, 0, sizeof p->zone);
			p->zone.line = p->line;
			p->zone_named = 0;
		}
		return 0;
	}
	if (p->sec == SEC_NONE)
		return fail(p, "key outside of a section");
	if (*v == '\0')
		return fail(p, "missing value for '%s'", k);
	return p->sec == SEC_SERVER ? server_key(p, k, v) : zone_key(p, k, v);
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
	while (rc == 0 && (n = getline(&buf, &cap, f)) >= 0) {
		p->line++;
		if (strlen(buf) != (size_t)n)
			rc = fail(p, "NUL character in line");
		else
			rc = parse_line(p, buf);
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		rc = -1;
	}
	if (rc == 0)
		rc = end_section(p);
	free(buf);
	free(p);
	fclose(f);
	return rc;
}
