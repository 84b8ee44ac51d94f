/* libFuzzer harness: the query path.  One DNS message in, through
 * query_process() and the answer engine over real zones (the captures
 * tests/data/example.axfr and signed.axfr, parsed by the core's transfer
 * parser), once over UDP with our EDNS size 1232, once over UDP with 4096
 * and once over TCP.  Every response must pass fuzz_check_response(): at
 * most the size allowed, a well-formed message with the query's ID,
 * opcode and question, QR set, and a TSIG that verifies when the query
 * was signed with a known key.
 *
 * The catalog: example.com (primary 127.0.0.1, unsigned NOTIFY from it
 * accepted), signed.example (primary 127.0.0.1 with key xfr-key: NOTIFY
 * must be signed), example.net (a small zone built here, whose CNAMEs and
 * DNAMEs lead back into example.com, for chains across zones and loops;
 * NOTIFY only from 10.0.0.0/8 with hmac-sha256.key.test.) and example.org
 * (configured, never loaded: SERVFAIL); an identity, a version and the
 * longest NSID are configured.  Every key of fuzz_common.h is
 * known, so signed queries reach the TSIG verifier; the clock is fixed at
 * 1700000000, the time the seed corpus is signed at.  The client is
 * 127.0.0.1, or 10.0.0.1 or ::1 as the low bits of the query's ID say. */
#include "fuzz_common.h"

#define NOW 1700000000u

static struct catalog cat;
static struct cat_zone cz[4];
static uint8_t *out_buf, *hinted_buf;
#define OUT_CAP 65535

static void add(struct zone_builder *b, const char *owner, uint16_t type, const void *rd,
		size_t n)
{
	uint8_t name[NAME_MAXLEN];
	char full[600];
	if (strcmp(owner, "@") == 0)
		snprintf(full, sizeof(full), "example.net");
	else
		snprintf(full, sizeof(full), "%s.example.net", owner);
	name_from_text(full, name);
	if (zb_begin(b, name, type, 300) < 0 || zb_rdata(b, rd, n) < 0 || zb_end(b) < 0) {
		fprintf(stderr, "fuzz: example.net %s: %s\n", owner, b->err);
		exit(2);
	}
}

static void add_name(struct zone_builder *b, const char *owner, uint16_t type, const char *target)
{
	uint8_t t[NAME_MAXLEN];
	int l = name_from_text(target, t);
	add(b, owner, type, t, (size_t)l);
}

static struct zone *build_example_net(void)
{
	struct zone_builder b;
	uint8_t apex[NAME_MAXLEN], rd[600];
	name_from_text("example.net", apex);
	zb_init(&b, apex, 0);
	size_t n = (size_t)name_from_text("ns2.example.net", rd);
	n += (size_t)name_from_text("hostmaster.example.net", rd + n);
	static const uint8_t timers[20] = { 0, 0, 0, 7, 0, 0, 0x0e, 0x10, 0, 0, 3, 0x84,
					    0, 0x09, 0x3a, 0x80, 0, 0, 0, 60 };
	memcpy(rd + n, timers, 20);
	add(&b, "@", T_SOA, rd, n + 20);
	add_name(&b, "@", T_NS, "ns2.example.net");
	add_name(&b, "@", T_NS, "ns1.example.com");
	static const uint8_t a1[4] = { 192, 0, 2, 200 }, a2[4] = { 192, 0, 2, 201 };
	add(&b, "ns2", T_A, a1, 4);
	add(&b, "mail2", T_A, a2, 4);
	add(&b, "sip2", T_A, a2, 4);
	add_name(&b, "www", T_CNAME, "www.example.com");      /* ftp.example.com -> here -> back */
	add_name(&b, "loop", T_CNAME, "loop.dname.example.com"); /* DNAME back to here: a loop */
	add_name(&b, "back", T_DNAME, "dname.example.com");   /* DNAME to DNAME */
	add_name(&b, "*", T_CNAME, "wild.example.com");
	add_name(&b, "long", T_DNAME,
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
		 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb."
		 "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc.");
	add_name(&b, "sub", T_NS, "ns.sub.example.net");
	add_name(&b, "sub", T_NS, "ns1.example.com");
	add(&b, "ns.sub", T_A, a1, 4);
	uint8_t mx[NAME_MAXLEN + 2] = { 0, 10 };
	int l = name_from_text("mail.example.com", mx + 2);
	add(&b, "mx2", T_MX, mx, (size_t)l + 2);
	static const uint8_t txt[] = "\x05hello\x00\x05world";
	add(&b, "txt", T_TXT, txt, sizeof(txt) - 1);
	struct zone *z;
	if (zb_finish(&b, &z) < 0) {
		fprintf(stderr, "fuzz: example.net: %s\n", b.err);
		exit(2);
	}
	zb_free(&b);
	return z;
}

