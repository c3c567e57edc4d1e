# The project's commands. README.md names two of them: `make run` and `make test`.
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)

.PHONY: setup build cli wasm run serve test test-rust test-e2e bench fuzz clean

setup:
	bash .ci/setup

cli:
	cargo build --release -p docker-squash

wasm:
	bash .ci/build-wasm

build: cli wasm

# Build everything and serve the page on http://127.0.0.1:8080
run: setup build serve

serve:
	python3 tests/support/serve.py web 8080

test: setup build test-rust test-e2e

test-rust:
	cargo test --workspace --release

test-e2e:
	cd tests && node --test --test-concurrency=1 --test-timeout=1800000

bench: setup cli
	bash tests/bench/run.sh

clean:
	cargo clean
	rm -rf tests/.work web/pkg
