/* The command line (docs/configuration.md, "Command line"). */
#ifndef ICBIND_OPTIONS_H
#define ICBIND_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"

/* Parse argv into c, which comes from cfg_init().  A --config file is read
 * first, then the --zone zones are appended and --listen replaces the
 * file's listen addresses.  Relative paths (the --config file, pidfile,
 * data-dir, chroot) are taken from the directory base when it is not NULL
 * (the one icbind started in: a daemon works from "/", and a reload must
 * find the same files), else as they are.  Returns 0; 1 after printing the help or the
 * version to stdout (the caller exits with success); -1 with a message in
 * err.  c may be partly filled on error: cfg_free() it in every case.
 * Safe to call more than once in a process. */
int opts_parse(int argc, char **argv, const char *base, struct cfg *c, char *err, size_t errlen);

/* The help text. */
void opts_usage(FILE *out);

#endif
