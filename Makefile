# keepalived-rs build, test and install.
#
#   make                 release build (target/release/keepalived-rs)
#   make router          the binary for router images (target/router/keepalived-rs:
#                        fat LTO, one codegen unit, stripped; what `install` installs)
#   make demo            simulated two-router failover (no root, no network)
#   make test            fmt check, clippy, man page lint, cargo test --release
#   make conformance     the RFC scenario suite in the simulated world
#   make man             lint the man pages and render them to target/man/*.txt
#   make soak            100000 random-fault simulation seeds
#   make bench           cargo bench, then scripts/bench.sh: keepalived-rs beside keepalived,
#                        table in BENCHMARKS.md (root; BENCH_QUICK=1 short, BENCH_CARGO=0
#                        skips cargo bench)
#   make fuzz            AFL++ on every fuzz target, FUZZ_SECONDS each (default 60)
#   make install         PREFIX=/usr/local DESTDIR= (NOBUILD=1: do not build, e.g. as root)
#   make uninstall
#
# Install variables (GNU conventions): PREFIX/prefix, exec_prefix, sbindir, datarootdir,
# datadir, mandir, sysconfdir, systemdunitdir, initdir, DESTDIR. INIT chooses the init
# file installed: systemd (default: unit in systemdunitdir), sysv (sysvinit script in
# initdir), procd (OpenWrt procd script in initdir), none.

PREFIX         ?= /usr/local
prefix         ?= $(PREFIX)
exec_prefix    ?= $(prefix)
sbindir        ?= $(exec_prefix)/sbin
datarootdir    ?= $(prefix)/share
datadir        ?= $(datarootdir)
mandir         ?= $(datarootdir)/man
sysconfdir     ?= /etc
systemdunitdir ?= $(prefix)/lib/systemd/system
initdir        ?= $(sysconfdir)/init.d
confdir        ?= $(sysconfdir)/keepalived-rs
DESTDIR        ?=
INIT           ?= systemd
NOBUILD        ?=
CARGO          ?= cargo
CARGOFLAGS     ?=
INSTALL        ?= install
GROFF          ?= groff

BIN   ?= target/router/keepalived-rs
NAME   = keepalived-rs
MAN8   = man/keepalived-rs.8
MAN5   = man/keepalived-rs.conf.5
EXAMPLE_CONF = docs/examples/keepalived.conf

# Paths substituted into the installed init files.
SUBST = sed -e 's|@SBINDIR@|$(sbindir)|g' -e 's|@CONFDIR@|$(confdir)|g'

.PHONY: all build router test lint fmt-check clippy man man-lint conformance demo soak bench fuzz \
        install install-bin install-man install-init install-conf uninstall clean

all: build

build:
	$(CARGO) build --release $(CARGOFLAGS)

# Cargo.toml's [profile.router]: slower to build than release, smaller and stripped.
router:
	$(CARGO) build --profile router $(CARGOFLAGS)

test: fmt-check clippy man-lint
	$(CARGO) test --release $(CARGOFLAGS)

lint: fmt-check clippy man-lint

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --release --all-targets $(CARGOFLAGS) -- -D warnings

# groff prints nothing for a clean page; any output (warning) fails the target.
man-lint:
	@if command -v $(GROFF) >/dev/null 2>&1; then \
	    for m in $(MAN8) $(MAN5); do \
	        out=$$($(GROFF) -man -ww -z $$m 2>&1); \
	        if [ -n "$$out" ]; then echo "$$m:"; echo "$$out"; exit 1; fi; \
	    done; echo "man pages: groff -man -ww -z clean"; \
	else echo "man-lint: groff not installed, skipped"; fi

man: man-lint
	@mkdir -p target/man
	@if command -v $(GROFF) >/dev/null 2>&1; then \
	    for m in $(MAN8) $(MAN5); do \
	        $(GROFF) -man -Tutf8 -P-cbou $$m > target/man/$$(basename $$m).txt; done; \
	    echo "rendered to target/man/"; fi

conformance:
	$(CARGO) test --release $(CARGOFLAGS) --test conformance

demo:
	$(CARGO) run --release --quiet $(CARGOFLAGS) -- --simulate examples/demo/failover.scn

soak:
	SIM_SEEDS=100000 $(CARGO) test --release $(CARGOFLAGS) --test random_faults -- --nocapture

FUZZ_SECONDS ?= 60
fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

BENCH_CARGO ?= 1
bench:
	@if [ "$(BENCH_CARGO)" != 0 ]; then $(CARGO) bench --bench '*' $(CARGOFLAGS); fi
	scripts/bench.sh

# With NOBUILD=1 nothing is compiled (build first as a normal user, install as root).
ifeq ($(NOBUILD),)
install: router
endif
install: install-bin install-man install-init install-conf

install-bin:
	@test -x $(BIN) || { echo "$(BIN) missing: run 'make router' first (or drop NOBUILD=1)"; exit 1; }
	$(INSTALL) -d $(DESTDIR)$(sbindir)
	$(INSTALL) -m 0755 -s $(BIN) $(DESTDIR)$(sbindir)/$(NAME)

install-man:
	$(INSTALL) -d $(DESTDIR)$(mandir)/man8 $(DESTDIR)$(mandir)/man5
	$(INSTALL) -m 0644 $(MAN8) $(DESTDIR)$(mandir)/man8/keepalived-rs.8
	$(INSTALL) -m 0644 $(MAN5) $(DESTDIR)$(mandir)/man5/keepalived-rs.conf.5

install-init:
	@case "$(INIT)" in \
	systemd) $(INSTALL) -d $(DESTDIR)$(systemdunitdir) && \
	    $(SUBST) scripts/init/keepalived-rs.service > $(DESTDIR)$(systemdunitdir)/keepalived-rs.service && \
	    chmod 0644 $(DESTDIR)$(systemdunitdir)/keepalived-rs.service && \
	    echo "installed $(DESTDIR)$(systemdunitdir)/keepalived-rs.service";; \
	sysv) $(INSTALL) -d $(DESTDIR)$(initdir) && \
	    $(SUBST) scripts/init/keepalived-rs.init > $(DESTDIR)$(initdir)/keepalived-rs && \
	    chmod 0755 $(DESTDIR)$(initdir)/keepalived-rs && \
	    echo "installed $(DESTDIR)$(initdir)/keepalived-rs";; \
	procd) $(INSTALL) -d $(DESTDIR)$(initdir) && \
	    $(SUBST) scripts/init/keepalived-rs.procd > $(DESTDIR)$(initdir)/keepalived-rs && \
	    chmod 0755 $(DESTDIR)$(initdir)/keepalived-rs && \
	    echo "installed $(DESTDIR)$(initdir)/keepalived-rs";; \
	none) ;; \
	*) echo "INIT=$(INIT): expected systemd, sysv, procd or none"; exit 1;; \
	esac

# The example configuration is installed only if no configuration is there yet.
install-conf:
	$(INSTALL) -d $(DESTDIR)$(confdir)
	@if [ -e $(DESTDIR)$(confdir)/keepalived.conf ]; then \
	    echo "$(DESTDIR)$(confdir)/keepalived.conf exists: kept"; \
	else $(INSTALL) -m 0644 $(EXAMPLE_CONF) $(DESTDIR)$(confdir)/keepalived.conf && \
	    echo "installed $(DESTDIR)$(confdir)/keepalived.conf (example)"; fi

# The configuration is the administrator's: uninstall leaves it in place.
uninstall:
	rm -f $(DESTDIR)$(sbindir)/$(NAME)
	rm -f $(DESTDIR)$(mandir)/man8/keepalived-rs.8 $(DESTDIR)$(mandir)/man5/keepalived-rs.conf.5
	rm -f $(DESTDIR)$(systemdunitdir)/keepalived-rs.service
	@for f in $(DESTDIR)$(initdir)/keepalived-rs; do \
	    if [ -f $$f ] && grep -q 'keepalived-rs' $$f; then rm -f $$f; fi; done
	@if [ -e $(DESTDIR)$(confdir)/keepalived.conf ]; then \
	    echo "kept $(DESTDIR)$(confdir)/keepalived.conf"; fi

clean:
	$(CARGO) clean
