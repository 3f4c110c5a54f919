/*
 * Subcommands of bin/limitnet that live in their own files. Each takes the
 * arguments from its own name on (argv[0] is the subcommand) and returns
 * the process exit status: 0 success, 1 failure, 2 bad usage or input.
 */
#ifndef SIM_CLI_H
#define SIM_CLI_H

int sim_cmd_train(int argc, char **argv);
int sim_cmd_compare(int argc, char **argv);
int sim_cmd_capture(int argc, char **argv);
int sim_cmd_scenes(int argc, char **argv);
int sim_cmd_gallery(int argc, char **argv);

/* A whole decimal integer in [lo, hi] from a command-line argument: 0, or
 * -1 (nothing written) for anything else; the caller says what it wanted. */
int sim_arg_long(const char *s, long lo, long hi, long *out);

#endif
