/* The command line: getopt_long over the options of docs/configuration.md. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "options.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#ifndef ICBIND_VERSION
#define ICBIND_VERSION "0.1.0"
#endif

static const struct option longopts[] = {
	{ "zone", required_argument, NULL, 'z' },
	{ "primary", required_argument, NULL, 'p' },
	{ "listen", required_argument, NULL, 'l' },
	{ "config", required_argument, NULL, 'c' },
	{ "foreground", no_argument, NULL, 'f' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* The leading ':' makes a missing argument return ':' instead of '?'. */
static const char shortopts[] = ":z:p:l:c:fvhV";

void opts_usage(FILE *out)
{
	fputs("usage: icbind [options]\n"
	      "A secondary-only authoritative DNS server.\n"
	      "\n"
	      "  -z, --zone NAME            serve zone NAME (repeatable)\n"
	      "  -p, --primary ADDR[@PORT]  primary of the --zone zones (repeatable; port 53)\n"
	      "  -l, --listen ADDR[@PORT]   address to answer on (repeatable; port 53)\n"
	      "  -c, --config FILE          read FILE, then add the --zone zones to it\n"
	      "  -f, --foreground           stay in the foreground, log to standard error\n"
	      "  -v, --verbose              log one level more (repeatable)\n"
	      "  -h, --help                 show this help and exit\n"
	      "  -V, --version              show the version and exit\n"
	      "\n"
	      "Primaries are tried in order.  --listen replaces the file's listen lines;\n"
	      "the default is 0.0.0.0@53 and ::@53.\n"
	      "\n"
	      "examples:\n"
	      "  icbind -z example.com -p 127.0.0.1@5300 -l 127.0.0.1@5353 -f\n"
	      "  icbind -c icbind.conf -l ::1@5353 -f -v\n",
	      out);
}

/* getopt's own messages go to stderr; ours go to err. */
static void bad_option(int ch, int argc, char **argv, char *err, size_t errlen)
{
	const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
	if (ch == ':') {
		/* optind is past the option that lacks its argument. */
		if (strncmp(arg, "--", 2) == 0)
			snprintf(err, errlen, "option '%s' needs an argument", arg);
		else
			snprintf(err, errlen, "option '-%c' needs an argument", optopt);
	} else if (optopt == 0) {
		/* An unknown or ambiguous long option; optind is past it. */
		size_t n = strcspn(arg, "=");
		snprintf(err, errlen, "unknown option '%.*s'", (int)n, arg);
	} else if (strchr("fvhV", optopt)) {
		/* A known flag can only fail when given "--flag=value". */
		const struct option *o = longopts;
		while (o->val != optopt)
			o++;
		snprintf(err, errlen, "option '--%s' takes no argument", o->name);
	} else {
		snprintf(err, errlen, "unknown option '-%c'", optopt);
	}
}

