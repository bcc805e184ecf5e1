# byokflow: the two commands are `make run` and `make test`; the rest are parts.
SHELL := /bin/bash

.PHONY: run test reliability build lint bench stack stack-down clean

## run: start the local stack and run the main job on it
run:
	@scripts/run.sh

## test: every test tier (unit, emulator, PostgreSQL, end to end), starting what they need
test:
	@scripts/test.sh

## reliability: the whole reliability suite (crashes, faults, lost hosts, bad input, fuzzing, load; about 31 min on 2 cores); prints the table and writes docs/reliability.md
reliability:
	@scripts/reliability.sh

## build: build every program of this repository into bin/
build:
	go build -o bin/ ./emulator/cmd/emulator ./worker ./starter

## lint: gofmt and go vet
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	go vet ./...

## bench: the benchmarks, with the encryption comparison table
bench:
	@scripts/bench.sh

## stack: start PostgreSQL, Temporal, the emulator, the worker and node agents a, b, c in the background, and create the reconcile schedule (every 1m)
stack:
	@scripts/stack.sh up
	@scripts/stack.sh where

## stack-down: stop what `make stack` started
stack-down:
	@scripts/stack.sh down

## clean: stop the stack and remove run-time files and built programs
clean: stack-down
	rm -rf .run bin
