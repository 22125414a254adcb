# filesync — see README.md.
SWIFT ?= swift

.PHONY: all build release test faults demo bench lint format clean

all: build

build:
	$(SWIFT) build

release:
	$(SWIFT) build -c release

## Build everything and run every test (unit and end to end).
test:
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

## A longer randomized soak: 120+ injected faults (cuts, resets, stalls, tiny pieces, kill -9 of
## client and server); prints faults, files verified, corrupt files (must be 0), resume overhead.
faults:
	$(SWIFT) build --build-tests
	FILESYNC_SOAK=1 $(SWIFT) test --skip-build --filter SoakTests

## Back up a sample tree on loopback, change it, back up again.
demo: build
	scripts/demo.sh "$$($(SWIFT) build --show-bin-path)"

## filesync against rsync (daemon mode on 127.0.0.1) on the same data; not part of `make test`.
bench: release
	python3 scripts/bench.py --bin-dir "$$($(SWIFT) build -c release --show-bin-path)"

lint:
	$(SWIFT) format lint --recursive Package.swift Sources Tests

format:
	$(SWIFT) format --in-place --recursive Package.swift Sources Tests

clean:
	rm -rf .build
