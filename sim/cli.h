/*
 * Subcommands of bin/limitnet that live in their own files. Each takes the
 * arguments from its own name on (argv[0] is the subcommand) and returns
 * the process exit status: 0 success, 1 failure, 2 bad usage or input.
 */
#ifndef SIM_CLI_H
#define SIM_CLI_H

#include <stddef.h>

int sim_cmd_train(int argc, char **argv);
int sim_cmd_compare(int argc, char **argv);
int sim_cmd_capture(int argc, char **argv);
int sim_cmd_scenes(int argc, char **argv);
int sim_cmd_gallery(int argc, char **argv);
int sim_cmd_plan(int argc, char **argv);
int sim_cmd_merge(int argc, char **argv);
int sim_cmd_device_export(int argc, char **argv);

/* A whole decimal integer in [lo, hi] from a command-line argument: 0, or
 * -1 (nothing written) for anything else; the caller says what it wanted. */
int sim_arg_long(const char *s, long lo, long hi, long *out);

/* The same for a decimal number in [lo, hi] (no NaN, no infinity). */
int sim_arg_double(const char *s, double lo, double hi, double *out);

/* Whether -h or --help is anywhere in argv[1..argc-1]: each subcommand
 * asks first, so that its help comes before any file is opened or any
 * other argument is judged. */
int sim_arg_help(int argc, char **argv);

/* An option with a value at argv[*i], in each GNU spelling: "-j N" and
 * "-jN" for the short name shrt (one letter after the dash), "--jobs N"
 * and "--jobs=N" for the long name lng (either may be NULL). 1: *val is
 * the value and *i the last argument used; 0: argv[*i] is another
 * argument; -1: the option is last, without its value. */
int sim_arg_value(int argc, char **argv, int *i, const char *shrt,
                  const char *lng, const char **val);

/* The scenario overrides that run, check, plan and merge take: --set
 * PATH=VALUE (or --set=PATH=VALUE), at most SIM_MAX_SETS. 1: argv[*i] was
 * one, now sets[*n - 1]; 0: another argument; -1: misused, said on
 * stderr (exit with 2). */
#define SIM_MAX_SETS 64
int sim_arg_set(int argc, char **argv, int *i, const char *sub, const char **sets,
                size_t *n);

/* Says on stderr "limitnet SUB: unknown option ARG" (or "unexpected
 * argument" for one without a dash) and that `limitnet SUB --help` lists
 * what SUB takes; returns 2, the exit status for bad usage. */
int sim_arg_unknown(const char *sub, const char *arg);

#endif
