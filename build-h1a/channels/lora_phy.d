build-h1a/channels/lora_phy.o: channels/lora_phy.c channels/lora_phy.h

channels/lora_phy.h:
