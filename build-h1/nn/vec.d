build-h1/nn/vec.o: nn/vec.c nn/vec.h
nn/vec.h:
