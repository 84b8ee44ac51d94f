/* Persistence of zone versions. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../core/name.h"

#define MAGIC "ICBZ"
/* 2: the zone version has a hash index; 3: and patch fields; 4: and the
 * fields of reshaped versions */
#define FORMAT 4u
#define HDR 40

/* FNV-1a, 64 bits: it detects a torn or damaged file, nothing more. */
static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}
#define FNV_INIT 0xcbf29ce484222325ull

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static void put32x(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32x(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* A file name for a zone: its name with anything unusual escaped (the
 * root's "." too, as "%2E": no other zone's file name starts so). */
static void path_for(char *out, size_t len, const char *dir, const char *name, const char *ext)
{
	char safe[1100];
	size_t o = 0;
	for (const char *p = name; *p && o + 4 < sizeof(safe); p++) {
		unsigned char c = (unsigned char)*p;
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    (c == '.' && p != name))
			safe[o++] = (char)c;
		else if (c >= 'A' && c <= 'Z')
			safe[o++] = (char)(c + 32);
		else
			o += (size_t)snprintf(safe + o, sizeof(safe) - o, "%%%02X", c);
	}
	safe[o] = '\0';
	snprintf(out, len, "%s/%s%s", dir, safe, ext);
}

/* Octets on their way to a file, written in blocks. */
struct sink {
	int fd;
	int err;            /* errno of a failed write, or 0 */
	size_t used;
	uint8_t buf[16384];
};

static void sink_flush(struct sink *s)
{
	size_t done = 0;
	while (done < s->used && !s->err) {
		ssize_t n = write(s->fd, s->buf + done, s->used - done);
		if (n < 0 && errno != EINTR)
			s->err = errno;
		else if (n > 0)
			done += (size_t)n;
	}
	s->used = 0;
}

static void sink_put(void *ctx, const void *p, size_t n)
{
	struct sink *s = ctx;
	if (n == 0)
		return;
	const uint8_t *q = p;
	while (n && !s->err) {
		size_t k = sizeof(s->buf) - s->used < n ? sizeof(s->buf) - s->used : n;
		memcpy(s->buf + s->used, q, k);
		s->used += k;
		q += k;
		n -= k;
		if (s->used == sizeof(s->buf))
			sink_flush(s);
	}
}

/* Write through fill, flush to disk, rename over the old copy, flush the
 * directory. */
static int write_atomic(const char *dir, const char *path, void (*fill)(struct sink *, void *),
			void *ctx)
{
	char tmp[1400];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	struct sink *s = malloc(sizeof(*s));
	if (!s)
		return -1;
	s->fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (s->fd < 0) {
		free(s);
		return -1;
	}
	s->err = 0;
	s->used = 0;
	fill(s, ctx);
	sink_flush(s);
	if (s->err) {
		errno = s->err;
		goto fail;
	}
	if (fsync(s->fd) < 0)
		goto fail;
	int fd = s->fd;
	s->fd = -1;
	if (close(fd) < 0)
		goto fail;
	if (rename(tmp, path) < 0)
		goto fail;
	free(s);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
fail:;
	int e = errno;
	if (s->fd >= 0)
		close(s->fd);
	free(s);
	unlink(tmp);
	errno = e;
	return -1;
}

static void sum_put(void *ctx, const void *p, size_t n)
{
	uint64_t *sum = ctx;
	*sum = fnv(*sum, p, n);
}

/* The header, then the zone as one whole block (zone_flatten), which it
 * gives twice: first to sum it, then to write it. */
static void fill_zone(struct sink *s, void *ctx)
{
	const struct zone *z = ctx;
	uint64_t sum = FNV_INIT;
	size_t len = zone_flatten(z, sum_put, &sum);
	uint8_t h[HDR];
	memcpy(h, MAGIC, 4);
	put32x(h + 4, FORMAT);
	/* The block's layout is this build's: its sizes guard against
	 * reading a copy written by a different build. */
	put32x(h + 8, (uint32_t)sizeof(struct zone));
	put32x(h + 12, (uint32_t)((sizeof(struct zone_node) << 16) | sizeof(struct zone_rrset)));
	put64(h + 16, (uint64_t)len);
	put64(h + 24, sum);
	put64(h + 32, 0);
	sink_put(s, h, HDR);
	zone_flatten(z, sink_put, s);
}

int snapshot_save(const char *dir, const char *name, const struct zone *z)
{
	char path[1300];
	path_for(path, sizeof(path), dir, name, ".zone");
	if (write_atomic(dir, path, fill_zone, (void *)(uintptr_t)z) < 0)
		return -1;
	return snapshot_checked(dir, name, time(NULL));
}

static void fill_checked(struct sink *s, void *ctx)
{
	sink_put(s, ctx, 16);
}

int snapshot_checked(const char *dir, const char *name, time_t when)
{
	char path[1300];
	uint8_t b[16];
	path_for(path, sizeof(path), dir, name, ".checked");
	put64(b, (uint64_t)when);
	put64(b + 8, fnv(FNV_INIT, b, 8));
	return write_atomic(dir, path, fill_checked, b);
}

int snapshot_remove(const char *dir, const char *name)
{
	char path[1300];
	int rc = 0;
	path_for(path, sizeof(path), dir, name, ".zone");
	if (unlink(path) < 0 && errno != ENOENT)
		rc = -1;
	path_for(path, sizeof(path), dir, name, ".checked");
	if (unlink(path) < 0 && errno != ENOENT)
		rc = -1;
	return rc;
}

int snapshot_load(const char *dir, const char *name, struct zone **out, time_t *checked,
		  const char **why)
{
	char path[1300];
	uint8_t h[HDR], c[16];
	*out = NULL;
	path_for(path, sizeof(path), dir, name, ".zone");
	FILE *f = fopen(path, "rb");
	if (!f) {
		if (errno == ENOENT)
			return 1;
		*why = strerror(errno);
		return -1;
	}
	struct zone *z = NULL;
	*why = "truncated or not a zone copy";
	if (fread(h, 1, HDR, f) != HDR || memcmp(h, MAGIC, 4) != 0)
		goto bad;
	*why = "written by another version of icbind";
	if (get32x(h + 4) != FORMAT || get32x(h + 8) != sizeof(struct zone) ||
	    get32x(h + 12) != ((sizeof(struct zone_node) << 16) | sizeof(struct zone_rrset)))
		goto bad;
	uint64_t len = get64(h + 16);
	*why = "truncated";
	if (len < sizeof(struct zone) || len > ((uint64_t)1 << 40))
		goto bad;
	z = malloc((size_t)len);
	*why = "out of memory";
	if (!z)
		goto bad;
	*why = "truncated";
	if (fread(z, 1, (size_t)len, f) != (size_t)len || fgetc(f) != EOF)
		goto bad;
	*why = "checksum mismatch";
	if (fnv(FNV_INIT, (const uint8_t *)z, (size_t)len) != get64(h + 24))
		goto bad;
	*why = "inconsistent zone data";
	if (zone_adopt(z, (size_t)len) < 0)
		goto bad;
	/* A sound copy of another zone (a file copied or renamed by hand)
	 * is no copy of this one. */
	uint8_t apex[NAME_MAXLEN];
	*why = "a copy of another zone";
	if (name_from_text(name, apex) < 0 || !name_equal(apex, z->apex))
		goto bad;
	fclose(f);

	/* The time of the last successful check; without it, the time the
	 * copy was written. */
	struct stat st;
	*checked = stat(path, &st) == 0 ? st.st_mtime : 0;
	path_for(path, sizeof(path), dir, name, ".checked");
	f = fopen(path, "rb");
	if (f) {
		if (fread(c, 1, sizeof(c), f) == sizeof(c) && fnv(FNV_INIT, c, 8) == get64(c + 8) &&
		    (time_t)get64(c) > *checked)
			*checked = (time_t)get64(c);
		fclose(f);
	}
	*out = z;
	return 0;
bad:
	free(z);
	fclose(f);
	return -1;
}
