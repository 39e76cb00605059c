# CI/CD targets used by .github/workflows/*.yml.  Every workflow step that does real work is one of
# these targets (or a target of the main Makefile), so a workflow does nothing a developer cannot run:
#
#   make -f build/ci.mk package-check     build dist/Reelwright, check it, self-test it with a clean env
#   make -f build/ci.mk package-archive   dist/Reelwright-<version>-<os>-<arch>.(tar.gz|zip)
#   make -f build/ci.mk package-installer the download users double-click: .deb + .tar.zst (Linux),
#                                         .dmg (macOS), Inno Setup setup.exe (Windows); signed when the
#                                         signing secrets are in the environment
#   make -f build/ci.mk installer-check   install that installer on this machine and self-test the copy
#   make -f build/ci.mk workflows-lint    actionlint on .github/workflows (plus the structural checks)
#   make -f build/ci.mk recorder-lint     cfn-lint + checkov on the CloudFormation template
#   make -f build/ci.mk recorder-image    docker build of the recorder image (needs a Docker engine)
#   make -f build/ci.mk cloud-smoke       the cloud path end to end against the moto emulator
#
# It includes the main Makefile, so its targets (setup, venv, test, package …) work here as well.

include Makefile

ifeq ($(OS),Windows_NT)
VPY := $(VENV)/Scripts/python.exe
EXE_SUFFIX := .exe
else
EXE_SUFFIX :=
endif

DIST        ?= dist/Reelwright
SELFTEST    ?= out/selftest
IMAGE       ?= reelwright-recorder:dev
# the packaged app must run without the build's Python or venv: a near-empty environment
CLEAN_ENV   := env -i HOME=$(CURDIR)/$(SELFTEST)/home PATH=/usr/bin:/bin QT_QPA_PLATFORM=offscreen \
               $(if $(DISPLAY),DISPLAY=$(DISPLAY),)

.PHONY: package-only package-check package-archive signing-setup package-installer installer-check workflows-lint recorder-lint recorder-image cloud-smoke

# build without `setup` (CI runners on macOS/Windows prepare Python themselves and have no apt)
package-only: venv
	$(VPY) -m PyInstaller --noconfirm --clean --distpath dist --workpath build/work build/reelwright.spec

package-check:
	test -d $(DIST) || $(MAKE) -f build/ci.mk package-only
	mkdir -p $(SELFTEST)/home
	$(VPY) build/check_bundle.py $(DIST) --json $(SELFTEST)/bundle-report.json
ifeq ($(OS),Windows_NT)
	# the windowed Reelwright.exe has no console to print to: its console twin runs the same checks
	$(DIST)/reelwright-cli.exe --self-test --out-dir $(SELFTEST)
	$(DIST)/reelwright-cli.exe --smoke-screenshot $(SELFTEST)/smoke.png
else
	$(CLEAN_ENV) $(DIST)/Reelwright --self-test --out-dir $(CURDIR)/$(SELFTEST)
	$(CLEAN_ENV) $(DIST)/Reelwright --smoke-screenshot $(CURDIR)/$(SELFTEST)/smoke.png
endif

package-archive:
	$(VPY) build/archive.py $(DIST) --out-dir dist

VERSION     := $(shell sed -n 's/^__version__ = "\(.*\)"/\1/p' app/__init__.py)
UNAME_S     := $(shell uname -s 2>/dev/null)
ISCC        ?= C:/Program Files (x86)/Inno Setup 6/ISCC.exe

# macOS: the signing certificate into a temporary keychain (a no-op without the secret)
signing-setup:
ifeq ($(UNAME_S),Darwin)
	bash build/macos/import_cert.sh
else
	@echo "signing setup: nothing to do here (Windows signs in package-installer; Linux packages are not signed)"
endif

package-installer:
ifeq ($(OS),Windows_NT)
	bash build/windows/sign.sh $(DIST)/Reelwright.exe $(DIST)/reelwright-cli.exe
	MSYS2_ARG_CONV_EXCL='*' "$(ISCC)" /Qp /DAppVersion=$(VERSION) "/DSourceDir=$(CURDIR)/$(DIST)" /Odist build/windows/reelwright.iss
	bash build/windows/sign.sh dist/Reelwright-$(VERSION)-windows-x86_64-setup.exe
else ifeq ($(UNAME_S),Darwin)
	bash build/macos/make_dmg.sh $(DIST).app dist
else
	$(VPY) build/linux_package.py $(DIST) --out-dir dist
endif

installer-check:
	mkdir -p $(SELFTEST)
ifeq ($(OS),Windows_NT)
	bash build/windows/check_installer.sh dist/Reelwright-$(VERSION)-windows-x86_64-setup.exe $(SELFTEST)
else ifeq ($(UNAME_S),Darwin)
	bash build/macos/check_dmg.sh "$$(ls dist/Reelwright-$(VERSION)-macos-*.dmg | head -1)" $(SELFTEST)
else
	# the CI job runs in a debian:bookworm container as root: apt installs the .deb and its dependencies
	apt-get install -y -qq "./$$(ls dist/reelwright_$(VERSION)_*.deb | head -1)"
	$(CLEAN_ENV) Reelwright --version --verbose
	$(CLEAN_ENV) Reelwright --self-test --out-dir $(CURDIR)/$(SELFTEST)/installed
endif

workflows-lint: venv
	$(VPY) -m pytest -q -p no:cacheprovider tests/unit/test_workflows.py

recorder-lint: venv
	$(VENV)/bin/cfn-lint infra/template.yaml
	$(VENV)/bin/checkov --quiet --compact --framework cloudformation -f infra/template.yaml

recorder-image:
	docker build -f recorder/Dockerfile -t $(IMAGE) .

cloud-smoke: venv
	$(VPY) -m pytest -q -p no:cacheprovider tests/integration/test_cloud_emulator.py

# --------------------------------------------------------------------------- recorder image + stack
REGISTRY    ?=
REPOSITORY  ?= reelwright-recorder
TAG         ?= dev
STACK       ?= reelwright-dev
APP_ORIGIN  ?=
SNAPSHOT    ?= out/$(STACK)-before.json

.PHONY: recorder-push stack-deploy stack-health stack-rollback

# Pushes the image and records what was pushed by digest (registry/repository@sha256:…) in
# out/recorder-image-uri and, on GitHub Actions, as the step output image-uri.
recorder-push:
	test -n "$(REGISTRY)" || { echo "REGISTRY is not set (the ECR registry host)" >&2; exit 2; }
	docker tag $(IMAGE) $(REGISTRY)/$(REPOSITORY):$(TAG)
	docker push $(REGISTRY)/$(REPOSITORY):$(TAG)
	mkdir -p out
	docker inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' $(REGISTRY)/$(REPOSITORY):$(TAG) \
	  | grep -m1 '^$(REGISTRY)/$(REPOSITORY)@sha256:' > out/recorder-image-uri \
	  || { echo "no digest in $(REGISTRY)/$(REPOSITORY) for the pushed image" >&2; exit 1; }
	@echo "pushed $$(cat out/recorder-image-uri)"
	@if [ -n "$${GITHUB_OUTPUT:-}" ]; then echo "image-uri=$$(cat out/recorder-image-uri)" >> "$$GITHUB_OUTPUT"; fi

# IMAGE_URI: what recorder-push recorded (a digest); the tag form is for hand deploys only
IMAGE_URI   ?= $(REGISTRY)/$(REPOSITORY):$(TAG)

stack-deploy: venv
	test -n "$(IMAGE_URI)" && [ "$(IMAGE_URI)" != "/$(REPOSITORY):$(TAG)" ] || { echo "IMAGE_URI (or REGISTRY) is not set" >&2; exit 2; }
	$(VPY) build/stack.py deploy --stack $(STACK) --template infra/template.yaml --snapshot $(SNAPSHOT) \
	  --param ImageUri=$(IMAGE_URI) $(if $(APP_ORIGIN),--param AppOrigin=$(APP_ORIGIN),)

stack-health: venv
	$(VPY) build/stack.py health --stack $(STACK)

stack-rollback: venv
	$(VPY) build/stack.py rollback --snapshot $(SNAPSHOT)
