# The project's commands. README.md names two of them: `make run` and `make test`.
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)

.PHONY: setup build cli wasm run serve test test-rust test-e2e test-fuzz lint fmt bench fuzz clean

setup:
	bash .ci/setup

# The CLI, and the scripted hostile registry the npm package's tests run against.
cli:
	cargo build --release -p docker-squash
	cargo build --release -p squash-testkit --bin scripted-registry

wasm:
	bash .ci/build-wasm

build: cli wasm

# Build everything and serve the page on http://127.0.0.1:8080
run: setup build serve

serve:
	python3 tests/support/serve.py web 8080

test: setup build lint test-rust test-e2e test-fuzz

test-rust:
	cargo test --workspace --release

# Named folders, not a bare `node --test`: that would walk tests/.work, where the daemons'
# data holds dangling symlinks and names that are not UTF-8.
test-e2e:
	cd tests && node --test --test-concurrency=1 --test-timeout=1800000 e2e/ npm/ web/

# The formatters' settings: rustfmt.toml (Rust, the fuzz workspace too) and .prettierrc.json
# (the JavaScript, TypeScript, HTML and CSS of the package and its types, the page and the tests).
PRETTIER := tests/node_modules/.bin/prettier
JS_FILES := 'crates/wasm/js/**/*.{mjs,ts}' 'crates/wasm/src/*.ts' 'web/**/*.{mjs,js,css,html}' 'tests/**/*.mjs'

fmt:
	cargo fmt --all
	cd crates/engine/fuzz && cargo fmt --all
	$(PRETTIER) --log-level warn --write $(JS_FILES)

# Formatting and lints are part of the build: `make test` fails on either.
lint:
	cargo fmt --all --check
	cd crates/engine/fuzz && cargo fmt --all --check
	cargo clippy --workspace --all-targets --release -- -D warnings
	$(PRETTIER) --log-level warn --check $(JS_FILES)
	bash tests/support/check-file-lengths.sh

# Every fuzz target for a minute (in `make test`), or an hour each (`make fuzz`).
test-fuzz:
	bash .ci/fuzz 60

fuzz: setup
	bash .ci/fuzz 3600

bench: setup cli
	bash tests/bench/run.sh

clean:
	cargo clean
	rm -rf tests/.work web/pkg
