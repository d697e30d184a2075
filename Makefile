# keepalived-rs build, test and install.
PREFIX     ?= /usr/local
prefix     ?= $(PREFIX)
sbindir    ?= $(prefix)/sbin
mandir     ?= $(prefix)/share/man
sysconfdir ?= /etc
DESTDIR    ?=
CARGO      ?= cargo
CARGOFLAGS ?=
INSTALL    ?= install

BIN = target/release/keepalived-rs

.PHONY: all test clean install uninstall

all:
	$(CARGO) build --release $(CARGOFLAGS)

test:
	$(CARGO) test $(CARGOFLAGS)

clean:
	$(CARGO) clean
