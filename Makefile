# pumpledger. `make demo` builds and runs the demo; `make test` is what CI runs.
GO ?= go
BIN := bin/pumpledger
DEMO_DB ?= demo.db
FUZZTIME ?= 10s

.PHONY: all build deps test vet fuzz bench bench-clean demo clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/pumpledger

# What the tests need beyond Go modules, installed by the project's own
# files: a headless Chromium for the pages' tests (Debian's chromium; as
# root through apt-get, else the one on PATH or $CHROMIUM), and the
# independent FHIR R4 validator the fhir package's tests run (Medplum's,
# with the R4 definitions, under node), at the versions package-lock.json
# pins, and node-x12, the independent X12 parser the 837P tests run on
# every golden interchange; npm ci works from its cache once fetched.
deps:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || [ -n "$$CHROMIUM" ] || \
	  { [ "$$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  { echo "make deps: install Chromium (Debian: apt-get install chromium) or set CHROMIUM"; exit 1; }
	npm ci --prefix tools/fhircheck --no-audit --no-fund
	npm ci --prefix tools/x12check --no-audit --no-fund

vet:
	$(GO) vet ./...
	@fmt=$$(gofmt -l . | grep -v '^vendor/'); if [ -n "$$fmt" ]; then echo "gofmt needed: $$fmt"; exit 1; fi


# Every test with the race detector; fuzz targets run their seed corpora
# (testdata/fuzz/) here, and `make fuzz` runs each for FUZZTIME beyond them
# (CI: `make fuzz FUZZTIME=20000x`, a count: see .ci/run).
test: deps vet
	$(GO) test -race -count=1 ./...

fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 10x $$pkg || exit 1; \
	  done; \
	done

# Every benchmark, each figure beside its baseline (x-baseline). The appends
# run in rounds with raw bbolt Puts and the SQLite peer (internal/sqlitepeer,
# built only here, with cgo: -tags sqlitepeer), ratios from the same rounds.
# The scale suite builds ledgers of SCALE_SIZES entries once into SCALE_DIR
# (about 15 minutes the first time for 1M, 3 GB); bench-clean removes them.
# BENCH selects, e.g. `make bench BENCH=AppendRefill` (the appends on a small
# ledger, a minute or two) or `BENCH=Scale SCALE_SIZES=100000`.
SCALE_DIR ?= $(or $(TMPDIR),/tmp)/pumpledger-scale
SCALE_SIZES ?= 100000,1000000
BENCH ?= .
bench:
	PUMPLEDGER_SCALE_DIR=$(SCALE_DIR) PUMPLEDGER_SCALE_SIZES=$(SCALE_SIZES) $(GO) test -tags sqlitepeer -run '^$$' -bench '$(BENCH)' -benchmem -timeout 3h ./...

bench-clean:
	rm -rf $(SCALE_DIR)

# A fresh demo ledger (made by init, as every ledger is), then one month's
# bill: refills, JW lines, an admixture. The month is the one the demo's
# "Try next" shows for its default history (cmd/pumpledger's
# TestDemoMakefileMonth keeps them equal); the demo's own catalog (the
# embedded one plus synthetic morphine) is adopted in its ledger like any
# other. The .catalog.json removed is an older release's, kept beside it.
# The demo ledger, one patient's chart, the pre-billing check and the bill
# of a month, then the same month as an 837P interchange in a file (0600, as
# every file holding patients; its findings and refused claims were printed
# with the bill). The check exits 1 when it finds errors, as the demo's gaps make
# it: shown, not a failure of the target. Both are dated as if filed on 15
# March (--as-of), so the demo reads the same whatever today is.
# Then the web app serves the demo ledger in the foreground, with a demo
# account per role (demo --users; its password printed once, above the
# chart), until Ctrl-C; `make demo DEMO_SERVE=` stops before it. CI never
# runs this target.
DEMO_SERVE ?= 1
DEMO_ADDR ?= 127.0.0.1:8080
demo: build
	rm -f $(DEMO_DB) $(DEMO_DB).key $(DEMO_DB).pub $(DEMO_DB).catalog.json $(DEMO_DB).users $(DEMO_DB).access $(DEMO_DB).sock $(DEMO_DB).837p $(DEMO_DB).intro
	./$(BIN) --db $(DEMO_DB) init
	umask 077; ./$(BIN) --db $(DEMO_DB) demo --users > $(DEMO_DB).intro || { cat $(DEMO_DB).intro; exit 1; }; cat $(DEMO_DB).intro
	./$(BIN) --db $(DEMO_DB) chart --mrn MRN-1002
	./$(BIN) --db $(DEMO_DB) check --from 2026-02-01 --to 2026-02-28 --as-of 2026-03-15 || [ $$? -eq 1 ]
	./$(BIN) --db $(DEMO_DB) bill --from 2026-02-01 --to 2026-02-28 --as-of 2026-03-15
	umask 077; ./$(BIN) --db $(DEMO_DB) bill --from 2026-02-01 --to 2026-02-28 --as-of 2026-03-15 --format 837p > $(DEMO_DB).837p 2>/dev/null
	@echo "The same month as a whole 837P interchange: $(DEMO_DB).837p"
	@if [ -n "$(DEMO_SERVE)" ]; then \
	  echo; sed -n '/^The web app/,$$p' $(DEMO_DB).intro; \
	  echo "Sign in at the address below. Other commands still work on $(DEMO_DB) meanwhile. Ctrl-C stops the server."; \
	  exec ./$(BIN) --db $(DEMO_DB) serve --addr $(DEMO_ADDR); \
	fi

clean:
	rm -rf bin $(DEMO_DB) $(DEMO_DB).key $(DEMO_DB).pub $(DEMO_DB).catalog.json $(DEMO_DB).users $(DEMO_DB).access $(DEMO_DB).sock $(DEMO_DB).837p $(DEMO_DB).intro