/* Append the --zone zones, each served from all the --primary addresses. */
static int add_zones(struct cfg *c, const char *path, char **zones, size_t n_zones,
		     const struct cfg_addr *prim, size_t n_prim, char *err, size_t errlen)
{
	struct cfg_zone z;

	for (size_t i = 0; i < n_zones; i++) {
		const struct cfg_zone *old;
		int rc;
		cfg_zone_init(&z); /* the defaults of a zone: IXFR, timer bounds, no keys */
		rc = cfg_zone_name(&z, zones[i]);
		if (rc < 0) {
			snprintf(err, errlen, "bad zone name '%s' for --zone: %s", zones[i],
				 name_strerror(rc));
			return -1;
		}
		old = cfg_find_zone(c, z.name);
		if (old && old->line && path)
			snprintf(err, errlen, "duplicate zone '%s' (first at %s:%u)", z.text,
				 path, old->line);
		else if (old)
			snprintf(err, errlen, "duplicate zone '%s' on the command line", z.text);
		if (old)
			return -1;
		memcpy(z.primary, prim, n_prim * sizeof *prim);
		z.n_primary = n_prim;
		if (cfg_add_zone(c, &z) < 0) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}

/* path made absolute from base, in place; -1 if that does not fit. */
static int absolute(char *path, size_t cap, const char *base)
{
	if (!base || !path[0] || path[0] == '/')
		return 0;
	size_t b = strlen(base), n = strlen(path);
	int slash = b && base[b - 1] != '/';
	if (b + (size_t)slash + n + 1 > cap)
		return -1;
	memmove(path + b + (size_t)slash, path, n + 1);
	memcpy(path, base, b);
	if (slash)
		path[b] = '/';
	return 0;
}

static int absolute_key(char *path, size_t cap, const char *base, const char *key, char *err,
			size_t errlen)
{
	if (absolute(path, cap, base) == 0)
		return 0;
	snprintf(err, errlen, "%s %s: too long once taken from %s", key, path, base);
	return -1;
}

int opts_parse(int argc, char **argv, const char *base, struct cfg *c, char *err, size_t errlen)
{
	struct cfg_addr prim[CFG_MAX_PRIMARIES], listen[CFG_MAX_LISTEN];
	size_t n_prim = 0, n_listen = 0, n_zones = 0;
	const char *path = NULL;
	unsigned verbose = 0;
	int ch, rc = -1;
	char **zones = calloc((size_t)(argc > 0 ? argc : 1), sizeof *zones);

	if (!zones) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* 0, not 1: glibc, musl and the BSDs then also forget the position
	 * inside a group of short options left by an earlier call. */
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (ch) {
		case 'z':
			zones[n_zones++] = optarg;
			break;
		case 'p':
			if (n_prim == CFG_MAX_PRIMARIES) {
				snprintf(err, errlen, "too many --primary (at most %d)",
					 CFG_MAX_PRIMARIES);
				goto out;
			}
			if (cfg_parse_addr(optarg, 53, &prim[n_prim]) < 0) {
				snprintf(err, errlen, "bad address '%s' for --primary", optarg);
				goto out;
			}
			n_prim++;
			break;
		case 'l':
			if (n_listen == CFG_MAX_LISTEN) {
				snprintf(err, errlen, "too many --listen (at most %d)", CFG_MAX_LISTEN);
				goto out;
			}
			if (cfg_parse_addr(optarg, 53, &listen[n_listen]) < 0) {
				snprintf(err, errlen, "bad address '%s' for --listen", optarg);
				goto out;
			}
			n_listen++;
			break;
		case 'c':
			if (path) {
				snprintf(err, errlen, "--config given twice");
				goto out;
			}
			path = optarg;
			break;
		case 'f':
			c->foreground = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			opts_usage(stdout);
			rc = 1;
			goto out;
		case 'V':
			printf("icbind %s\n", ICBIND_VERSION);
			rc = 1;
			goto out;
		default:
			bad_option(ch, argc, argv, err, errlen);
			goto out;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (n_zones && !n_prim) {
		snprintf(err, errlen, "--zone given without --primary");
		goto out;
	}
	if (n_prim && !n_zones) {
		snprintf(err, errlen, "--primary given without --zone");
		goto out;
	}
	char file[4096];
	if (path) {
		snprintf(file, sizeof(file), "%s", path);
		if (absolute_key(file, sizeof(file), base, "--config", err, errlen) < 0)
			goto out;
		path = file;
	}
	if (path && cfg_load_file(c, path, err, errlen) < 0)
		goto out;
	if (absolute_key(c->pidfile, sizeof(c->pidfile), base, "pidfile", err, errlen) < 0 ||
	    absolute_key(c->data_dir, sizeof(c->data_dir), base, "data-dir", err, errlen) < 0 ||
	    absolute_key(c->chroot_dir, sizeof(c->chroot_dir), base, "chroot", err, errlen) < 0)
		goto out;
	if (add_zones(c, path, zones, n_zones, prim, n_prim, err, errlen) < 0)
		goto out;
	if (c->n_zones == 0) {
		snprintf(err, errlen, "no zones configured: use --zone and --primary, or --config");
		goto out;
	}
	if (n_listen) {
		memcpy(c->listen, listen, n_listen * sizeof *listen);
		c->n_listen = n_listen;
	}
	c->verbosity += verbose;
	rc = 0;
out:
	free(zones);
	return rc;
}