static void init(void)
{
	fuzz_keys_init();
	out_buf = malloc(OUT_CAP);
	hinted_buf = malloc(OUT_CAP);
	memset(cz, 0, sizeof(cz));
	name_from_text("example.com", cz[0].apex);
	cz[0].current = fuzz_load_axfr("example.axfr", "example.com", 0x1234, NULL, NULL, 0, 0);
	cz[0].primary[0].family = 4;
	memcpy(cz[0].primary[0].addr, "\x7f\0\0\1", 4);
	cz[0].n_primary = 1;

	name_from_text("signed.example", cz[1].apex);
	cz[1].current = fuzz_load_axfr("signed.axfr", "signed.example", 0x1234, NULL, NULL, 0, 0);
	cz[1].primary[0] = cz[0].primary[0];
	cz[1].primary_key[0] = &fuzz_keys[FK_XFR];
	cz[1].n_primary = 1;

	name_from_text("example.net", cz[2].apex);
	cz[2].current = build_example_net();
	cz[2].primary[0].family = 6;
	cz[2].primary[0].addr[15] = 1;
	cz[2].n_primary = 1;
	cz[2].notify_acl[0].family = 4;
	cz[2].notify_acl[0].addr[0] = 10;
	cz[2].notify_acl[0].bits = 8;
	cz[2].notify_key[0] = &fuzz_keys[FK_SHA256];
	cz[2].n_notify_acl = 1;

	name_from_text("example.org", cz[3].apex); /* never loaded */
	cz[3].primary[0] = cz[0].primary[0];
	cz[3].n_primary = 1;

	cat.zones = cz;
	cat.n = 4;
	cat.keys = fuzz_keys;
	cat.n_keys = FK_N;
	/* What the server says of itself: CH TXT answers and the longest
	 * NSID, so that every answer to a client asking for it is the
	 * fullest it can be. */
	static uint8_t nsid[CAT_NSID_MAX];
	memset(nsid, 'n', sizeof(nsid));
	cat.identity = (struct cat_text){ (const uint8_t *)"fuzz identity", 13 };
	cat.version = (struct cat_text){ (const uint8_t *)"fuzz version", 12 };
	cat.nsid = (struct cat_text){ nsid, CAT_NSID_MAX };
	if (catalog_prepare(&cat) < 0) {
		fprintf(stderr, "fuzz: catalog_prepare failed\n");
		exit(2);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		init();
		ready = 1;
	}
	if (size > 65535)
		return 0;
	static const struct {
		int transport;
		uint16_t udp_max;
	} runs[] = { { TRANSPORT_UDP, 1232 }, { TRANSPORT_UDP, 4096 }, { TRANSPORT_TCP, 1232 } };
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		struct query_env env = { runs[i].transport, runs[i].udp_max,
					 { 4, { 127, 0, 0, 1 }, 5353 }, NOW,
					 i == 1 /* the copy for rate limiting too */ };
		/* The client: 127.0.0.1 (the primary of example.com and
		 * signed.example), but 10.0.0.1 (example.net's allow-notify)
		 * or ::1 (its primary) when the ID ends in binary 10 or 11. */
		if (size >= 2 && (data[1] & 3) == 2) {
			env.client.addr[0] = 10;
		} else if (size >= 2 && (data[1] & 3) == 3) {
			memset(&env.client, 0, sizeof(env.client));
			env.client.family = 6;
			env.client.addr[15] = 1;
		}
		/* The lookup hints first (query.h), as the server does for a
		 * batch: any input; answered with the hint, the same answer
		 * octet for octet as without. */
		static struct query_hint h;
		query_hint_start(&cat, data, size, &h);
		for (int round = 0; round < 2 * NAME_MAXLEN && query_hint_next(&h); round++)
			;
		struct query_result res, hres;
		size_t n = query_process(&cat, data, size, &env, out_buf, OUT_CAP, &res);
		fuzz_check_response(&cat, data, size, out_buf, n, OUT_CAP, &env, &res);
		size_t hn = query_process_hinted(&cat, &h, data, size, &env, hinted_buf, OUT_CAP,
						 &hres);
		FUZZ_CHECK(hn == n && memcmp(hinted_buf, out_buf, n) == 0,
			   "answered with the hint: %zu octets, without: %zu", hn, n);
		FUZZ_CHECK(hres.action == res.action && hres.rcode == res.rcode &&
			   hres.rrl_kind == res.rrl_kind && hres.tsig == res.tsig &&
			   hres.question_end == res.question_end && hres.zone == res.zone,
			   "the hint changed the outcome");
		static int verbose = -1;
		if (verbose < 0)
			verbose = getenv("FUZZ_VERBOSE") != NULL;
		if (verbose)
			fprintf(stderr, "%s/%u: %zu octets, rcode %u, tsig %d, action %d, flags %04x, an/ns/ar %u/%u/%u\n",
				env.transport == TRANSPORT_UDP ? "udp" : "tcp", env.udp_max, n,
				res.rcode, res.tsig, res.action, n ? get16(out_buf + 2) : 0,
				n ? get16(out_buf + 6) : 0, n ? get16(out_buf + 8) : 0,
				n ? get16(out_buf + 10) : 0);
	}
	return 0;
}
