# pumpledger. `make demo` builds and runs the demo; `make test` is what CI runs.
GO ?= go
BIN := bin/pumpledger
DEMO_DB ?= demo.db
FUZZTIME ?= 10s

.PHONY: all build deps test vet fuzz bench bench-clean demo clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/pumpledger

vet:
	$(GO) vet ./...
	@fmt=$$(gofmt -l . | grep -v '^vendor/'); if [ -n "$$fmt" ]; then echo "gofmt needed: $$fmt"; exit 1; fi

# What the tests need beyond Go: node-x12, the independent X12 parser the
# 837P tests run on every golden interchange, at the version its lock file
# pins (node and npm from the system).
deps:
	npm ci --prefix tools/x12check --no-audit --no-fund

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
# with the bill). The check exits 1 when it finds errors, as the demo's gaps
# make it: shown, not a failure of the target. All are dated as if filed on
# 15 March (--as-of), so the demo reads the same whatever today is.
demo: build
	rm -f $(DEMO_DB) $(DEMO_DB).key $(DEMO_DB).pub $(DEMO_DB).catalog.json $(DEMO_DB).837p
	./$(BIN) --db $(DEMO_DB) init
	./$(BIN) --db $(DEMO_DB) demo
	./$(BIN) --db $(DEMO_DB) chart --mrn MRN-1002
	./$(BIN) --db $(DEMO_DB) check --from 2026-02-01 --to 2026-02-28 --as-of 2026-03-15 || [ $$? -eq 1 ]
	./$(BIN) --db $(DEMO_DB) bill --from 2026-02-01 --to 2026-02-28 --as-of 2026-03-15
	umask 077; ./$(BIN) --db $(DEMO_DB) bill --from 2026-02-01 --to 2026-02-28 --as-of 2026-03-15 --format 837p > $(DEMO_DB).837p 2>/dev/null
	@echo "The same month as a whole 837P interchange: $(DEMO_DB).837p"

clean:
	rm -rf bin $(DEMO_DB) $(DEMO_DB).key $(DEMO_DB).pub $(DEMO_DB).catalog.json $(DEMO_DB).837p
