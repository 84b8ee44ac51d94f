/* Building small zones from text for the unit tests. */
#include "testzone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rrtype.h"
#include "core/xfr.h"
#include "core/zonebuilder.h"

int tz_name(const char *text, const char *apex, uint8_t *out)
{
	char full[600];
	size_t l = strlen(text);
	if (strcmp(text, "@") == 0)
		snprintf(full, sizeof(full), "%s", apex);
	else if (l && text[l - 1] == '.')
		snprintf(full, sizeof(full), "%s", text);
	else
		snprintf(full, sizeof(full), "%s.%s", text, apex);
	return name_from_text(full, out);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RDATA from the words after the type; returns its length or -1. */
static int rdata(const char *apex, const char *type, char **w, int nw, uint8_t *rd)
{
	int n = 0;
	uint8_t nm[NAME_MAXLEN];
#define NAME(i) do { int k_ = tz_name(w[i], apex, nm); if (k_ < 0) return -1; \
	memcpy(rd + n, nm, (size_t)k_); n += k_; } while (0)
#define U16(v) do { unsigned v_ = (unsigned)(v); rd[n++] = (uint8_t)(v_ >> 8); rd[n++] = (uint8_t)v_; } while (0)
#define U32(v) do { unsigned long w_ = (v); U16(w_ >> 16); U16(w_ & 0xFFFF); } while (0)
	if (!strcmp(type, "A") && nw == 1) {
		unsigned a, b, c, d;
		if (sscanf(w[0], "%u.%u.%u.%u", &a, &b, &c, &d) != 4)
			return -1;
		rd[0] = (uint8_t)a; rd[1] = (uint8_t)b; rd[2] = (uint8_t)c; rd[3] = (uint8_t)d;
		return 4;
	}
	if (!strcmp(type, "AAAA") && nw == 1) {
		const char *p = w[0];
		for (int i = 0; i < 8; i++) {
			unsigned v = (unsigned)strtoul(p, (char **)&p, 16);
			U16(v);
			if (*p == ':')
				p++;
		}
		return n;
	}
	if ((!strcmp(type, "NS") || !strcmp(type, "CNAME") || !strcmp(type, "DNAME") ||
	     !strcmp(type, "PTR")) && nw == 1) {
		NAME(0);
		return n;
	}
	if (!strcmp(type, "MX") && nw == 2) {
		U16(atoi(w[0]));
		NAME(1);
		return n;
	}
	if (!strcmp(type, "SRV") && nw == 4) {
		U16(atoi(w[0]));
		U16(atoi(w[1]));
		U16(atoi(w[2]));
		NAME(3);
		return n;
	}
	if (!strcmp(type, "TXT") && nw >= 1) {
		for (int i = 0; i < nw; i++) {
			size_t l = strlen(w[i]);
			rd[n++] = (uint8_t)l;
			memcpy(rd + n, w[i], l);
			n += (int)l;
		}
		return n;
	}
	if (!strcmp(type, "SOA") && nw == 7) {
		NAME(0);
		NAME(1);
		for (int i = 2; i < 7; i++)
			U32(strtoul(w[i], NULL, 10));
		return n;
	}
	if (!strncmp(type, "TYPE", 4) && nw == 1) {
		for (const char *p = w[0]; p[0] && p[1]; p += 2)
			rd[n++] = (uint8_t)(hexval(p[0]) * 16 + hexval(p[1]));
		return n;
	}
	return -1;
#undef NAME
#undef U16
#undef U32
}

static int type_num(const char *t)
{
	static const struct { const char *n; int t; } m[] = {
		{ "A", T_A }, { "AAAA", T_AAAA }, { "NS", T_NS }, { "CNAME", T_CNAME },
		{ "DNAME", T_DNAME }, { "PTR", T_PTR }, { "MX", T_MX }, { "SRV", T_SRV },
		{ "TXT", T_TXT }, { "SOA", T_SOA },
	};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (!strcmp(m[i].n, t))
			return m[i].t;
	if (!strncmp(t, "TYPE", 4))
		return atoi(t + 4);
	return -1;
}

struct zone *tz_build(const char *apex_text, const char *const *recs)
{
	uint8_t apex[NAME_MAXLEN], owner[NAME_MAXLEN], rd[1024];
	struct zone_builder b;
	struct zone *z = NULL;
	name_from_text(apex_text, apex);
	zb_init(&b, apex, 0);
	for (; *recs; recs++) {
		char line[512], *w[16];
		int nw = 0;
		snprintf(line, sizeof(line), "%s", *recs);
		for (char *t = strtok(line, " "); t && nw < 16; t = strtok(NULL, " "))
			w[nw++] = t;
		int type = nw >= 3 ? type_num(w[2]) : -1;
		int len = type >= 0 ? rdata(apex_text, w[2], w + 3, nw - 3, rd) : -1;
		if (len < 0 || tz_name(w[0], apex_text, owner) < 0 ||
		    zb_begin(&b, owner, (uint16_t)type, (uint32_t)atol(w[1])) < 0 ||
		    zb_rdata(&b, rd, (size_t)len) < 0 || zb_end(&b) < 0) {
			printf("tz_build: bad record '%s' (%s)\n", *recs, b.err ? b.err : "syntax");
			zb_free(&b);
			return NULL;
		}
	}
	if (zb_finish(&b, &z) < 0)
		printf("tz_build: %s\n", b.err);
	return z;
}

void tz_txt_records(const char **recs, size_t *k, char (*lines)[80], const char *owner, int n)
{
	for (int i = 0; i < n; i++) {
		snprintf(lines[i], sizeof(lines[i]),
			 "%s 300 TXT record-number-%02d-with-some-padding-to-be-long", owner, i);
		recs[(*k)++] = lines[i];
	}
}

int tz_transfer(const uint8_t *stream, size_t len, const uint8_t *apex, int mode,
		unsigned long seed, int strip, struct tsig_stream *ts, uint64_t now,
		struct zone **out, struct xfr_parser *p)
{
	static struct zone_builder zb;
	zb_init(&zb, apex, 0);
	xfr_init(p, apex, 0x1234, &zb, strip);
	if (ts)
		xfr_set_tsig(p, ts, now);
	size_t pos = 0;
	int rc = XFR_MORE;
	while (pos < len && rc == XFR_MORE) {
		size_t n = len - pos;
		if (mode == 1) {
			n = 1;
		} else if (mode >= 2) {
			seed = seed * 1103515245u + 12345u;
			size_t k = 1 + (seed >> 8) % (mode == 2 ? 7 : 3000);
			n = k < n ? k : n;
		}
		rc = xfr_feed(p, stream + pos, n);
		pos += n;
	}
	if (rc == XFR_MORE)
		rc = xfr_end(p);
	*out = NULL;
	if (rc == XFR_DONE && zb_finish(&zb, out) < 0) {
		printf("zb_finish: %s\n", zb.err);
		rc = XFR_FAIL;
	}
	zb_free(&zb);
	xfr_free(p);
	return rc;
}
