/* Logging. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

static unsigned log_level = LOG_NOTICE_;
static int log_syslog, log_stderr;

void log_open(unsigned verbosity, int use_syslog)
{
	log_level = verbosity;
	log_syslog = use_syslog;
	/* LOG_NDELAY: connected now, before a chroot hides /dev/log. */
	if (use_syslog)
		openlog("icbind", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_stderr_too(int on)
{
	log_stderr = on;
}

void log_close(void)
{
	if (log_syslog)
		closelog();
}

int log_enabled(unsigned level)
{
	return level <= log_level;
}

void log_msg(unsigned level, const char *fmt, ...)
{
	if (level > log_level)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_syslog) {
		static const int prio[] = { LOG_ERR, LOG_NOTICE, LOG_INFO, LOG_DEBUG };
		syslog(prio[level > 3 ? 3 : level], "%s", line);
		if (!log_stderr || level > LOG_NOTICE_)
			return;
	}
	struct timespec ts;
	struct tm tm;
	char when[32];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ icbind: %s\n", when, ts.tv_nsec / 1000000, line);
	fflush(stderr);
}
