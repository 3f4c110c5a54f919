build-h1a/sim/args.o: sim/args.c sim/cli.h

sim/cli.h:
