build-h1/sim/args.o: sim/args.c sim/cli.h
sim/cli.h:
