# filesync — see README.md.
SWIFT ?= swift

.PHONY: all build release test faults powercut fuzz demo bench lint format clean install install-files screenshots man

all: build

build:
	$(SWIFT) build

## Self-contained binaries: the Swift runtime and Foundation are linked in (they then need only
## glibc, libstdc++, zlib, zstd and sqlite), and a client run starts in about 6 ms rather than 12.
release:
	$(SWIFT) build -c release --static-swift-stdlib

## Build everything and run every test (unit and end to end).
test:
	$(SWIFT) build --build-tests
	python3 -m unittest discover -s scripts/powercut
	$(SWIFT) test --skip-build

## A longer randomized soak: 120+ injected faults (cuts, resets, stalls, tiny pieces, kill -9 of
## client and server); prints faults, files verified, corrupt files (must be 0), resume overhead
## and what each cut resent (failing above Protocol.md §5.6's bound for one cut, or a median above
## 0.75 MiB; FILESYNC_SOAK_KINDS=cut,reset runs only those faults). The fault tests: a 200 MB
## transfer cut 20 times prints what each cut sent again over the path and fails above 0.45 MiB.
## The load tests: 500 clients at once, 5,000 idle connections.
## Then the power-cut harness once (POWERCUT_FAULT_CUTS cuts), so that both kinds of crash are run.
POWERCUT_FAULT_CUTS ?= 20
faults:
	$(SWIFT) build --build-tests
	FILESYNC_SOAK=1 $(SWIFT) test --skip-build --filter "SoakTests|LoadTests|FaultTests"
	python3 scripts/powercut/soak.py --bin-dir "$$($(SWIFT) build --show-bin-path)" --cuts $(POWERCUT_FAULT_CUTS)

## Power cuts: the server's storage root on powercutfs (scripts/powercut), a FUSE file system that
## keeps unsynced writes in memory and drops them at a cut, 200 cuts at random requests during
## backups, commits, in-place patches, snapshots and prunes. Prints a line per cut and a summary;
## fails on any acknowledged file lost or any file stored as a mix. Needs root and /dev/fuse.
POWERCUT_CUTS ?= 200
powercut:
	$(SWIFT) build
	python3 -m unittest discover -s scripts/powercut
	python3 scripts/powercut/soak.py --bin-dir "$$($(SWIFT) build --show-bin-path)" --cuts $(POWERCUT_CUTS)

## libFuzzer over the frame decoder, message decoding, path and id validation, discovery packets
## and inflation, seeded from Tests/FuzzCorpus, for FUZZ_SECONDS (default 60).
FUZZ_SECONDS ?= 60
fuzz:
	$(SWIFT) build --scratch-path .build-fuzz --product filesync-fuzz \
		-Xswiftc -sanitize=fuzzer -Xlinker --export-dynamic
	mkdir -p .build-fuzz/corpus .build-fuzz/artifacts
	cp Tests/FuzzCorpus/* .build-fuzz/corpus/
	"$$($(SWIFT) build --scratch-path .build-fuzz --show-bin-path)/filesync-fuzz" .build-fuzz/corpus \
		-max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix=.build-fuzz/artifacts/

## Back up a sample tree on loopback, change it, back up again.
demo: build
	scripts/demo.sh "$$($(SWIFT) build --show-bin-path)"

## filesync against rsync (daemon mode on 127.0.0.1) on the same data; not part of `make test`.
bench: release
	python3 scripts/bench.py --bin-dir "$$($(SWIFT) build -c release --static-swift-stdlib --show-bin-path)"

## Style (swift-format, warnings are errors) and shape (no file over 350 lines, no function over 60).
lint:
	$(SWIFT) format lint --strict --recursive Package.swift Sources Tests
	python3 scripts/check-shape.py Sources

format:
	$(SWIFT) format --in-place --recursive Package.swift Sources Tests

## The status page as a person sees it (docs/status-page.png, and a phone-width one): a server on
## loopback with three clients (fresh, stale, expected but never seen), shot by headless Chromium.
screenshots: build
	scripts/screenshots.sh "$$($(SWIFT) build --show-bin-path)" docs

## Install: the two binaries, man pages (from the argument parser's help), bash/zsh/fish
## completions, systemd units and the service user's sysusers.d entry, under DESTDIR/PREFIX.
## `make install-files BIN_DIR=...` installs already-built binaries without building.
PREFIX ?= /usr/local
DESTDIR ?=
BIN_DIR ?= $$($(SWIFT) build -c release --static-swift-stdlib --show-bin-path)
UNIT_DIR ?= $(PREFIX)/lib/systemd/system
install: release install-files

install-files:
	scripts/install.sh "$(BIN_DIR)" "$(DESTDIR)" "$(PREFIX)" "$(UNIT_DIR)"

clean:
	rm -rf .build
