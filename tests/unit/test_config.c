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
	cfg_free(&c);
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
	return opts_parse(argc, argv, c, err, ERRLEN);
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

void test_config(void)
{
	test_defaults();
	test_full_file();
	test_many_zones();
	test_file_errors();
	test_addr();
	test_prefix();
	test_match();
	test_cli();
}
