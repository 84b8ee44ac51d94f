/* libFuzzer harness: the configuration file parser
 * (src/platform/posix/config.c).
 *
 * The input is the file.  cfg_load_file() takes a path, so the bytes go
 * to an in-memory file (memfd_create; a temporary file where that is
 * missing) that is read back through /proc/self/fd.  Invariants:
 *   - the result is 0 or -1;
 *   - an error is "PATH:LINE: message" with LINE between 1 and the number
 *     of lines of the file and a message after it;
 *   - after an error no zone is left pointing at a key that does not
 *     exist (drop_refs), and cfg_free() frees everything (LSan);
 *   - a file that loads gives a sound configuration: every zone named,
 *     with 1 to 8 primaries, keys that exist, timer bounds in order,
 *     found again by name through the index; every key found by name;
 *     the server's numbers within their documented ranges. */
#define _GNU_SOURCE
#include <ctype.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "platform/posix/config.h"

static int fd = -1;
static char path[256];

static void init(void)
{
#ifdef MFD_CLOEXEC
	fd = memfd_create("icbind-fuzz.conf", MFD_CLOEXEC);
#endif
	if (fd >= 0) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	} else {
		const char *t = getenv("TMPDIR");
		snprintf(path, sizeof(path), "%s/icbind-fuzz-XXXXXX", t ? t : "/tmp");
		fd = mkstemp(path);
		if (fd < 0) {
			perror("fuzz_config: temporary file");
			exit(2);
		}
		unlink(path); /* the name stays usable through /proc */
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
}

static void write_file(const uint8_t *data, size_t size)
{
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size) {
		perror("fuzz_config: write");
		exit(2);
	}
}

static void check_refs(const struct cfg *c)
{
	for (size_t i = 0; i < c->n_zones; i++) {
		const struct cfg_zone *z = &c->zones[i];
		FUZZ_CHECK(z->n_primary <= CFG_MAX_PRIMARIES && z->n_allow_notify <= CFG_MAX_ACL,
			   "zone %zu: %zu primaries, %zu allow-notify", i, z->n_primary,
			   z->n_allow_notify);
		for (size_t j = 0; j < z->n_primary; j++)
			FUZZ_CHECK(z->primary_key[j] == CFG_NO_KEY ||
					   (z->primary_key[j] >= 0 &&
					    (size_t)z->primary_key[j] < c->n_keys),
				   "zone %s primary %zu: key %d of %zu", z->text, j,
				   z->primary_key[j], c->n_keys);
		for (size_t j = 0; j < z->n_allow_notify; j++)
			FUZZ_CHECK(z->allow_notify_key[j] == CFG_NO_KEY ||
					   (z->allow_notify_key[j] >= 0 &&
					    (size_t)z->allow_notify_key[j] < c->n_keys),
				   "zone %s allow-notify %zu: key %d of %zu", z->text, j,
				   z->allow_notify_key[j], c->n_keys);
	}
}

static void check_ok(const struct cfg *c)
{
	FUZZ_CHECK(c->n_listen <= CFG_MAX_LISTEN, "%zu listen", c->n_listen);
	FUZZ_CHECK(c->udp_max_payload >= 512 && c->udp_max_payload <= 4096,
		   "udp-max-payload %u", c->udp_max_payload);
	FUZZ_CHECK(c->tcp_clients >= 1 && c->tcp_clients <= 65535, "tcp-clients %u",
		   c->tcp_clients);
	FUZZ_CHECK(c->tcp_idle_timeout >= 1 && c->tcp_idle_timeout <= 3600,
		   "tcp-idle-timeout %u", c->tcp_idle_timeout);
	FUZZ_CHECK(c->xfr_timeout >= 1 && c->xfr_timeout <= 3600, "xfr-timeout %u",
		   c->xfr_timeout);
	FUZZ_CHECK(c->verbosity <= 3, "verbosity %u", c->verbosity);
	FUZZ_CHECK(c->xfr_concurrency >= 1 && c->xfr_concurrency <= 1024,
		   "xfr-concurrency %u", c->xfr_concurrency);
	FUZZ_CHECK(memchr(c->pidfile, 0, sizeof(c->pidfile)) &&
			   memchr(c->data_dir, 0, sizeof(c->data_dir)),
		   "unterminated path");
	for (size_t i = 0; i < c->n_listen; i++)
		FUZZ_CHECK(c->listen[i].sa.ss_family == AF_INET ||
				   c->listen[i].sa.ss_family == AF_INET6,
			   "listen %zu: family %d", i, c->listen[i].sa.ss_family);
	for (size_t i = 0; i < c->n_zones; i++) {
		const struct cfg_zone *z = &c->zones[i];
		int l = name_check(z->name, sizeof(z->name));
		FUZZ_CHECK(l > 0, "zone %zu: bad wire name", i);
		FUZZ_CHECK(z->n_primary >= 1, "zone %s without a primary", z->text);
		FUZZ_CHECK(z->min_refresh <= z->max_refresh && z->min_retry <= z->max_retry &&
				   z->min_expire <= z->max_expire,
			   "zone %s: timer bounds out of order", z->text);
		FUZZ_CHECK(cfg_find_zone(c, z->name) == z, "zone %s not found by name", z->text);
		uint8_t lower[NAME_MAXLEN];
		memcpy(lower, z->name, (size_t)l);
		name_lower(lower);
		FUZZ_CHECK(memcmp(lower, z->name, (size_t)l) == 0, "zone %s: name not lower case",
			   z->text);
		for (size_t j = 0; j < z->n_primary; j++)
			FUZZ_CHECK(z->primary[j].sa.ss_family == AF_INET ||
					   z->primary[j].sa.ss_family == AF_INET6,
				   "zone %s primary %zu: family", z->text, j);
		for (size_t j = 0; j < z->n_allow_notify; j++) {
			const struct cfg_prefix *p = &z->allow_notify[j];
			FUZZ_CHECK((p->family == AF_INET && p->bits <= 32) ||
					   (p->family == AF_INET6 && p->bits <= 128),
				   "zone %s allow-notify %zu: /%u", z->text, j, p->bits);
		}
	}
	for (size_t i = 0; i < c->n_keys; i++) {
		const struct cfg_key *k = &c->keys[i];
		FUZZ_CHECK(name_check(k->key.name, sizeof(k->key.name)) > 0, "key %zu: name", i);
		FUZZ_CHECK(cfg_find_key(c, k->key.name) == (int)i, "key %s not found by name",
			   k->text);
		FUZZ_CHECK(k->key.secret_len >= 1 && k->key.secret_len <= TSIG_MAX_SECRET,
			   "key %s: secret of %zu octets", k->text, k->key.secret_len);
		FUZZ_CHECK(hmac_len(k->key.alg) > 0, "key %s: algorithm %d", k->text,
			   (int)k->key.alg);
	}
	check_refs(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		init();
		ready = 1;
	}
	if (size > 1 << 20)
		return 0;
	write_file(data, size);
	unsigned lines = 0;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (size && data[size - 1] != '\n')
		lines++;

	struct cfg c;
	char err[512];
	memset(err, 0, sizeof(err));
	cfg_init(&c);
	int rc = cfg_load_file(&c, path, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == -1, "cfg_load_file gave %d", rc);
	if (rc == 0) {
		check_ok(&c);
	} else {
		size_t pl = strlen(path);
		FUZZ_CHECK(memchr(err, 0, sizeof(err)) != NULL, "unterminated message");
		FUZZ_CHECK(strncmp(err, path, pl) == 0 && err[pl] == ':',
			   "message without the file name: \"%s\"", err);
		const char *p = err + pl + 1;
		char *end;
		unsigned long line = strtoul(p, &end, 10);
		FUZZ_CHECK(isdigit((unsigned char)*p) && end[0] == ':' && end[1] == ' ' && end[2],
			   "message without a line number: \"%s\"", err);
		FUZZ_CHECK(line >= 1 && line <= (lines ? lines : 1),
			   "line %lu of a file of %u lines: \"%s\"", line, lines, err);
		check_refs(&c);
	}
	cfg_free(&c);
	return 0;
}
