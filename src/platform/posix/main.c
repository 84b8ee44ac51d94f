/* icbind: a secondary-only authoritative DNS server. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "options.h"
#include "server.h"
#include "xfrin.h"

static struct server *the_server;

static void on_signal(int sig)
{
	(void)sig;
	if (the_server)
		the_server->stop = 1;
}

/* The catalog the core answers from, made from the configuration. */
static int build_catalog(struct server *s, const struct cfg *cfg)
{
	s->cat.n = cfg->n_zones;
	s->cat.zones = calloc(cfg->n_zones ? cfg->n_zones : 1, sizeof(*s->cat.zones));
	if (!s->cat.zones)
		return -1;
	for (size_t i = 0; i < cfg->n_zones; i++) {
		const struct cfg_zone *cz = &cfg->zones[i];
		struct cat_zone *z = &s->cat.zones[i];
		memcpy(z->apex, cz->name, name_len(cz->name));
		for (size_t p = 0; p < cz->n_primary && p < CAT_MAX_PRIMARIES; p++)
			sockaddr_to_netaddr((const struct sockaddr *)&cz->primary[p].sa, &z->primary[p]);
		z->n_primary = (unsigned)cz->n_primary;
		for (size_t a = 0; a < cz->n_allow_notify && a < CAT_MAX_ACL; a++) {
			const struct cfg_prefix *cp = &cz->allow_notify[a];
			z->notify_acl[a].family = cp->family == AF_INET ? 4 : 6;
			memcpy(z->notify_acl[a].addr, cp->addr, 16);
			z->notify_acl[a].bits = (uint8_t)cp->bits;
		}
		z->n_notify_acl = (unsigned)cz->n_allow_notify;
		z->strip_dnssec = cz->strip_dnssec;
	}
	return catalog_prepare(&s->cat);
}

static int daemonize(void)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -1;
	pid = fork(); /* never a session leader again: no controlling tty */
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (chdir("/") < 0)
		return -1;
	int fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct cfg cfg;
	char err[512];
	cfg_init(&cfg);
	int rc = opts_parse(argc, argv, &cfg, err, sizeof(err));
	if (rc != 0) {
		if (rc < 0)
			fprintf(stderr, "icbind: %s\n", err);
		cfg_free(&cfg);
		return rc < 0 ? 1 : 0;
	}

	struct server *s = calloc(1, sizeof(*s));
	if (!s || loop_init(&s->loop) < 0) {
		fprintf(stderr, "icbind: cannot start: %s\n", strerror(errno));
		return 1;
	}
	s->cfg = &cfg;
	log_open(cfg.verbosity, 0);
	if (build_catalog(s, &cfg) < 0) {
		log_msg(LOG_ERR_, "cannot set up the zones: out of memory or a duplicate zone");
		return 1;
	}
	if (server_listen(s) < 0)
		return 1;
	if (!cfg.foreground) {
		if (daemonize() < 0) {
			log_msg(LOG_ERR_, "cannot become a daemon: %s", strerror(errno));
			return 1;
		}
		log_open(cfg.verbosity, 1);
	}
	if (cfg.pidfile[0]) {
		FILE *f = fopen(cfg.pidfile, "w");
		if (!f) {
			log_msg(LOG_ERR_, "cannot write pidfile %s: %s", cfg.pidfile, strerror(errno));
			return 1;
		}
		fprintf(f, "%ld\n", (long)getpid());
		fclose(f);
	}

	the_server = s;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	s->xfrins = calloc(s->cat.n ? s->cat.n : 1, sizeof(*s->xfrins));
	if (!s->xfrins) {
		log_msg(LOG_ERR_, "cannot start: out of memory");
		return 1;
	}
	for (size_t i = 0; i < s->cat.n; i++) {
		struct cat_zone *cz = &s->cat.zones[i];
		const struct cfg_zone *c = cfg_find_zone(&cfg, cz->apex);
		cz->user = &s->xfrins[i];
		xfrin_init(&s->xfrins[i], s, cz, c);
		xfrin_start(&s->xfrins[i]);
	}
	log_msg(LOG_NOTICE_, "started: %zu zone%s, %u sockets", s->cat.n, s->cat.n == 1 ? "" : "s",
		s->n_listeners);

	rc = loop_run(&s->loop, &s->stop);
	log_msg(LOG_NOTICE_, "stopping");

	for (size_t i = 0; i < s->cat.n; i++) {
		xfrin_stop(&s->xfrins[i]);
		struct zone *z = catalog_publish(&s->cat.zones[i], NULL);
		if (z)
			zone_free(z);
	}
	server_close(s);
	loop_free(&s->loop);
	free(s->xfrins);
	free(s->cat.zones);
	free(s);
	if (cfg.pidfile[0])
		unlink(cfg.pidfile);
	cfg_free(&cfg);
	log_close();
	return rc < 0 ? 1 : 0;
}
