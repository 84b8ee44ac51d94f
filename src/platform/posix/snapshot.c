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

#define MAGIC "ICBZ"
#define FORMAT 2u /* 2: the zone version has a hash index */
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

/* A file name for a zone: its name with anything unusual escaped. */
static void path_for(char *out, size_t len, const char *dir, const char *name, const char *ext)
{
	char safe[1100];
	size_t o = 0;
	if (strcmp(name, ".") == 0)
		name = "root";
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

/* Write, flush to disk, rename over the old copy, flush the directory. */
static int write_atomic(const char *dir, const char *path, const void *a, size_t alen,
			const void *b, size_t blen, const void *c, size_t clen)
{
	char tmp[1400];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	const uint8_t *parts[3] = { a, b, c };
	size_t lens[3] = { alen, blen, clen };
	for (int i = 0; i < 3; i++) {
		size_t done = 0;
		while (done < lens[i]) {
			ssize_t n = write(fd, parts[i] + done, lens[i] - done);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				goto fail;
			}
			done += (size_t)n;
		}
	}
	if (fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
fail:;
	int e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = e;
	return -1;
}

int snapshot_save(const char *dir, const char *name, const struct zone *z)
{
	char path[1300];
	uint8_t h[HDR];
	path_for(path, sizeof(path), dir, name, ".zone");
	memcpy(h, MAGIC, 4);
	put32x(h + 4, FORMAT);
	/* The block's layout is this build's: its sizes guard against
	 * reading a copy written by a different build. */
	put32x(h + 8, (uint32_t)sizeof(struct zone));
	put32x(h + 12, (uint32_t)((sizeof(struct zone_node) << 16) | sizeof(struct zone_rrset)));
	/* The pointers are this process's: write them as NULL, so that the
	 * same zone always gives the same file. */
	struct zone head = *z;
	head.nodes = NULL;
	head.rrsets = NULL;
	head.nsec3 = NULL;
	head.aux = NULL;
	head.hash = NULL;
	head.data = NULL;
	size_t hs = sizeof(head);
	const uint8_t *rest = (const uint8_t *)z + hs;
	put64(h + 16, (uint64_t)z->bytes);
	put64(h + 24, fnv(fnv(FNV_INIT, (const uint8_t *)&head, hs), rest, z->bytes - hs));
	put64(h + 32, 0);
	if (write_atomic(dir, path, h, HDR, &head, hs, rest, z->bytes - hs) < 0)
		return -1;
	return snapshot_checked(dir, name, time(NULL));
}

int snapshot_checked(const char *dir, const char *name, time_t when)
{
	char path[1300];
	uint8_t b[16];
	path_for(path, sizeof(path), dir, name, ".checked");
	put64(b, (uint64_t)when);
	put64(b + 8, fnv(FNV_INIT, b, 8));
	return write_atomic(dir, path, b, sizeof(b), NULL, 0, NULL, 0);
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
