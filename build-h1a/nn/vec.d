build-h1a/nn/vec.o: nn/vec.c nn/vec.h

nn/vec.h:
