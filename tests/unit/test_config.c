/* The configuration file, the address syntax and the command line. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "test.h"
#include "../../src/platform/posix/config.h"
#include "../../src/platform/posix/options.h"

#define ERRLEN 512

void test_config(void);

/* A temporary file holding len bytes of text; path gets its name. */
static int tmp_file(char *path, size_t plen, const char *text, size_t len)
{
	snprintf(path, plen, "/tmp/icbind-test-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

/* err is exactly "PATH:LINE: msg". */
static int err_is(const char *err, const char *path, unsigned line, const char *msg)
{
	char want[ERRLEN];
	snprintf(want, sizeof want, "%s:%u: %s", path, line, msg);
	if (strcmp(err, want) == 0)
		return 1;
	printf("  want: %s\n  got:  %s\n", want, err);
	return 0;
}

static int str_is(const char *got, const char *want)
{
	if (strcmp(got, want) == 0)
		return 1;
	printf("  want: %s\n  got:  %s\n", want, got);
	return 0;
}

/* Loading text fails at line with msg. */
static void load_fails(const char *text, size_t len, unsigned line, const char *msg)
{
	char path[64], err[ERRLEN] = "";
	struct cfg c;
	CHECK(tmp_file(path, sizeof path, text, len) == 0);
	cfg_init(&c);
	CHECK_EQ(cfg_load_file(&c, path, err, sizeof err), -1);
	CHECK(err_is(err, path, line, msg));
	cfg_free(&c);
	unlink(path);
}

#define FAILS(text, line, msg) load_fails((text), sizeof(text) - 1, (line), (msg))

static unsigned port_of(const struct cfg_addr *a)
{
	if (a->sa.ss_family == AF_INET) {
		struct sockaddr_in v4;
		memcpy(&v4, &a->sa, sizeof v4);
		return ntohs(v4.sin_port);
	}
	struct sockaddr_in6 v6;
	memcpy(&v6, &a->sa, sizeof v6);
	return ntohs(v6.sin6_port);
}

/* cfg_addr_str of a. */
static int addr_is(const struct cfg_addr *a, const char *want)
{
	char buf[64];
	return str_is(cfg_addr_str((const struct sockaddr *)&a->sa, buf, sizeof buf), want);
}

static void test_defaults(void)
{
	struct cfg c;
	cfg_init(&c);
	CHECK_EQ(c.udp_max_payload, 1232);
	CHECK_EQ(c.tcp_clients, 100);
	CHECK_EQ(c.tcp_idle_timeout, 10);
	CHECK_EQ(c.xfr_timeout, 30);
	CHECK_EQ(c.verbosity, 1);
	CHECK_EQ(c.n_listen, 0);
	CHECK_EQ(c.n_zones, 0);
	CHECK_EQ(c.foreground, 0);
	CHECK(c.pidfile[0] == '\0');
	CHECK_EQ(c.xfr_concurrency, 16);
	CHECK(c.data_dir[0] == '\0');
	CHECK_EQ(c.n_keys, 0);
	CHECK(c.keys == NULL);
	cfg_free(&c);

	struct cfg_zone z;
	memset(&z, 0x5a, sizeof z);
	cfg_zone_init(&z);
	CHECK_EQ(z.n_primary, 0);
	CHECK_EQ(z.n_allow_notify, 0);
	CHECK_EQ(z.strip_dnssec, 0);
	CHECK_EQ(z.request_ixfr, 1);
	CHECK_EQ(z.min_refresh, 1);
	CHECK_EQ(z.max_refresh, 86400);
	CHECK_EQ(z.min_retry, 1);
	CHECK_EQ(z.max_retry, 86400);
	CHECK_EQ(z.min_expire, 1);
	CHECK_EQ(z.max_expire, 2419200);
	CHECK_EQ(z.line, 0);
	for (int i = 0; i < CFG_MAX_PRIMARIES; i++)
		CHECK_EQ(z.primary_key[i], CFG_NO_KEY);
	for (int i = 0; i < CFG_MAX_ACL; i++)
		CHECK_EQ(z.allow_notify_key[i], CFG_NO_KEY);
}

static const char full_conf[] =
	"# a full configuration\n"
	"server:\n"
	"    listen: 127.0.0.1@5353       # comment after a value\n"
	"    listen: \"::1@5354\"\n"
	"\tudp-max-payload: 1400\n"
	"    tcp-clients: 7\r\n"
	"    tcp-idle-timeout: 5\n"
	"    xfr-timeout: 60\n"
	"    verbosity: 3\n"
	"    pidfile: \"/tmp/icbind #1.pid\"   # quoted '#' is kept\n"
	"\n"
	"zone:\n"
	"    name: Example.COM.\n"
	"    primary: 192.0.2.1@53\n"
	"    primary: 2001:db8::1@5300\n"
	"    allow-notify: 192.0.2.0/24\n"
	"    allow-notify: 2001:db8::/32\n"
	"    strip-dnssec: yes\n"
	"zone:   # second zone\n"
	"  name: \"example.org\"\n"
	"  primary: 2001:db8::2\n"
	"  strip-dnssec: no\n"
	"zone:\n"
	"  name: .\n"
	"  primary: 10.0.0.1\n"
	"server:\n"
	"  verbosity: 2\n";

static void test_full_file(void)
{
	char path[64], err[ERRLEN] = "";
	struct cfg c;

	CHECK(tmp_file(path, sizeof path, full_conf, sizeof full_conf - 1) == 0);
	cfg_init(&c);
	CHECK_EQ(cfg_load_file(&c, path, err, sizeof err), 0);
	CHECK(str_is(err, ""));
	CHECK_EQ(c.n_listen, 2);
	CHECK(addr_is(&c.listen[0], "127.0.0.1@5353"));
	CHECK(addr_is(&c.listen[1], "::1@5354"));
	CHECK_EQ(c.listen[0].len, sizeof(struct sockaddr_in));
	CHECK_EQ(c.listen[1].len, sizeof(struct sockaddr_in6));
	CHECK_EQ(c.udp_max_payload, 1400);
	CHECK_EQ(c.tcp_clients, 7);
	CHECK_EQ(c.tcp_idle_timeout, 5);
	CHECK_EQ(c.xfr_timeout, 60);
	CHECK_EQ(c.verbosity, 2); /* the second server section wins */
	CHECK(str_is(c.pidfile, "/tmp/icbind #1.pid"));
	CHECK_EQ(c.n_zones, 3);
	if (c.n_zones == 3) {
		const struct cfg_zone *z = &c.zones[0];
		CHECK(str_is(z->text, "example.com"));
		CHECK(memcmp(z->name, "\7example\3com", 13) == 0);
		CHECK_EQ(z->line, 12);
		CHECK_EQ(z->n_primary, 2);
		CHECK(addr_is(&z->primary[0], "192.0.2.1@53"));
		CHECK(addr_is(&z->primary[1], "2001:db8::1@5300"));
		CHECK_EQ(z->n_allow_notify, 2);
		CHECK_EQ(z->allow_notify[0].family, AF_INET);
		CHECK_EQ(z->allow_notify[0].bits, 24);
		CHECK_EQ(z->allow_notify[1].family, AF_INET6);
		CHECK_EQ(z->allow_notify[1].bits, 32);
		CHECK_EQ(z->strip_dnssec, 1);

		z = &c.zones[1];
		CHECK(str_is(z->text, "example.org"));
		CHECK_EQ(z->line, 19);
		CHECK_EQ(z->n_primary, 1);
		CHECK(addr_is(&z->primary[0], "2001:db8::2@53"));
		CHECK_EQ(z->n_allow_notify, 0);
		CHECK_EQ(z->strip_dnssec, 0);

		z = &c.zones[2];
		CHECK(str_is(z->text, "."));
		CHECK_EQ(z->name[0], 0);
		CHECK(addr_is(&z->primary[0], "10.0.0.1@53"));

		uint8_t n[NAME_MAXLEN];
		CHECK(name_from_text("EXAMPLE.org", n) > 0);
		CHECK(cfg_find_zone(&c, n) == &c.zones[1]);
		CHECK(name_from_text("example.net", n) > 0);
		CHECK(cfg_find_zone(&c, n) == NULL);
	}
	cfg_free(&c);
	CHECK(c.zones == NULL && c.n_zones == 0);
	unlink(path);
}

/* Many zones: the array grows past its first sizes. */
static void test_many_zones(void)
{
	char path[64], err[ERRLEN] = "", *text = malloc(100 * 64);
	size_t len = 0;
	struct cfg c;

	if (!text)
		return;
	for (int i = 0; i < 100; i++)
		len += (size_t)sprintf(text + len, "zone:\nname: z%d.example\nprimary: 10.0.0.%d\n",
				       i, i + 1);
	CHECK(tmp_file(path, sizeof path, text, len) == 0);
	cfg_init(&c);
	CHECK_EQ(cfg_load_file(&c, path, err, sizeof err), 0);
	CHECK_EQ(c.n_zones, 100);
	if (c.n_zones == 100) {
		CHECK(str_is(c.zones[0].text, "z0.example"));
		CHECK(str_is(c.zones[99].text, "z99.example"));
		CHECK(addr_is(&c.zones[99].primary[0], "10.0.0.100@53"));
		CHECK_EQ(c.zones[99].line, 298);
	}
	/* A second file appends, and its duplicates are caught. */
	CHECK_EQ(cfg_load_file(&c, path, err, sizeof err), -1);
	CHECK(err_is(err, path, 2, "duplicate zone 'z0.example' (first at line 1)"));
	cfg_free(&c);
	unlink(path);
	free(text);
}

static void test_file_errors(void)
{
	char err[ERRLEN], big[1024];
	struct cfg c;

	cfg_init(&c);
	CHECK_EQ(cfg_load_file(&c, "/nonexistent/icbind.conf", err, sizeof err), -1);
	snprintf(big, sizeof big, "/nonexistent/icbind.conf: cannot open: %s", strerror(ENOENT));
	CHECK(str_is(err, big));
	cfg_free(&c);

	FAILS("zone:\n name: example.com\n primari: 1.2.3.4\n", 3,
	      "unknown key 'primari' in zone section");
	FAILS("server:\n  listen: 1.2.3.4\n  lisen: 1.2.3.4\n", 3,
	      "unknown key 'lisen' in server section");
	FAILS("server:\n primary: 1.2.3.4\n", 2, "unknown key 'primary' in server section");
	FAILS("server:\n verbosity: 2\nzone:\n name: example.com\n\nzone:\n name: example.net\n"
	      " primary: 1.2.3.4\n", 3, "zone 'example.com' has no primary");
	FAILS("# last zone\n\nzone:\n name: example.com\n", 3,
	      "zone 'example.com' has no primary");
	FAILS("zone:\n primary: 1.2.3.4\nserver:\n", 1, "zone without name");
	FAILS("server:\n listen: 1.2.3.4@99999\n", 2, "bad address '1.2.3.4@99999'");
	FAILS("zone:\n name: a.example\n primary: 1.2.3.4@0\n", 3, "bad address '1.2.3.4@0'");
	FAILS("zone:\n name: a.example\n primary: [::1]@53\n", 3, "bad address '[::1]@53'");
	FAILS("zone:\n name: a.example\n primary: ns1.example\n", 3, "bad address 'ns1.example'");
	FAILS("zone:\n name: example.com\n primary: 1.2.3.4\n\nzone:\n name: EXAMPLE.com.\n", 6,
	      "duplicate zone 'example.com' (first at line 1)");
	FAILS("zone:\n name: a.example\n name: b.example\n", 3,
	      "second name for zone 'a.example'");
	FAILS("zone:\n name: a..example\n", 2, "bad zone name 'a..example': malformed name");
	FAILS("zone:\n name: a.example\n primary: 1.2.3.4\n allow-notify: 1.2.3.0/33\n", 4,
	      "bad prefix '1.2.3.0/33'");
	FAILS("zone:\n name: a.example\n strip-dnssec: true\n", 3,
	      "expected yes or no, not 'true'");
	FAILS("server:\n udp-max-payload: 511\n", 2, "value out of range 512..4096");
	FAILS("server:\n udp-max-payload: 4097\n", 2, "value out of range 512..4096");
	FAILS("server:\n udp-max-payload: 99999999999999999999999\n", 2,
	      "value out of range 512..4096");
	FAILS("server:\n verbosity: 4\n", 2, "value out of range 0..3");
	FAILS("server:\n tcp-clients: 0\n", 2, "value out of range 1..65535");
	FAILS("server:\n tcp-idle-timeout: 3601\n", 2, "value out of range 1..3600");
	FAILS("server:\n xfr-timeout: 0\n", 2, "value out of range 1..3600");
	FAILS("server:\n tcp-clients: 12x\n", 2, "bad number '12x'");
	FAILS("server:\n tcp-clients: -1\n", 2, "bad number '-1'");
	FAILS("# comment\n\nlisten: 1.2.3.4\n", 3, "key outside of a section");
	FAILS("# comment\nzones:\n", 2, "unknown section 'zones:' (sections are server:, zone:, key:, pattern:)");
	FAILS("SERVER:\n", 1, "unknown section 'SERVER:' (section names are lower case)");
	FAILS("server:\n Zone:\n", 2, "unknown section 'Zone:' (section names are lower case)");
	FAILS("include: \"other.conf\"\n", 1, "'include:' is not supported: the configuration is one file");
	FAILS("server:\n include: other.conf\n", 2, "'include:' is not supported: the configuration is one file");
	{
		/* A UTF-8 byte order mark before the first line is not text. */
		static const char bom[] = "\xEF\xBB\xBFserver:\n verbosity: 2\nzone:\n name: a.test\n primary: 192.0.2.1\n";
		char path[64], err[ERRLEN] = "";
		struct cfg c;
		CHECK(tmp_file(path, sizeof path, bom, sizeof(bom) - 1) == 0);
		cfg_init(&c);
		CHECK_EQ(cfg_load_file(&c, path, err, sizeof err), 0);
		CHECK_EQ(c.verbosity, 2);
		cfg_free(&c);
		unlink(path);
		FAILS("server:\n\xEF\xBB\xBFverbosity: 2\n", 2, "unknown key '\xEF\xBB\xBFverbosity' in server section");
	}
	FAILS("server:\n pidfile: \"/run/icbind.pid\n", 2, "missing closing quote");
	FAILS("server:\n pidfile: \"/run/a\" b\n", 2, "text after closing quote");
	FAILS("server:\n pidfile: /run/a\"b\n", 2, "stray quote");
	FAILS("server:\n pidfile:\n", 2, "missing value for 'pidfile'");
	FAILS("server:\n pidfile: \"\"\n", 2, "missing value for 'pidfile'");
	FAILS("server:\n verbosity 2\n", 2, "expected 'key: value'");
	FAILS("server:\n : 2\n", 2, "expected 'key: value'");
	FAILS("zone: example.com\n", 1, "nothing may follow 'zone:'");
	FAILS("server:\n verbosity: 2\0\n", 2, "NUL character in line");

	/* Limits. */
	char text[2048];
	size_t n = (size_t)sprintf(text, "server:\n");
	for (int i = 0; i <= CFG_MAX_LISTEN; i++)
		n += (size_t)sprintf(text + n, " listen: 10.0.0.%d\n", i);
	load_fails(text, n, CFG_MAX_LISTEN + 2, "too many listen addresses (at most 16)");
	n = (size_t)sprintf(text, "zone:\n name: a.example\n");
	for (int i = 0; i <= CFG_MAX_PRIMARIES; i++)
		n += (size_t)sprintf(text + n, " primary: 10.0.0.%d\n", i);
	load_fails(text, n, CFG_MAX_PRIMARIES + 3, "too many primaries (at most 8)");
	n = (size_t)sprintf(text, "zone:\n name: a.example\n primary: 10.0.0.1\n");
	for (int i = 0; i <= CFG_MAX_ACL; i++)
		n += (size_t)sprintf(text + n, " allow-notify: 10.0.%d.0/24\n", i);
	load_fails(text, n, CFG_MAX_ACL + 4, "too many allow-notify prefixes (at most 16)");

	/* pidfile: 255 characters fit, 256 do not. */
	char path[64], name[300];
	memset(name, 'p', sizeof name);
	name[0] = '/';
	name[255] = '\0';
	n = (size_t)snprintf(text, sizeof text, "server:\n pidfile: %s\n", name);
	CHECK(tmp_file(path, sizeof path, text, n) == 0);
	cfg_init(&c);
	CHECK_EQ(cfg_load_file(&c, path, err, sizeof err), 0);
	CHECK_EQ(strlen(c.pidfile), 255);
	cfg_free(&c);
	unlink(path);
	name[255] = 'p';
	name[256] = '\0';
	n = (size_t)snprintf(text, sizeof text, "server:\n pidfile: %s\n", name);
	load_fails(text, n, 2, "pidfile path longer than 255 characters");

	/* An empty file is valid; the zones come from elsewhere. */
	CHECK(tmp_file(path, sizeof path, "", 0) == 0);
	cfg_init(&c);
	CHECK_EQ(cfg_load_file(&c, path, err, sizeof err), 0);
	CHECK_EQ(c.n_zones, 0);
	cfg_free(&c);
	unlink(path);

	/* A short error buffer is cut, not overrun. */
	CHECK(tmp_file(path, sizeof path, "listen: 1.2.3.4\n", 16) == 0);
	cfg_init(&c);
	CHECK_EQ(cfg_load_file(&c, path, err, 8), -1);
	CHECK_EQ(strlen(err), 7);
	cfg_free(&c);
	unlink(path);
}

static void test_addr(void)
{
	struct cfg_addr a;

	CHECK_EQ(cfg_parse_addr("127.0.0.1", 53, &a), 0);
	CHECK_EQ(a.sa.ss_family, AF_INET);
	CHECK_EQ(a.len, sizeof(struct sockaddr_in));
	CHECK_EQ(port_of(&a), 53);
	CHECK(addr_is(&a, "127.0.0.1@53"));

	/* The port is stored in network order. */
	CHECK_EQ(cfg_parse_addr("10.1.2.3@5353", 53, &a), 0);
	struct sockaddr_in v4;
	memcpy(&v4, &a.sa, sizeof v4);
	const uint8_t *pb = (const uint8_t *)&v4.sin_port;
	CHECK(pb[0] == 0x14 && pb[1] == 0xe9);
	CHECK(addr_is(&a, "10.1.2.3@5353"));

	CHECK_EQ(cfg_parse_addr("::1@53", 0, &a), 0);
	CHECK_EQ(a.sa.ss_family, AF_INET6);
	CHECK_EQ(a.len, sizeof(struct sockaddr_in6));
	CHECK(addr_is(&a, "::1@53"));
	CHECK_EQ(cfg_parse_addr("::", 53, &a), 0);
	CHECK(addr_is(&a, "::@53"));
	CHECK_EQ(cfg_parse_addr("2001:DB8::1@65535", 53, &a), 0);
	CHECK(addr_is(&a, "2001:db8::1@65535"));
	CHECK_EQ(cfg_parse_addr("1.2.3.4@00053", 53, &a), 0);
	CHECK_EQ(port_of(&a), 53);
	CHECK_EQ(cfg_parse_addr("1.2.3.4@1", 53, &a), 0);
	CHECK_EQ(port_of(&a), 1);
	/* A v4-mapped address stays IPv6. */
	CHECK_EQ(cfg_parse_addr("::ffff:192.0.2.1@5300", 53, &a), 0);
	CHECK_EQ(a.sa.ss_family, AF_INET6);
	CHECK(addr_is(&a, "::ffff:192.0.2.1@5300"));

	const char *bad[] = {
		"", "@53", "1.2.3.4@", "1.2.3.4@0", "1.2.3.4@65536", "1.2.3.4@99999999999",
		"1.2.3.4@+53", "1.2.3.4@ 53", "1.2.3.4@53 ", "1.2.3.4@-1", "1.2.3.4@0x35",
		"[::1]@53", "[::1]", "1.2.3", "1.2.3.4.5", "256.1.1.1", " 1.2.3.4",
		"1.2.3.4@53@53", "::1%lo", "localhost", "2001:db8::1::2",
		"1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = cfg_parse_addr(bad[i], 53, &a);
		CHECK_EQ(rc, -1);
		if (rc != -1)
			printf("  accepted '%s'\n", bad[i]);
	}
	/* No default port and none given. */
	CHECK_EQ(cfg_parse_addr("1.2.3.4", 0, &a), -1);

	char small[8];
	CHECK_EQ(cfg_parse_addr("2001:db8::1@53", 53, &a), 0);
	cfg_addr_str((const struct sockaddr *)&a.sa, small, sizeof small);
	CHECK(str_is(small, "2001:db"));
}

static void test_prefix(void)
{
	struct cfg_prefix p;

	CHECK_EQ(cfg_parse_prefix("192.0.2.0/24", &p), 0);
	CHECK_EQ(p.family, AF_INET);
	CHECK_EQ(p.bits, 24);
	CHECK(memcmp(p.addr, "\xc0\x00\x02\x00", 4) == 0);
	CHECK_EQ(cfg_parse_prefix("192.0.2.1", &p), 0);
	CHECK_EQ(p.bits, 32);
	CHECK_EQ(cfg_parse_prefix("0.0.0.0/0", &p), 0);
	CHECK_EQ(p.bits, 0);
	CHECK_EQ(cfg_parse_prefix("10.0.0.0/32", &p), 0);
	CHECK_EQ(cfg_parse_prefix("2001:db8::/32", &p), 0);
	CHECK_EQ(p.family, AF_INET6);
	CHECK_EQ(p.bits, 32);
	CHECK_EQ(cfg_parse_prefix("::1/128", &p), 0);
	CHECK_EQ(p.bits, 128);
	CHECK_EQ(cfg_parse_prefix("::1", &p), 0);
	CHECK_EQ(p.bits, 128);
	CHECK_EQ(cfg_parse_prefix("::ffff:192.0.2.0/120", &p), 0);
	CHECK_EQ(p.family, AF_INET6);

	const char *bad[] = {
		"", "/24", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/+8",
		"10.0.0.0/8/8", "10.0.0.0/ 8", "2001:db8::/129", "2001:db8::/999999999999",
		"10.0.0.0@53", "10.0.0/8", "example.com/8",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = cfg_parse_prefix(bad[i], &p);
		CHECK_EQ(rc, -1);
		if (rc != -1)
			printf("  accepted '%s'\n", bad[i]);
	}
}

/* Does prefix contain the address "ADDR"? */
static int matches(const char *prefix, const char *addr)
{
	struct cfg_prefix p;
	struct cfg_addr a;
	if (cfg_parse_prefix(prefix, &p) < 0 || cfg_parse_addr(addr, 53, &a) < 0)
		return -1;
	return cfg_prefix_match(&p, (const struct sockaddr *)&a.sa);
}

static void test_match(void)
{
	CHECK_EQ(matches("192.0.2.0/24", "192.0.2.77"), 1);
	CHECK_EQ(matches("192.0.2.0/24", "192.0.3.1"), 0);
	CHECK_EQ(matches("192.0.2.0/25", "192.0.2.127"), 1);
	CHECK_EQ(matches("192.0.2.0/25", "192.0.2.128"), 0);
	CHECK_EQ(matches("192.0.2.1", "192.0.2.1@9999"), 1);
	CHECK_EQ(matches("192.0.2.1", "192.0.2.2"), 0);
	CHECK_EQ(matches("192.0.2.77/24", "192.0.2.1"), 1); /* host bits ignored */
	CHECK_EQ(matches("0.0.0.0/0", "203.0.113.9"), 1);
	CHECK_EQ(matches("0.0.0.0/0", "2001:db8::1"), 0);
	CHECK_EQ(matches("2001:db8::/32", "2001:db8:ffff::1"), 1);
	CHECK_EQ(matches("2001:db8::/32", "2001:db9::"), 0);
	CHECK_EQ(matches("2001:db8::/33", "2001:db8:8000::"), 0);
	CHECK_EQ(matches("2001:db8::1/128", "2001:db8::1"), 1);
	CHECK_EQ(matches("2001:db8::1/128", "2001:db8::2"), 0);
	CHECK_EQ(matches("::/0", "::1"), 1);
	CHECK_EQ(matches("::/0", "127.0.0.1"), 1); /* as ::ffff:127.0.0.1 */
	/* IPv4 peers seen through a dual-stack socket. */
	CHECK_EQ(matches("192.0.2.0/24", "::ffff:192.0.2.5"), 1);
	CHECK_EQ(matches("192.0.2.0/24", "::ffff:192.0.3.5"), 0);
	CHECK_EQ(matches("192.0.2.0/24", "2001:db8::c000:205"), 0);
	CHECK_EQ(matches("::ffff:192.0.2.0/120", "192.0.2.9"), 1);
	CHECK_EQ(matches("2001:db8::/32", "192.0.2.9"), 0);

	struct cfg_prefix p;
	struct sockaddr_un un;
	memset(&un, 0, sizeof un);
	un.sun_family = AF_UNIX;
	CHECK_EQ(cfg_parse_prefix("0.0.0.0/0", &p), 0);
	CHECK_EQ(cfg_prefix_match(&p, (const struct sockaddr *)&un), 0);
}

/* Run opts_parse on a fresh configuration. */
static int opts(struct cfg *c, char *err, char **argv)
{
	int argc = 0;
	while (argv[argc])
		argc++;
	cfg_init(c);
	err[0] = '\0';
	return opts_parse(argc, argv, NULL, c, err, ERRLEN);
}

#define ARGV(...) ((char *[]){ "icbind", __VA_ARGS__, NULL })

/* opts() with stdout sent to /dev/null, for --help and --version. */
static int opts_quiet(struct cfg *c, char *err, char **argv)
{
	int rc, saved, null;
	fflush(stdout);
	saved = dup(1);
	null = open("/dev/null", O_WRONLY);
	if (saved < 0 || null < 0)
		return -2;
	dup2(null, 1);
	close(null);
	rc = opts(c, err, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	return rc;
}

/* An opts() call that fails with exactly msg. */
static void opts_fail(char **argv, const char *msg)
{
	char err[ERRLEN];
	struct cfg c;
	CHECK_EQ(opts(&c, err, argv), -1);
	CHECK(str_is(err, msg));
	cfg_free(&c);
}

static void test_cli(void)
{
	char err[ERRLEN];
	struct cfg c;

	CHECK_EQ(opts(&c, err, ARGV("-z", "example.com", "-p", "127.0.0.1@5300", "-l",
				    "127.0.0.1@5353", "-f")), 0);
	CHECK(str_is(err, ""));
	CHECK_EQ(c.n_zones, 1);
	CHECK(str_is(c.zones[0].text, "example.com"));
	CHECK_EQ(c.zones[0].n_primary, 1);
	CHECK(addr_is(&c.zones[0].primary[0], "127.0.0.1@5300"));
	CHECK_EQ(c.zones[0].line, 0);
	CHECK_EQ(c.n_listen, 1);
	CHECK(addr_is(&c.listen[0], "127.0.0.1@5353"));
	CHECK_EQ(c.foreground, 1);
	CHECK_EQ(c.verbosity, 1);
	cfg_free(&c);

	/* Long forms, both ways of giving the argument; repeats. */
	CHECK_EQ(opts(&c, err, ARGV("--zone=Example.COM.", "--verbose", "--zone", "example.net",
				    "--primary", "192.0.2.1", "--primary=2001:db8::1@5300",
				    "--listen", "::1", "--listen=0.0.0.0@5353", "-vv")), 0);
	CHECK(str_is(err, ""));
	CHECK_EQ(c.n_zones, 2);
	CHECK(str_is(c.zones[0].text, "example.com"));
	CHECK(str_is(c.zones[1].text, "example.net"));
	CHECK_EQ(c.zones[1].n_primary, 2);
	CHECK(addr_is(&c.zones[1].primary[0], "192.0.2.1@53"));
	CHECK(addr_is(&c.zones[1].primary[1], "2001:db8::1@5300"));
	CHECK_EQ(c.n_listen, 2);
	CHECK(addr_is(&c.listen[0], "::1@53"));
	CHECK(addr_is(&c.listen[1], "0.0.0.0@5353"));
	CHECK_EQ(c.foreground, 0);
	CHECK_EQ(c.verbosity, 4);
	cfg_free(&c);

	/* A file: its zones first, then --zone; --listen replaces its listens. */
	static const char conf[] =
		"server:\n"
		"  listen: 127.0.0.1@5353\n"
		"  listen: ::1@5353\n"
		"  verbosity: 2\n"
		"zone:\n"
		"  name: example.com\n"
		"  primary: 192.0.2.1\n";
	char path[64];
	CHECK(tmp_file(path, sizeof path, conf, sizeof conf - 1) == 0);

	CHECK_EQ(opts(&c, err, ARGV("-c", path, "-v")), 0);
	CHECK_EQ(c.n_listen, 2);
	CHECK(addr_is(&c.listen[1], "::1@5353"));
	CHECK_EQ(c.verbosity, 3);
	CHECK_EQ(c.n_zones, 1);
	cfg_free(&c);

	CHECK_EQ(opts(&c, err, ARGV("--listen", "10.0.0.1@5300", "--config", path, "-z",
				    "example.org", "-p", "10.0.0.2")), 0);
	CHECK(str_is(err, ""));
	CHECK_EQ(c.n_listen, 1);
	CHECK(addr_is(&c.listen[0], "10.0.0.1@5300"));
	CHECK_EQ(c.n_zones, 2);
	CHECK(str_is(c.zones[0].text, "example.com"));
	CHECK(str_is(c.zones[1].text, "example.org"));
	CHECK(addr_is(&c.zones[1].primary[0], "10.0.0.2@53"));
	cfg_free(&c);

	char want[ERRLEN];
	snprintf(want, sizeof want, "duplicate zone 'example.com' (first at %s:5)", path);
	opts_fail(ARGV("-c", path, "-z", "EXAMPLE.com", "-p", "10.0.0.2"), want);
	opts_fail(ARGV("-c", path, "-c", path), "--config given twice");
	unlink(path);
	snprintf(want, sizeof want, "%s: cannot open: %s", path, strerror(ENOENT));
	opts_fail(ARGV("-c", path), want);

	/* A mistake in the file comes back with its line. */
	CHECK(tmp_file(path, sizeof path, "zone:\n  name: example.com\n", 26) == 0);
	CHECK_EQ(opts(&c, err, ARGV("-c", path)), -1);
	CHECK(err_is(err, path, 1, "zone 'example.com' has no primary"));
	cfg_free(&c);
	unlink(path);

	opts_fail(ARGV("-z", "example.com"), "--zone given without --primary");
	opts_fail(ARGV("-p", "10.0.0.1"), "--primary given without --zone");
	opts_fail(ARGV("-f"), "no zones configured: use --zone and --primary, or --config");
	opts_fail(((char *[]){ "icbind", NULL }),
		  "no zones configured: use --zone and --primary, or --config");
	opts_fail(ARGV("-z", "example.com", "-p", "x"), "bad address 'x' for --primary");
	opts_fail(ARGV("-z", "example.com", "-p", "1.2.3.4@65536"),
		  "bad address '1.2.3.4@65536' for --primary");
	opts_fail(ARGV("-z", "example.com", "-p", "1.2.3.4", "-l", "[::]"),
		  "bad address '[::]' for --listen");
	opts_fail(ARGV("-z", "a..b", "-p", "1.2.3.4"),
		  "bad zone name 'a..b' for --zone: malformed name");
	opts_fail(ARGV("-z", "a.example", "-z", "A.example.", "-p", "1.2.3.4"),
		  "duplicate zone 'a.example' on the command line");
	opts_fail(ARGV("-z", "a.example", "-p", "1.2.3.4", "extra"),
		  "unexpected argument 'extra'");
	opts_fail(ARGV("-x"), "unknown option '-x'");
	opts_fail(ARGV("-fx"), "unknown option '-x'");
	opts_fail(ARGV("--bogus=1"), "unknown option '--bogus'");
	opts_fail(ARGV("--foreground=yes"), "option '--foreground' takes no argument");
	opts_fail(ARGV("-f", "-z"), "option '-z' needs an argument");
	opts_fail(ARGV("-fz"), "option '-z' needs an argument");
	opts_fail(ARGV("--zone"), "option '--zone' needs an argument");
	/* Stopped inside "-xf" above: the next call starts afresh. */
	opts_fail(ARGV("-xf"), "unknown option '-x'");
	CHECK_EQ(opts(&c, err, ARGV("-fz", "example.com", "-p1.2.3.4")), 0);
	CHECK_EQ(c.foreground, 1);
	CHECK(addr_is(&c.zones[0].primary[0], "1.2.3.4@53"));
	cfg_free(&c);

	char *many_p[2 + 2 * (CFG_MAX_PRIMARIES + 1) + 1] = { "icbind", "-zexample.com" };
	for (int i = 0; i <= CFG_MAX_PRIMARIES; i++) {
		many_p[2 + 2 * i] = "-p";
		many_p[3 + 2 * i] = "10.0.0.1";
	}
	opts_fail(many_p, "too many --primary (at most 8)");
	char *many_l[2 + CFG_MAX_LISTEN + 1] = { "icbind" };
	for (int i = 0; i <= CFG_MAX_LISTEN; i++)
		many_l[1 + i] = "-l::1";
	opts_fail(many_l, "too many --listen (at most 16)");

	/* Help and version end the parse with 1, even with other mistakes. */
	CHECK_EQ(opts_quiet(&c, err, ARGV("-h")), 1);
	cfg_free(&c);
	CHECK_EQ(opts_quiet(&c, err, ARGV("-z", "example.com", "--help")), 1);
	cfg_free(&c);
	CHECK_EQ(opts_quiet(&c, err, ARGV("-V")), 1);
	cfg_free(&c);
	CHECK_EQ(opts_quiet(&c, err, ARGV("--version")), 1);
	cfg_free(&c);

	/* The help lists every option and runnable examples. */
	FILE *f = tmpfile();
	char help[4096] = "";
	if (f) {
		opts_usage(f);
		rewind(f);
		help[fread(help, 1, sizeof help - 1, f)] = '\0';
		fclose(f);
	}
	const char *need[] = {
		"-z, --zone NAME", "-p, --primary ADDR[@PORT]", "-l, --listen ADDR[@PORT]",
		"-c, --config FILE", "-f, --foreground", "-v, --verbose", "-h, --help",
		"-V, --version", "icbind -z example.com -p 127.0.0.1@5300 -l 127.0.0.1@5353 -f",
	};
	for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
		CHECK(strstr(help, need[i]) != NULL);
}

/* Load text into a fresh c; prints the error when it fails. */
static int load_text(struct cfg *c, const char *text, size_t len)
{
	char path[64], err[ERRLEN] = "";
	int rc;
	cfg_init(c);
	if (tmp_file(path, sizeof path, text, len) < 0)
		return -2;
	rc = cfg_load_file(c, path, err, sizeof err);
	if (rc < 0)
		printf("  unexpected error: %s\n", err);
	unlink(path);
	return rc;
}

#define LOADS(c, text) load_text((c), (text), sizeof(text) - 1)

/* Zones from --zone have the defaults of a zone section. */
static void test_cli_defaults(void)
{
	char err[ERRLEN];
	struct cfg c;

	CHECK_EQ(opts(&c, err, ARGV("-z", "a.example", "-z", "b.example", "-p", "10.0.0.1", "-p",
				    "10.0.0.2")), 0);
	CHECK_EQ(c.n_zones, 2);
	for (size_t i = 0; i < c.n_zones; i++) {
		const struct cfg_zone *z = &c.zones[i];
		CHECK_EQ(z->request_ixfr, 1);
		CHECK_EQ(z->min_refresh, 1);
		CHECK_EQ(z->max_refresh, 86400);
		CHECK_EQ(z->min_retry, 1);
		CHECK_EQ(z->max_retry, 86400);
		CHECK_EQ(z->min_expire, 1);
		CHECK_EQ(z->max_expire, 2419200);
		CHECK_EQ(z->n_primary, 2);
		CHECK_EQ(z->primary_key[0], CFG_NO_KEY);
		CHECK_EQ(z->primary_key[1], CFG_NO_KEY);
		CHECK_EQ(z->n_allow_notify, 0);
	}
	CHECK_EQ(c.xfr_concurrency, 16);
	cfg_free(&c);

	/* A file with keys through the command line; --zone zones have none. */
	static const char conf[] =
		"zone:\n"
		"  name: example.com\n"
		"  primary: 192.0.2.1 k\n"
		"key:\n"
		"  name: k\n"
		"  algorithm: hmac-sha512\n"
		"  secret: AAAA\n";
	char path[64];
	CHECK(tmp_file(path, sizeof path, conf, sizeof conf - 1) == 0);
	CHECK_EQ(opts(&c, err, ARGV("-c", path, "-z", "example.org", "-p", "10.0.0.2")), 0);
	CHECK_EQ(c.n_zones, 2);
	CHECK_EQ(c.n_keys, 1);
	if (c.n_zones == 2) {
		CHECK_EQ(c.zones[0].primary_key[0], 0);
		CHECK_EQ(c.zones[1].primary_key[0], CFG_NO_KEY);
	}
	cfg_free(&c);
	/* The file's unknown key stops the command line too. */
	static const char bad[] = "zone:\n  name: example.com\n  primary: 192.0.2.1 k\n";
	unlink(path);
	CHECK(tmp_file(path, sizeof path, bad, sizeof bad - 1) == 0);
	CHECK_EQ(opts(&c, err, ARGV("-c", path)), -1);
	CHECK(err_is(err, path, 3, "unknown key 'k'"));
	cfg_free(&c);
	unlink(path);
}

/* Plain base64 of n octets into out (a test's own encoder). */
static size_t b64_encode(const uint8_t *in, size_t n, char *out)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t w = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			w |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			w |= in[i + 2];
		out[o++] = abc[w >> 18 & 63];
		out[o++] = abc[w >> 12 & 63];
		out[o++] = i + 1 < n ? abc[w >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? abc[w & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

/* cfg_base64_decode(s) gives exactly want (wlen octets). */
static int b64_is(const char *s, const char *want, int wlen)
{
	uint8_t out[64];
	int n = cfg_base64_decode(s, out, sizeof out);
	if (n == wlen && memcmp(out, want, (size_t)wlen) == 0)
		return 1;
	printf("  '%s' decoded to %d octets, want %d\n", s, n, wlen);
	return 0;
}

static void test_base64(void)
{
	uint8_t out[TSIG_MAX_SECRET + 8];

	/* RFC 4648 section 10. */
	CHECK(b64_is("Zg==", "f", 1));
	CHECK(b64_is("Zm8=", "fo", 2));
	CHECK(b64_is("Zm9v", "foo", 3));
	CHECK(b64_is("Zm9vYg==", "foob", 4));
	CHECK(b64_is("Zm9vYmE=", "fooba", 5));
	CHECK(b64_is("Zm9vYmFy", "foobar", 6));
	CHECK(b64_is("AA==", "\0", 1));
	CHECK(b64_is("////", "\xff\xff\xff", 3));
	CHECK(b64_is("+/+/", "\xfb\xff\xbf", 3));
	CHECK(b64_is("K2tf3TRjvQkVCmJF3/Z9vA==",
		     "\x2b\x6b\x5f\xdd\x34\x63\xbd\x09\x15\x0a\x62\x45\xdf\xf6\x7d\xbc", 16));

	const char *bad[] = {
		"",          /* nothing */
		"Zg",        /* padding left out */
		"Zg=",       /* padding cut short */
		"Zg===",     /* too much padding */
		"Z===",      /* three pads */
		"====",      /* only padding */
		"Z=g=",      /* data after a pad */
		"Zg=A",
		"Zg==Zg==",  /* padding in the middle */
		"Zh==",      /* non-zero pad bits (RFC 4648 3.5) */
		"Zm9=",
		"Zm9v YmFy", /* blanks */
		"Zm9v\tYmFy",
		" Zm9vYmFy",
		"Zm9vYmFy\n",
		"Zm9-",      /* base64url is not base64 */
		"Zm9_",
		"Zm9\xff",
		"Zm9.",
		"Zm9vY",     /* not a multiple of four */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = cfg_base64_decode(bad[i], out, sizeof out);
		CHECK_EQ(rc, -1);
		if (rc != -1)
			printf("  accepted '%s'\n", bad[i]);
	}

	/* The capacity. */
	CHECK_EQ(cfg_base64_decode("Zm9vYmFy", out, 6), 6);
	CHECK_EQ(cfg_base64_decode("Zm9vYmFy", out, 5), -2);
	CHECK_EQ(cfg_base64_decode("Zm9vYg==", out, 4), 4);
	CHECK_EQ(cfg_base64_decode("Zm9vYg==", out, 3), -2);
	CHECK_EQ(cfg_base64_decode("AA==", out, 0), -2);
	/* Not base64 is found before too long. */
	CHECK_EQ(cfg_base64_decode("Zm9vYmFyZm9vYmF!", out, 3), -1);
	CHECK_EQ(cfg_base64_decode("Zm9vYmFyZm9vYh==", out, 3), -1);

	/* Every length up to one past the largest secret round-trips. */
	uint8_t in[TSIG_MAX_SECRET + 1];
	char text[2 * sizeof in];
	for (size_t i = 0; i < sizeof in; i++)
		in[i] = (uint8_t)(i * 37 + 11);
	int all = 1;
	for (size_t n = 1; n <= TSIG_MAX_SECRET; n++) {
		b64_encode(in, n, text);
		memset(out, 0, sizeof out);
		if (cfg_base64_decode(text, out, TSIG_MAX_SECRET) != (int)n || memcmp(out, in, n))
			all = 0;
	}
	CHECK(all);
	b64_encode(in, TSIG_MAX_SECRET + 1, text);
	CHECK_EQ(cfg_base64_decode(text, out, TSIG_MAX_SECRET), -2);
	CHECK_EQ(cfg_base64_decode(text, out, sizeof out), TSIG_MAX_SECRET + 1);
}

static const char keys_conf[] =
	"server:\n"
	"    xfr-concurrency: 1024\n"
	"    data-dir: \"/var/lib/icbind\"\n"
	"key:\n"                                                /* 4 */
	"    name: Xfr-Key.\n"
	"    algorithm: HMAC-SHA256     # any case\n"
	"    secret: \"K2tf3TRjvQkVCmJF3/Z9vA==\"\n"
	"zone:\n"                                               /* 8 */
	"    name: example.com\n"
	"    primary: 192.0.2.1@53 xfr-key\n"
	"    primary: 192.0.2.2   NOKEY\n"
	"    primary: 192.0.2.3\n"
	"    primary: \"2001:db8::1@5300\tlater-KEY.\"\n"   /* defined below */
	"    allow-notify: 192.0.2.0/24 XFR-KEY.\n"
	"    allow-notify: 2001:db8::/32\n"
	"    allow-notify: 198.51.100.7 later-key\n"
	"    request-ixfr: no\n"
	"    min-refresh-time: 0\n"
	"    max-refresh-time: 4294967295\n"
	"    min-retry-time: 5\n"
	"    max-retry-time: 5\n"
	"    min-expire-time: 100\n"
	"    max-expire-time: 200\n"
	"zone:\n"                                               /* 24 */
	"    name: example.org\n"
	"    primary: 10.0.0.1\n"
	"    request-ixfr: yes\n"
	"key:\n"                                                /* 28 */
	"    name: later-key\n"
	"    algorithm: hmac-md5\n"
	"    secret: AA==\n"
	"key:\n"                                                /* 32: unused */
	"    name: unused.example\n"
	"    secret: Zm9vYmFy\n"
	"    algorithm: hmac-sha1\n";

static void test_keys(void)
{
	struct cfg c;
	uint8_t n[NAME_MAXLEN];

	CHECK_EQ(LOADS(&c, keys_conf), 0);
	CHECK_EQ(c.xfr_concurrency, 1024);
	CHECK(str_is(c.data_dir, "/var/lib/icbind"));
	CHECK_EQ(c.n_keys, 3);
	CHECK_EQ(c.n_zones, 2);
	if (c.n_keys == 3 && c.n_zones == 2) {
		const struct cfg_key *k = &c.keys[0];
		CHECK(memcmp(k->key.name, "\7xfr-key", 9) == 0);
		CHECK(str_is(k->text, "Xfr-Key."));
		CHECK_EQ(k->line, 4);
		CHECK_EQ(k->key.alg, HMAC_SHA256);
		CHECK_EQ(k->key.secret_len, 16);
		CHECK(memcmp(k->key.secret, "\x2b\x6b\x5f\xdd\x34\x63\xbd\x09\x15\x0a\x62\x45\xdf\xf6"
					    "\x7d\xbc", 16) == 0);
		k = &c.keys[1];
		CHECK(memcmp(k->key.name, "\11later-key", 11) == 0);
		CHECK_EQ(k->line, 28);
		CHECK_EQ(k->key.alg, HMAC_MD5);
		CHECK_EQ(k->key.secret_len, 1);
		CHECK_EQ(k->key.secret[0], 0);
		k = &c.keys[2];
		CHECK_EQ(k->key.alg, HMAC_SHA1);
		CHECK_EQ(k->key.secret_len, 6);
		CHECK(memcmp(k->key.secret, "foobar", 6) == 0);

		const struct cfg_zone *z = &c.zones[0];
		CHECK_EQ(z->line, 8);
		CHECK_EQ(z->n_primary, 4);
		CHECK(addr_is(&z->primary[0], "192.0.2.1@53"));
		CHECK(addr_is(&z->primary[1], "192.0.2.2@53"));
		CHECK(addr_is(&z->primary[2], "192.0.2.3@53"));
		CHECK(addr_is(&z->primary[3], "2001:db8::1@5300"));
		CHECK_EQ(z->primary_key[0], 0);
		CHECK_EQ(z->primary_key[1], CFG_NO_KEY);
		CHECK_EQ(z->primary_key[2], CFG_NO_KEY);
		CHECK_EQ(z->primary_key[3], 1);
		CHECK_EQ(z->n_allow_notify, 3);
		CHECK_EQ(z->allow_notify[0].bits, 24);
		CHECK_EQ(z->allow_notify_key[0], 0);
		CHECK_EQ(z->allow_notify[1].family, AF_INET6);
		CHECK_EQ(z->allow_notify_key[1], CFG_NO_KEY);
		CHECK_EQ(z->allow_notify[2].bits, 32);
		CHECK_EQ(z->allow_notify_key[2], 1);
		CHECK_EQ(z->request_ixfr, 0);
		CHECK_EQ(z->min_refresh, 0);
		CHECK_EQ(z->max_refresh, 4294967295u);
		CHECK_EQ(z->min_retry, 5);
		CHECK_EQ(z->max_retry, 5);
		CHECK_EQ(z->min_expire, 100);
		CHECK_EQ(z->max_expire, 200);

		z = &c.zones[1];
		CHECK_EQ(z->primary_key[0], CFG_NO_KEY);
		CHECK_EQ(z->n_allow_notify, 0); /* the server's default: the primaries */
		CHECK_EQ(z->request_ixfr, 1);
		CHECK_EQ(z->min_refresh, 1);
		CHECK_EQ(z->max_refresh, 86400);
		CHECK_EQ(z->max_expire, 2419200);

		CHECK(name_from_text("XFR-key", n) > 0);
		CHECK_EQ(cfg_find_key(&c, n), 0);
		CHECK(name_from_text("later-key.", n) > 0);
		CHECK_EQ(cfg_find_key(&c, n), 1);
		CHECK(name_from_text("other-key", n) > 0);
		CHECK_EQ(cfg_find_key(&c, n), CFG_NO_KEY);
	}
	cfg_free(&c);
	CHECK(c.keys == NULL && c.n_keys == 0);

	/* Every algorithm, in any case. */
	static const struct {
		const char *text;
		enum hmac_alg alg;
	} algs[] = {
		{ "hmac-md5", HMAC_MD5 },       { "hmac-sha1", HMAC_SHA1 },
		{ "hmac-sha224", HMAC_SHA224 }, { "hmac-sha256", HMAC_SHA256 },
		{ "hmac-sha384", HMAC_SHA384 }, { "Hmac-SHA512", HMAC_SHA512 },
	};
	for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
		char text[256];
		int len = snprintf(text, sizeof text, "key:\n name: k\n algorithm: %s\n secret: AA==\n",
				   algs[i].text);
		CHECK_EQ(load_text(&c, text, (size_t)len), 0);
		CHECK_EQ(c.n_keys, 1);
		if (c.n_keys == 1)
			CHECK_EQ(c.keys[0].key.alg, algs[i].alg);
		cfg_free(&c);
	}

	/* The largest secret, as tsig-keygen would never write it. */
	uint8_t in[TSIG_MAX_SECRET];
	char b64[400], text[600];
	for (size_t i = 0; i < sizeof in; i++)
		in[i] = (uint8_t)(255 - i);
	b64_encode(in, sizeof in, b64);
	int len = snprintf(text, sizeof text, "key:\n name: k\n algorithm: hmac-sha256\n secret: %s\n",
			   b64);
	CHECK_EQ(load_text(&c, text, (size_t)len), 0);
	if (c.n_keys == 1) {
		CHECK_EQ(c.keys[0].key.secret_len, TSIG_MAX_SECRET);
		CHECK(memcmp(c.keys[0].key.secret, in, sizeof in) == 0);
	}
	cfg_free(&c);

	/* A second file may use the keys of the first. */
	static const char second[] = "zone:\n name: b.example\n primary: 10.0.0.9 later-key\n";
	char path[64], err[ERRLEN] = "";
	CHECK_EQ(LOADS(&c, keys_conf), 0);
	CHECK(tmp_file(path, sizeof path, second, sizeof second - 1) == 0);
	CHECK_EQ(cfg_load_file(&c, path, err, sizeof err), 0);
	CHECK(str_is(err, ""));
	CHECK_EQ(c.n_zones, 3);
	if (c.n_zones == 3)
		CHECK_EQ(c.zones[2].primary_key[0], 1);
	/* ... but not define them again. */
	CHECK(tmp_file(path, sizeof path, "key:\n name: LATER-KEY\n", 22) == 0);
	CHECK_EQ(cfg_load_file(&c, path, err, sizeof err), -1);
	CHECK(err_is(err, path, 2, "duplicate key 'LATER-KEY' (first at line 28)"));
	cfg_free(&c);
	unlink(path);
}

static void test_key_errors(void)
{
	FAILS("key:\n name: k\n algorithm: hmac-sha256\n secret: Zg=\n", 4, "bad base64 secret");
	FAILS("key:\n name: k\n algorithm: hmac-sha256\n secret: \"Zm9v YmFy\"\n", 4,
	      "bad base64 secret");
	FAILS("key:\n name: k\n algorithm: hmac-sha256\n secret: Zh==\n", 4, "bad base64 secret");
	FAILS("key:\n name: k\n algorithm: hmac-sha256\n secret: Zm9-\n", 4, "bad base64 secret");
	FAILS("key:\n name: k\n algorithm: hmac-sha256\n secret: ====\n", 4, "bad base64 secret");
	FAILS("key:\n name: k\n algorithm: hmac-sha3\n", 3, "unknown algorithm 'hmac-sha3'");
	FAILS("key:\n name: k\n algorithm: sha256\n", 3, "unknown algorithm 'sha256'");
	FAILS("key:\n algorithm: hmac-sha256\n secret: AA==\nzone:\n", 1, "key without name");
	FAILS("server:\nkey:\n name: k\n secret: AA==\n", 2, "key 'k' has no algorithm");
	FAILS("key:\n name: k\n algorithm: hmac-sha1\n\n", 1, "key 'k' has no secret");
	FAILS("key:\n name: k\n algorithm: hmac-sha1\n secret: AA==\n\nkey:\n name: K.\n", 7,
	      "duplicate key 'K.' (first at line 1)");
	FAILS("key:\n name: a\n name: b\n", 3, "second name for key 'a'");
	FAILS("key:\n name: a\n algorithm: hmac-sha1\n algorithm: hmac-sha1\n", 4,
	      "second algorithm for key");
	FAILS("key:\n name: a\n secret: AA==\n secret: AA==\n", 4, "second secret for key");
	FAILS("key:\n name: a..b\n", 2, "bad key name 'a..b': malformed name");
	FAILS("key:\n primary: 1.2.3.4\n", 2, "unknown key 'primary' in key section");
	FAILS("key: k\n", 1, "nothing may follow 'key:'");
	FAILS("key:\n name: k\n secret:\n", 3, "missing value for 'secret'");

	/* One octet too many. */
	uint8_t in[TSIG_MAX_SECRET + 1] = { 0 };
	char b64[400], text[600];
	b64_encode(in, sizeof in, b64);
	int len = snprintf(text, sizeof text, "key:\n name: k\n algorithm: hmac-sha256\n secret: %s\n",
			   b64);
	load_fails(text, (size_t)len, 4, "secret longer than 256 octets");
	b64[340] = '*';
	len = snprintf(text, sizeof text, "key:\n name: k\n algorithm: hmac-sha256\n secret: %s\n",
		       b64);
	load_fails(text, (size_t)len, 4, "bad base64 secret");

	/* Unknown keys, reported where they were used. */
	FAILS("zone:\n name: a.example\n primary: 1.2.3.4 foo\n", 3, "unknown key 'foo'");
	FAILS("zone:\n name: a.example\n primary: 1.2.3.4\n allow-notify: 1.2.3.4 Foo.\n", 4,
	      "unknown key 'Foo.'");
	FAILS("key:\n name: foo\n algorithm: hmac-sha256\n secret: AA==\n"
	      "zone:\n name: a.example\n primary: 1.2.3.4 foo\n primary: 1.2.3.5 bar\n"
	      "zone:\n name: b.example\n primary: 1.2.3.4 baz\n primary: 1.2.3.5 bar\n", 8,
	      "unknown key 'bar'");
	/* Two unknown keys: the first use in the file is reported. */
	FAILS("zone:\n name: a.example\n primary: 1.2.3.4 zzz\n primary: 1.2.3.5 aaa\n"
	      "zone:\n name: b.example\n primary: 1.2.3.4 aaa\n", 3, "unknown key 'zzz'");
	/* Mistakes found while reading come first. */
	FAILS("zone:\n name: a.example\n primary: 1.2.3.4 foo\n request-ixfr: maybe\n", 4,
	      "expected yes or no, not 'maybe'");
	FAILS("zone:\n name: a.example\n primary: 1.2.3.4 a..b\n", 3,
	      "bad key name 'a..b': malformed name");
	FAILS("zone:\n name: a.example\n primary: 1.2.3.4 k extra\n", 3,
	      "expected ADDR[@PORT] [KEY], not '1.2.3.4 k extra'");
	FAILS("zone:\n name: a.example\n primary: \" \t\"\n", 3,
	      "expected ADDR[@PORT] [KEY], not ' \t'");
	FAILS("zone:\n name: a.example\n primary: 1.2.3.4@0 k\n", 3, "bad address '1.2.3.4@0'");
	FAILS("zone:\n name: a.example\n primary: k 1.2.3.4\n", 3, "bad address 'k'");
	FAILS("zone:\n name: a.example\n primary: 1.2.3.4\n allow-notify: 1.2.3.0/33 k\n", 4,
	      "bad prefix '1.2.3.0/33'");
	FAILS("zone:\n name: a.example\n primary: 1.2.3.4\n allow-notify: 1.2.3.0/24 k l\n", 4,
	      "expected ADDR[/LEN] [KEY], not '1.2.3.0/24 k l'");
	/* NOKEY is a word of its own, not a key name in any case. */
	FAILS("zone:\n name: a.example\n primary: 1.2.3.4 nokey\n", 3, "unknown key 'nokey'");
}

static void test_zone_keys(void)
{
	struct cfg c;

	/* Equal bounds are fine; the ends of the range too. */
	CHECK_EQ(LOADS(&c, "zone:\n name: a.example\n primary: 1.2.3.4\n"
			   " min-refresh-time: 60\n max-refresh-time: 60\n"
			   " min-retry-time: 4294967295\n max-retry-time: 4294967295\n"
			   " min-expire-time: 0\n max-expire-time: 0\n"
			   " min-refresh-time: 7\n"), 0);
	if (c.n_zones == 1) {
		CHECK_EQ(c.zones[0].min_refresh, 7); /* a later value replaces */
		CHECK_EQ(c.zones[0].max_refresh, 60);
		CHECK_EQ(c.zones[0].min_retry, 4294967295u);
		CHECK_EQ(c.zones[0].max_retry, 4294967295u);
		CHECK_EQ(c.zones[0].min_expire, 0);
		CHECK_EQ(c.zones[0].max_expire, 0);
	}
	cfg_free(&c);
	CHECK_EQ(LOADS(&c, "server:\n xfr-concurrency: 1\n"), 0);
	CHECK_EQ(c.xfr_concurrency, 1);
	cfg_free(&c);

	FAILS("zone:\n name: a.example\n primary: 1.2.3.4\n min-refresh-time: 4294967296\n", 4,
	      "value out of range 0..4294967295");
	FAILS("zone:\n name: a.example\n primary: 1.2.3.4\n max-expire-time: 99999999999999999999\n",
	      4, "value out of range 0..4294967295");
	FAILS("zone:\n name: a.example\n primary: 1.2.3.4\n max-retry-time: -1\n", 4,
	      "bad number '-1'");
	FAILS("zone:\n name: a.example\n primary: 1.2.3.4\n min-retry-time: 1h\n", 4,
	      "bad number '1h'");
	FAILS("zone:\n name: a.example\n primary: 1.2.3.4\n request-ixfr: true\n", 4,
	      "expected yes or no, not 'true'");
	/* Bounds are compared at the end of the zone, reported at its start. */
	FAILS("server:\nzone:\n name: a.example\n min-refresh-time: 100\n max-refresh-time: 50\n"
	      " primary: 1.2.3.4\nserver:\n", 2,
	      "zone 'a.example' has min-refresh-time 100 above max-refresh-time 50");
	FAILS("zone:\n name: a.example\n primary: 1.2.3.4\n max-retry-time: 0\n", 1,
	      "zone 'a.example' has min-retry-time 1 above max-retry-time 0");
	FAILS("zone:\n name: a.example\n primary: 1.2.3.4\n min-expire-time: 2419201\n", 1,
	      "zone 'a.example' has min-expire-time 2419201 above max-expire-time 2419200");
	/* A later value may put them right. */
	CHECK_EQ(LOADS(&c, "zone:\n name: a.example\n primary: 1.2.3.4\n max-retry-time: 0\n"
			   " min-retry-time: 0\n"), 0);
	cfg_free(&c);

	/* catalog: consumer (RFC 9432), as NSD writes it; nothing else. */
	CHECK_EQ(LOADS(&c, "zone:\n name: cat.example\n primary: 1.2.3.4\n catalog: consumer\n"
			   "zone:\n name: b.example\n primary: 1.2.3.4\n"), 0);
	CHECK(c.n_zones == 2 && c.zones[0].catalog == 1 && c.zones[1].catalog == 0);
	cfg_free(&c);
	FAILS("zone:\n name: a.example\n primary: 1.2.3.4\n catalog: producer\n", 4,
	      "catalog: expected 'consumer', not 'producer'");
	FAILS("server:\n catalog: consumer\n", 2, "unknown key 'catalog' in server section");
	/* catalog-member-pattern: a pattern defined above, with a primary;
	 * every pattern becomes a template, its keys resolved. */
	CHECK_EQ(LOADS(&c, "key:\n name: k\n algorithm: hmac-sha256\n secret: c2VjcmV0\n"
			   "pattern:\n name: p1\n primary: 10.0.0.1 k\n max-refresh-time: 60\n"
			   "pattern:\n name: p2\n primary: 10.0.0.2\n"
			   "zone:\n name: cat.example\n primary: 1.2.3.4\n catalog: consumer\n"
			   " catalog-member-pattern: p2\n"), 0);
	CHECK(c.n_templates == 2 && c.zones[0].member_pattern == 1);
	CHECK(cfg_find_template(&c, "p1") == &c.templates[0] && cfg_find_template(&c, "p3") == NULL);
	CHECK(c.templates[0].n_primary == 1 && c.templates[0].primary_key[0] == 0 &&
	      c.templates[0].max_refresh == 60 && strcmp(c.templates[0].text, "p1") == 0);
	cfg_free(&c);
	FAILS("zone:\n name: a.example\n primary: 1.2.3.4\n catalog: consumer\n"
	      " catalog-member-pattern: nosuch\n", 5, "unknown pattern 'nosuch'");
	/* A pattern's timer bounds are checked even if no zone includes it:
	 * members may take it. */
	FAILS("pattern:\n name: p\n primary: 10.0.0.1\n min-refresh-time: 100000\n", 1,
	      "pattern 'p' has min-refresh-time 100000 above max-refresh-time 86400");
	FAILS("pattern:\n name: empty\n max-refresh-time: 60\nzone:\n name: a.example\n primary: 1.2.3.4\n"
	      " catalog: consumer\n catalog-member-pattern: empty\n", 8,
	      "pattern 'empty' has no primary to transfer member zones from");
	FAILS("pattern:\n name: p\n primary: 10.0.0.1\nzone:\n name: a.example\n primary: 1.2.3.4\n"
	      " catalog-member-pattern: p\n", 4,
	      "zone 'a.example' has catalog-member-pattern but is no catalog (catalog: consumer)");

	FAILS("server:\n xfr-concurrency: 0\n", 2, "value out of range 1..1024");
	FAILS("server:\n xfr-concurrency: 1025\n", 2, "value out of range 1..1024");
	FAILS("zone:\n name: a.example\n primary: 1.2.3.4\n xfr-concurrency: 4\n", 4,
	      "unknown key 'xfr-concurrency' in zone section");
	FAILS("server:\n request-ixfr: no\n", 2, "unknown key 'request-ixfr' in server section");
	FAILS("server:\n data-dir: \"\"\n", 2, "missing value for 'data-dir'");

	/* data-dir: 255 characters fit, 256 do not. */
	char name[300], text[400];
	memset(name, 'd', sizeof name);
	name[0] = '/';
	name[255] = '\0';
	int len = snprintf(text, sizeof text, "server:\n data-dir: %s\n", name);
	CHECK_EQ(load_text(&c, text, (size_t)len), 0);
	CHECK_EQ(strlen(c.data_dir), 255);
	cfg_free(&c);
	name[255] = 'd';
	name[256] = '\0';
	len = snprintf(text, sizeof text, "server:\n data-dir: %s\n", name);
	load_fails(text, (size_t)len, 2, "data-dir path longer than 255 characters");
}

static const char pattern_conf[] =
	"pattern:\n"                                 /* 1 */
	"  name: common\n"
	"  primary: 192.0.2.1 k1\n"
	"  allow-notify: 192.0.2.0/24 k1\n"
	"  request-ixfr: no\n"
	"  strip-dnssec: yes\n"
	"  max-refresh-time: 3600\n"
	"pattern:\n"                                 /* 8 */
	"  name: other\n"
	"  primary: 2001:db8::1 NOKEY\n"
	"  min-expire-time: 60\n"
	"  request-ixfr: yes\n"
	"zone:\n"                                    /* 13: all from the pattern */
	"  name: a.example\n"
	"  include-pattern: common\n"
	"zone:\n"                                    /* 16: before and after */
	"  name: b.example\n"
	"  primary: 10.0.0.1\n"
	"  include-pattern: common\n"
	"  request-ixfr: yes\n"
	"  max-refresh-time: 7200\n"
	"  allow-notify: 10.0.0.0/8\n"
	"zone:\n"                                    /* 23: the pattern overrides */
	"  include-pattern: common\n"
	"  name: c.example\n"
	"  strip-dnssec: no\n"
	"  include-pattern: other\n"
	"  include-pattern: common\n"
	"zone:\n"                                    /* 29: no pattern */
	"  name: d.example\n"
	"  primary: 10.0.0.2\n"
	"key:\n"
	"  name: k1\n"
	"  algorithm: hmac-sha256\n"
	"  secret: AAAA\n";

static void test_patterns(void)
{
	struct cfg c;

	CHECK_EQ(LOADS(&c, pattern_conf), 0);
	CHECK_EQ(c.n_zones, 4); /* patterns are not zones */
	CHECK_EQ(c.n_keys, 1);
	if (c.n_zones == 4) {
		const struct cfg_zone *z = &c.zones[0];
		CHECK(str_is(z->text, "a.example"));
		CHECK_EQ(z->line, 13);
		CHECK_EQ(z->n_primary, 1);
		CHECK(addr_is(&z->primary[0], "192.0.2.1@53"));
		CHECK_EQ(z->primary_key[0], 0);
		CHECK_EQ(z->n_allow_notify, 1);
		CHECK_EQ(z->allow_notify[0].bits, 24);
		CHECK_EQ(z->allow_notify_key[0], 0);
		CHECK_EQ(z->request_ixfr, 0);
		CHECK_EQ(z->strip_dnssec, 1);
		CHECK_EQ(z->min_refresh, 1); /* not in the pattern: the default */
		CHECK_EQ(z->max_refresh, 3600);
		CHECK_EQ(z->min_expire, 1);

		z = &c.zones[1];
		CHECK(str_is(z->text, "b.example"));
		CHECK_EQ(z->n_primary, 2);
		CHECK(addr_is(&z->primary[0], "10.0.0.1@53"));
		CHECK_EQ(z->primary_key[0], CFG_NO_KEY);
		CHECK(addr_is(&z->primary[1], "192.0.2.1@53"));
		CHECK_EQ(z->primary_key[1], 0);
		CHECK_EQ(z->n_allow_notify, 2);
		CHECK_EQ(z->allow_notify_key[0], 0);
		CHECK_EQ(z->allow_notify[1].bits, 8);
		CHECK_EQ(z->allow_notify_key[1], CFG_NO_KEY);
		CHECK_EQ(z->request_ixfr, 1);
		CHECK_EQ(z->strip_dnssec, 1);
		CHECK_EQ(z->max_refresh, 7200);

		z = &c.zones[2];
		CHECK(str_is(z->text, "c.example"));
		CHECK_EQ(z->n_primary, 3);
		CHECK(addr_is(&z->primary[0], "192.0.2.1@53"));
		CHECK(addr_is(&z->primary[1], "2001:db8::1@53"));
		CHECK_EQ(z->primary_key[1], CFG_NO_KEY);
		CHECK(addr_is(&z->primary[2], "192.0.2.1@53"));
		CHECK_EQ(z->primary_key[2], 0);
		CHECK_EQ(z->n_allow_notify, 2);
		CHECK_EQ(z->strip_dnssec, 1); /* "common" again after "no" */
		CHECK_EQ(z->request_ixfr, 0); /* "other" said yes, then "common" no */
		CHECK_EQ(z->min_expire, 60);
		CHECK_EQ(z->max_refresh, 3600);

		z = &c.zones[3];
		CHECK_EQ(z->n_primary, 1);
		CHECK_EQ(z->request_ixfr, 1);
		CHECK_EQ(z->strip_dnssec, 0);
		CHECK_EQ(z->max_refresh, 86400);
	}
	cfg_free(&c);

	/* What a pattern does not set stays as the zone had it. */
	CHECK_EQ(LOADS(&c, "pattern:\n name: bare\n primary: 10.9.9.9\n"
			   "zone:\n name: e.example\n request-ixfr: no\n strip-dnssec: yes\n"
			   " min-refresh-time: 10\n max-refresh-time: 20\n min-retry-time: 30\n"
			   " max-retry-time: 40\n min-expire-time: 50\n max-expire-time: 60\n"
			   " include-pattern: bare\n"), 0);
	if (c.n_zones == 1) {
		const struct cfg_zone *z = &c.zones[0];
		CHECK_EQ(z->request_ixfr, 0);
		CHECK_EQ(z->strip_dnssec, 1);
		CHECK_EQ(z->min_refresh, 10);
		CHECK_EQ(z->max_refresh, 20);
		CHECK_EQ(z->min_retry, 30);
		CHECK_EQ(z->max_retry, 40);
		CHECK_EQ(z->min_expire, 50);
		CHECK_EQ(z->max_expire, 60);
		CHECK(addr_is(&z->primary[0], "10.9.9.9@53"));
	}
	cfg_free(&c);
	/* ... and every setting it does set replaces the zone's. */
	CHECK_EQ(LOADS(&c, "pattern:\n name: full\n primary: 10.9.9.9\n request-ixfr: yes\n"
			   " strip-dnssec: no\n min-refresh-time: 11\n max-refresh-time: 21\n"
			   " min-retry-time: 31\n max-retry-time: 41\n min-expire-time: 51\n"
			   " max-expire-time: 61\n"
			   "zone:\n name: e.example\n request-ixfr: no\n strip-dnssec: yes\n"
			   " min-refresh-time: 10\n max-refresh-time: 20\n min-retry-time: 30\n"
			   " max-retry-time: 40\n min-expire-time: 50\n max-expire-time: 60\n"
			   " include-pattern: full\n"), 0);
	if (c.n_zones == 1) {
		const struct cfg_zone *z = &c.zones[0];
		CHECK_EQ(z->request_ixfr, 1);
		CHECK_EQ(z->strip_dnssec, 0);
		CHECK_EQ(z->min_refresh, 11);
		CHECK_EQ(z->max_refresh, 21);
		CHECK_EQ(z->min_retry, 31);
		CHECK_EQ(z->max_retry, 41);
		CHECK_EQ(z->min_expire, 51);
		CHECK_EQ(z->max_expire, 61);
	}
	cfg_free(&c);
	/* A pattern's inverted bounds may be put right by the zone. */
	CHECK_EQ(LOADS(&c, "pattern:\n name: p\n primary: 1.2.3.4\n min-retry-time: 500\n"
			   "zone:\n name: a.example\n include-pattern: p\n max-retry-time: 600\n"), 0);
	if (c.n_zones == 1) {
		CHECK_EQ(c.zones[0].min_retry, 500);
		CHECK_EQ(c.zones[0].max_retry, 600);
	}
	cfg_free(&c);
	/* An empty pattern, and "name" values that are not domain names. */
	CHECK_EQ(LOADS(&c, "pattern:\n name: \"my pattern #1\"\npattern:\n name: My-Pattern\n"
			   "zone:\n name: a.example\n include-pattern: \"my pattern #1\"\n"
			   " include-pattern: My-Pattern\n primary: 1.2.3.4\n"), 0);
	CHECK_EQ(c.n_zones, 1);
	cfg_free(&c);
}

static void test_pattern_errors(void)
{
	FAILS("zone:\n name: a.example\n include-pattern: nope\n", 3, "unknown pattern 'nope'");
	/* Patterns must come before their use, as in NSD. */
	FAILS("zone:\n name: a.example\n include-pattern: p\n primary: 1.2.3.4\n"
	      "pattern:\n name: p\n", 3, "unknown pattern 'p'");
	/* Their names are compared exactly. */
	FAILS("pattern:\n name: p\n primary: 1.2.3.4\nzone:\n name: a.example\n"
	      " include-pattern: P\n", 6, "unknown pattern 'P'");
	FAILS("pattern:\n primary: 1.2.3.4\nzone:\n", 1, "pattern without name");
	FAILS("pattern:\n name: p\n\npattern:\n name: p\n", 5,
	      "duplicate pattern 'p' (first at line 1)");
	FAILS("pattern:\n name: p\n name: q\n", 3, "second name for pattern 'p'");
	FAILS("pattern:\n name: q\npattern:\n name: p\n include-pattern: q\n", 5,
	      "include-pattern is not allowed in a pattern");
	FAILS("pattern:\n name: p\n xfr-timeout: 3\n", 3,
	      "unknown key 'xfr-timeout' in pattern section");
	FAILS("pattern:\n name: p\n zone: 3\n", 3, "nothing may follow 'zone:'");
	FAILS("pattern: p\n", 1, "nothing may follow 'pattern:'");
	FAILS("pattern:\n name: p\n request-ixfr: 1\n", 3, "expected yes or no, not '1'");
	FAILS("pattern:\n name: p\n primary: 1.2.3.4@53@53\n", 3, "bad address '1.2.3.4@53@53'");
	/* A key unknown in a pattern, even one no zone includes. */
	FAILS("pattern:\n name: p\n primary: 1.2.3.4 k\n", 3, "unknown key 'k'");
	FAILS("pattern:\n name: p\n allow-notify: 1.2.3.4 k\nzone:\n name: a.example\n"
	      " include-pattern: p\n primary: 1.2.3.4\n", 3, "unknown key 'k'");
	/* A zone still needs a primary, and its bounds in order. */
	FAILS("pattern:\n name: p\n allow-notify: 1.2.3.4\nzone:\n name: a.example\n"
	      " include-pattern: p\n", 4, "zone 'a.example' has no primary");
	FAILS("pattern:\n name: p\n primary: 1.2.3.4\n min-expire-time: 50\n max-expire-time: 40\n"
	      "zone:\n name: a.example\n include-pattern: p\n", 6,
	      "zone 'a.example' has min-expire-time 50 above max-expire-time 40");

	/* The limits hold for what a pattern adds: reported at the include. */
	char text[2048];
	size_t n = (size_t)sprintf(text, "pattern:\n name: p\n");
	for (int i = 0; i < CFG_MAX_PRIMARIES; i++)
		n += (size_t)sprintf(text + n, " primary: 10.0.0.%d\n", i);
	n += (size_t)sprintf(text + n, "zone:\n name: a.example\n include-pattern: p\n"
				       " primary: 10.0.1.1\n");
	load_fails(text, n, CFG_MAX_PRIMARIES + 6, "too many primaries (at most 8)");
	n = (size_t)sprintf(text, "pattern:\n name: p\n");
	for (int i = 0; i < CFG_MAX_PRIMARIES; i++)
		n += (size_t)sprintf(text + n, " primary: 10.0.0.%d\n", i);
	n += (size_t)sprintf(text + n, "zone:\n name: a.example\n primary: 10.0.1.1\n"
				       " include-pattern: p\n");
	load_fails(text, n, CFG_MAX_PRIMARIES + 6, "too many primaries (at most 8)");
	n = (size_t)sprintf(text, "pattern:\n name: p\n");
	for (int i = 0; i < CFG_MAX_ACL; i++)
		n += (size_t)sprintf(text + n, " allow-notify: 10.0.%d.0/24\n", i);
	n += (size_t)sprintf(text + n, "zone:\n name: a.example\n primary: 10.0.1.1\n"
				       " include-pattern: p\n include-pattern: p\n");
	load_fails(text, n, CFG_MAX_ACL + 7, "too many allow-notify prefixes (at most 16)");
}

/* cfg_find_zone and cfg_add_zone keep working if the array is changed by
 * hand. */
static void test_index(void)
{
	struct cfg c;
	struct cfg_zone z;
	uint8_t n[NAME_MAXLEN];
	char name[32];

	cfg_init(&c);
	for (int i = 0; i < 100; i++) {
		cfg_zone_init(&z);
		snprintf(name, sizeof name, "Z%d.Example", i);
		CHECK_EQ(cfg_zone_name(&z, name), 0);
		CHECK_EQ(cfg_add_zone(&c, &z), 0);
	}
	int found = 1;
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof name, "z%d.EXAMPLE.", i);
		if (name_from_text(name, n) < 0 || cfg_find_zone(&c, n) != &c.zones[i])
			found = 0;
	}
	CHECK(found);
	CHECK(name_from_text("z100.example", n) > 0);
	CHECK(cfg_find_zone(&c, n) == NULL);
	/* Cut short by hand: the zones past the end are gone. */
	c.n_zones = 50;
	CHECK(name_from_text("z70.example", n) > 0);
	CHECK(cfg_find_zone(&c, n) == NULL);
	CHECK(name_from_text("z49.example", n) > 0);
	CHECK(cfg_find_zone(&c, n) == &c.zones[49]);
	cfg_zone_init(&z);
	CHECK_EQ(cfg_zone_name(&z, "z70.example"), 0);
	CHECK_EQ(cfg_add_zone(&c, &z), 0);
	CHECK(name_from_text("z70.example", n) > 0);
	CHECK(cfg_find_zone(&c, n) == &c.zones[50]);
	CHECK(name_from_text("z3.example", n) > 0);
	CHECK(cfg_find_zone(&c, n) == &c.zones[3]);
	cfg_free(&c);
	CHECK(cfg_find_zone(&c, n) == NULL);
	CHECK_EQ(cfg_find_key(&c, n), CFG_NO_KEY);
}

/* Ten thousand zones, half through a pattern, some with keys: the parser
 * must not be quadratic (this takes milliseconds). */
static void test_10000_zones(void)
{
	const int nz = 10000;
	size_t cap = (size_t)nz * 80 + 1024, len = 0;
	char *text = malloc(cap), path[64], err[ERRLEN] = "";
	struct cfg c;
	unsigned line = 0;

	if (!text) {
		CHECK(text != NULL);
		return;
	}
	len += (size_t)sprintf(text + len, "pattern:\n name: p\n primary: 192.0.2.1 k0\n"
					   " allow-notify: 192.0.2.0/24 k1\n");
	line += 4;
	for (int i = 0; i < nz; i++) {
		if (i % 2)
			len += (size_t)sprintf(text + len, "zone:\n name: z%d.example\n"
							   " include-pattern: p\n", i);
		else
			len += (size_t)sprintf(text + len, "zone:\n name: z%d.example\n"
							   " primary: 10.%d.%d.1 k%d\n",
					       i, i / 256 % 256, i % 256, i % 100);
		line += 3;
	}
	for (int i = 0; i < 100; i++) {
		len += (size_t)sprintf(text + len, "key:\n name: k%d\n algorithm: hmac-sha256\n"
						   " secret: AAAA\n", i);
		line += 4;
	}
	CHECK(len < cap);
	CHECK(tmp_file(path, sizeof path, text, len) == 0);
	cfg_init(&c);
	CHECK_EQ(cfg_load_file(&c, path, err, sizeof err), 0);
	CHECK(str_is(err, ""));
	CHECK_EQ(c.n_zones, (size_t)nz);
	CHECK_EQ(c.n_keys, 100);
	if (c.n_zones == (size_t)nz) {
		CHECK(str_is(c.zones[nz - 1].text, "z9999.example"));
		CHECK_EQ(c.zones[nz - 1].line, 5 + 3 * (nz - 1));
		CHECK_EQ(c.zones[nz - 1].primary_key[0], 0);
		CHECK_EQ(c.zones[nz - 1].allow_notify_key[0], 1);
		CHECK_EQ(c.zones[9998].primary_key[0], 98);
		CHECK(addr_is(&c.zones[9998].primary[0], "10.39.14.1@53"));
		int all = 1;
		uint8_t n[NAME_MAXLEN];
		char name[32];
		for (int i = 0; i < nz; i++) {
			snprintf(name, sizeof name, "Z%d.example", i);
			if (name_from_text(name, n) < 0 || cfg_find_zone(&c, n) != &c.zones[i])
				all = 0;
		}
		CHECK(all);
	}
	cfg_free(&c);
	unlink(path);

	/* A duplicate at the end is still found, at its name line. */
	len += (size_t)sprintf(text + len, "zone:\n name: Z5000.example.\n primary: 10.0.0.1\n");
	CHECK(tmp_file(path, sizeof path, text, len) == 0);
	cfg_init(&c);
	CHECK_EQ(cfg_load_file(&c, path, err, sizeof err), -1);
	CHECK(err_is(err, path, line + 2, "duplicate zone 'z5000.example' (first at line 15005)"));
	cfg_free(&c);
	unlink(path);
	free(text);
}

/* identity, version and nsid: what the server says of itself. */
static void test_self_keys(void)
{
	char path[64], err[ERRLEN] = "", text[1024];
	struct cfg c;
	cfg_init(&c);
	CHECK(c.identity[0] == '\0' && c.version[0] == '\0' && c.nsid_len == 0);
	static const char file[] = "server:\n identity: \"ns1 fleet\"\n version: v1.2\n"
				   " nsid: 6e6F64652D37\n";
	CHECK(tmp_file(path, sizeof path, file, sizeof(file) - 1) == 0);
	CHECK_EQ(cfg_load_file(&c, path, err, sizeof err), 0);
	CHECK(str_is(c.identity, "ns1 fleet"));
	CHECK(str_is(c.version, "v1.2"));
	CHECK_EQ(c.nsid_len, 6);
	CHECK(memcmp(c.nsid, "node-7", 6) == 0);
	cfg_free(&c);
	unlink(path);

	static const char ascii[] = "server:\n nsid: ascii_node 7\n";
	cfg_init(&c);
	CHECK(tmp_file(path, sizeof path, ascii, sizeof(ascii) - 1) == 0);
	CHECK_EQ(cfg_load_file(&c, path, err, sizeof err), 0);
	CHECK_EQ(c.nsid_len, 6);
	CHECK(memcmp(c.nsid, "node 7", 6) == 0);
	cfg_free(&c);
	unlink(path);

	FAILS("server:\n nsid: abc\n", 2, "nsid 'abc' is not 1 to 128 octets in hex (or ascii_TEXT)");
	FAILS("server:\n nsid: zz\n", 2, "nsid 'zz' is not hex (or ascii_TEXT)");
	FAILS("server:\n nsid: 0x12\n", 2, "nsid '0x12' is not hex (or ascii_TEXT)");
	FAILS("server:\n nsid: ascii_\n", 2, "nsid text must be 1 to 128 characters");
	FAILS("server:\n identity:\n", 2, "missing value for 'identity'");

	/* 128 octets of NSID fit, 129 do not; 255 characters of identity
	 * fit, 256 do not. */
	size_t n = (size_t)sprintf(text, "server:\n nsid: ");
	for (int i = 0; i < 129; i++)
		n += (size_t)sprintf(text + n, "%02x", i);
	n += (size_t)sprintf(text + n, "\n");
	load_fails(text, n, 2, "nsid '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		   "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748"
		   "494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f7071"
		   "72737475767778797a7b7c7d7e7f80' is not 1 to 128 octets in hex (or ascii_TEXT)");
	n = (size_t)sprintf(text, "server:\n nsid: ascii_");
	memset(text + n, 'n', 128);
	n += 128;
	text[n++] = '\n';
	cfg_init(&c);
	CHECK(tmp_file(path, sizeof path, text, n) == 0);
	CHECK_EQ(cfg_load_file(&c, path, err, sizeof err), 0);
	CHECK_EQ(c.nsid_len, 128);
	cfg_free(&c);
	unlink(path);
	text[n - 1] = 'n';
	text[n++] = '\n';
	load_fails(text, n, 2, "nsid text must be 1 to 128 characters");
	n = (size_t)sprintf(text, "server:\n version: ");
	memset(text + n, 'v', 256);
	n += 256;
	text[n++] = '\n';
	load_fails(text, n, 2, "version longer than 255 characters (one TXT string)");
	n -= 2;
	text[n++] = '\n';
	cfg_init(&c);
	CHECK(tmp_file(path, sizeof path, text, n) == 0);
	CHECK_EQ(cfg_load_file(&c, path, err, sizeof err), 0);
	CHECK_EQ(strlen(c.version), 255);
	cfg_free(&c);
	unlink(path);
}

void test_config(void)
{
	test_self_keys();
	test_defaults();
	test_full_file();
	test_many_zones();
	test_file_errors();
	test_addr();
	test_prefix();
	test_match();
	test_cli();
	test_cli_defaults();
	test_base64();
	test_keys();
	test_key_errors();
	test_zone_keys();
	test_patterns();
	test_pattern_errors();
	test_index();
	test_10000_zones();
}
