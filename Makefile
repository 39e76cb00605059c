# Reelwright — everyday commands.  `make demo` and `make test` set everything up on a fresh machine.
PY      ?= python3
VENV    := .venv
VPY     := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
export QT_QPA_PLATFORM ?= offscreen
export PLAYWRIGHT_BROWSERS_PATH ?= $(CURDIR)/.venv/ms-playwright

.PHONY: setup system venv demo demo-ad test test-fast lint bench package install-test clean help recorder-image emulator-image

help:
	@echo "make demo     set up and render the bundled example to out/quickstart.mp4"
	@echo "make demo-ad  render the example as a 30-second 9:16 ad to out/quickstart-ad.mp4"
	@echo "make test     set up and run the whole test suite"
	@echo "make lint     ruff + mypy --strict on every package (part of make test)"
	@echo "make bench    run the benchmarks (see docs/performance.md)"
	@echo "make package  build the desktop app: dist/Reelwright/, dist/reelwright_*.deb, dist/Reelwright-*.tar.zst"
	@echo "make install-test  install the .deb in a fresh Debian container and use it (root; see docs/packaging.md)"
	@echo "make recorder-image / emulator-image  build the cloud recorder image / the docker-compose emulator (Docker engine; docs/cloud.md)"
	@echo "make -f build/ci.mk help   CI targets: package-check, workflows-lint, recorder-lint, cloud-smoke"

setup: system venv

system:
	@bash scripts/setup-system.sh

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(VPY) || $(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

demo: setup
	@mkdir -p out
	$(VPY) -m app render resources/examples/quickstart/script.json --out out/quickstart.mp4

demo-ad: setup
	@mkdir -p out
	$(VPY) -m app render resources/examples/quickstart/ad.json --preset 9:16 --preset ad --target 30s --out out/quickstart-ad.mp4

test: setup lint
	@bash scripts/run-tests.sh

test-fast: venv
	@PYTEST_ADDOPTS='-m "not slow"' bash scripts/run-tests.sh

LINT_PACKAGES := app recorder build bench

lint: venv
	$(VPY) -m ruff check $(LINT_PACKAGES) tests
	$(VPY) -m mypy --strict $(LINT_PACKAGES)

bench: setup
	$(VPY) bench/render_speed.py

package: setup
	$(VPY) -m PyInstaller --noconfirm --clean --distpath dist --workpath build/work build/reelwright.spec
	$(VPY) build/check_bundle.py dist/Reelwright
	$(VPY) build/linux_package.py dist/Reelwright --out-dir dist

# The .deb on a Debian bookworm container that has never seen the project (needs root: it starts its own
# Docker engine; installs docker.io and debootstrap if missing).  Builds the package first if needed.
install-test:
	@ls dist/reelwright_*.deb >/dev/null 2>&1 || $(MAKE) package
	bash build/install_test.sh "$$(ls -t dist/reelwright_*.deb | head -1)" out/install-test

clean:
	rm -rf out dist build/work .pytest_cache .mypy_cache .ruff_cache

# The recorder container image (Docker engine needed; see docs/cloud.md "The recorder image").
recorder-image:
	scripts/recorder-image.sh

emulator-image:
	RECORDER_TARGET=emulator scripts/recorder-image.sh
