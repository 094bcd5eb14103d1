# Fleetgate. `make run` starts the console with the demo account,
# `make test` runs every test, `make check` is what to run before a commit.
GO ?= go
ADDR ?= 127.0.0.1:8080
DB ?= fleetgate.db

.PHONY: run test test-postgres check fmt-check templ-fmt-check vet generate generate-check bench build load

# An explicit limit for each test binary, so that a stuck test fails the run
# with its goroutines dumped. Hangs in browser steps fail sooner on their own
# budgets; this bounds a whole package, which needs about a minute on an idle
# 2-core machine and several on a heavily shared one (the browser package
# took 8 minutes under -race with a load average of 50).
TEST_TIMEOUT ?= 12m

# The version and commit --version prints (fleetgate's main.version and main.commit).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS = -X main.version=$(VERSION) -X main.commit=$(COMMIT)

# run builds the binary and runs it (not "go run": the go command exits 1
# when interrupted, so Ctrl-C would end with "make: *** Error 1" although
# the server stopped cleanly with status 0).
run: build
	bin/fleetgate serve --demo --addr $(ADDR) --db $(DB)

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/fleetgate ./cmd/fleetgate

# The race detector stays on for all of our code, the standard library
# and the SQLite driver's Go side (modernc.org/sqlite). It is off for
# modernc.org/sqlite/lib, SQLite's C source translated to Go, and for the
# C library it runs on (modernc.org/libc, modernc.org/memory): one
# connection's C code runs on one goroutine at a time behind SQLite's own
# locks, and with a cgo driver the race detector would not see it either.
# -race also turns on checkptr, which checks every unsafe pointer step; the
# translated C (modernc.org/...) takes such steps by the million (parsing
# each SQL statement and each connection's schema), so it is off there.
# Measured on this 2-core machine: the first two settings take the db
# tests from 58 to 11 CPU seconds and the handlers tests from 199 to 57;
# libc and memory take a further 23% off the handlers tests (12.1 to 9.3
# CPU seconds for the access matrix and the two race tests). Finding races
# in our code is unchanged. (`go test -race ./...` without them works,
# only slower.)
RACE_GCFLAGS ?= -gcflags='modernc.org/...=-d=checkptr=0' -gcflags='modernc.org/sqlite/lib=-race=false' \
	-gcflags='modernc.org/libc/...=-race=false' -gcflags='modernc.org/memory=-race=false'

# A program built with -race sleeps a second when it exits, by default,
# for goroutines still running to report races: one second per test binary
# (8 of them) and per server the tests start as a child process, spent
# after every test has finished. Races in the tests themselves are found
# and reported as before.
RACE_ENV ?= GORACE=atexit_sleep_ms=0

# The browser tests take Chromium from CHROME_PATH, else chromium on PATH.
# Debian's chromium-headless-shell, when installed, is chosen here: it runs
# the same tests on about half the CPU of chromium --headless. A
# CHROME_PATH of your own wins.
CHROME_PATH ?= $(firstword $(wildcard /usr/lib/chromium/chromium-headless-shell))
export CHROME_PATH

# go test shows a passing package's output only with -v, so the browser
# tests' skip is said here too (their TestMain says it under -v).
test:
	@[ -n "$$CHROME_PATH" ] || [ "$$FLEETGATE_E2E" = required ] || command -v chromium >/dev/null 2>&1 || \
		echo 'browser tests skipped: no Chromium found; install with `apt-get install chromium chromium-headless-shell` or set CHROME_PATH' >&2
	$(RACE_ENV) $(GO) test -race $(RACE_GCFLAGS) -count=1 -timeout $(TEST_TIMEOUT) ./...

# The same tests on PostgreSQL: .ci/with-postgres starts a throwaway
# cluster (Debian's postgresql package) in a temp dir for the run, and
# each test gets a database of its own on it (db/dbtest).
test-postgres:
	.ci/with-postgres $(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...

generate:
	$(GO) tool templ generate

# Fails when the *_templ.go files are not what the generator makes from the
# .templ files (it regenerates them, so the next step is to commit them).
generate-check:
	@before=$$(cat $$(find views -name '*_templ.go' | sort) | sha256sum); \
	$(GO) tool templ generate >/dev/null 2>&1; \
	after=$$(cat $$(find views -name '*_templ.go' | sort) | sha256sum); \
	if [ "$$before" != "$$after" ]; then echo "templ output was stale: regenerated, review and commit views/*_templ.go"; exit 1; fi

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Fails when `templ fmt` would change a .templ file (it formats a scratch
# copy and compares; `go tool templ fmt views` formats them in place).
templ-fmt-check:
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	cp -R views "$$tmp/views"; \
	$(GO) tool templ fmt "$$tmp/views" >/dev/null 2>&1 || { echo "templ fmt failed"; exit 1; }; \
	out=$$(cd "$$tmp" && for f in $$(find views -name '*.templ' | sort); do cmp -s "$$f" "$(CURDIR)/$$f" || echo "$$f"; done); \
	if [ -n "$$out" ]; then echo "templ fmt needed (go tool templ fmt views):"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

check: fmt-check templ-fmt-check vet generate-check test

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# A load run against a large generated account on 127.0.0.1 (bounded in time):
# each list at 1, 8 and 32 concurrent clients, a bare Echo handler beside them.
load:
	$(GO) run ./cmd/loadtest -duration 5s -concurrency 1,8,32
