# CI/CD targets used by .github/workflows/*.yml.  Every workflow step that does real work is one of
# these targets (or a target of the main Makefile), so a workflow does nothing a developer cannot run:
#
#   make -f build/ci.mk package-check     build dist/Reelwright, check it, self-test it with a clean env
#   make -f build/ci.mk package-archive   dist/Reelwright-<version>-<os>-<arch>.(tar.gz|zip)
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

.PHONY: package-only package-check package-archive workflows-lint recorder-lint recorder-image cloud-smoke

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

recorder-push:
	test -n "$(REGISTRY)" || { echo "REGISTRY is not set (the ECR registry host)" >&2; exit 2; }
	docker tag $(IMAGE) $(REGISTRY)/$(REPOSITORY):$(TAG)
	docker push $(REGISTRY)/$(REPOSITORY):$(TAG)

stack-deploy: venv
	$(VPY) build/stack.py deploy --stack $(STACK) --template infra/template.yaml --snapshot $(SNAPSHOT) \
	  --param ImageUri=$(REGISTRY)/$(REPOSITORY):$(TAG) $(if $(APP_ORIGIN),--param AppOrigin=$(APP_ORIGIN),)

stack-health: venv
	$(VPY) build/stack.py health --stack $(STACK)

stack-rollback: venv
	$(VPY) build/stack.py rollback --snapshot $(SNAPSHOT)
