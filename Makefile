# Atrium's build and checks. `make check` is what CI runs (through .ci/run).
GO ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME ?= 20s
export CGO_ENABLED = 0

.PHONY: check fmt vet staticcheck test build run fuzz bench

## check: everything CI checks: formatting, vet, staticcheck and the race-enabled tests.
check: fmt vet staticcheck test

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

staticcheck:
	$(GO) run $(STATICCHECK) ./...

# The race detector needs cgo; the binary itself is built without it.
test:
	CGO_ENABLED=1 $(GO) test -race -count=1 ./...

build:
	$(GO) build -o atrium ./cmd/atrium

run:
	$(GO) run ./cmd/atrium serve

## fuzz: run every fuzz target for FUZZTIME each.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

## bench: the catalog ingestion and query benchmarks at 10,000 components.
bench:
	$(GO) run ./cmd/atrium bench query --components 10000
