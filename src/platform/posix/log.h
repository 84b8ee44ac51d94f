/* Logging: to standard error in the foreground, to syslog as a daemon. */
#ifndef ICBIND_LOG_H
#define ICBIND_LOG_H

enum { LOG_ERR_ = 0, LOG_NOTICE_ = 1, LOG_INFO_ = 2, LOG_DEBUG_ = 3 };

void log_open(unsigned verbosity, int use_syslog);
void log_close(void);
/* While a daemon starts: to standard error as well as to syslog. */
void log_stderr_too(int on);
int log_enabled(unsigned level);

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3))) /* checks the format strings, nothing else */
#endif
void log_msg(unsigned level, const char *fmt, ...);

#endif
