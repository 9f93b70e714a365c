"""The GitHub Actions workflow that builds, tests and publishes the book, and Dependabot's config.

Checked offline: against GitHub's workflow schema and Dependabot's (check-jsonschema's
vendored copies), by zizmor's audit in its pedantic persona, and for what the
project needs from them: the book executed once per run and tested where it was
built, caches keyed on the locks, the Makefile targets the workflow runs, the
artifacts it uploads, a weekly re-execution from scratch with a link check that
reports without blocking, Pages publishing from main only, actions pinned by
commit SHA at releases that run on Node 24, the container pinned by digest, one
run per branch or pull request, and the least permissions.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
BOOK = ROOT / ".github" / "workflows" / "book.yml"
DEPENDABOT = ROOT / ".github" / "dependabot.yml"
BIN = Path(sys.executable).parent

#: The first major release of each action that runs on Node 24 (GitHub is retiring
#: Node 20 on its hosted runners). Source: ``runs.using`` in each action's action.yml
#: at its release tags (actions/checkout v4.2.2 node20, v5.0.0 node24; actions/cache
#: v4.2.0 node20, v5.0.0 node24; actions/upload-artifact v5.0.0 node20, v6.0.0 node24;
#: actions/deploy-pages v4.0.5 node20, v5.0.0 node24; actions/upload-pages-artifact is
#: a composite action: v4.0.0 runs upload-artifact v4.6.2 (node20), v5.0.0 runs
#: upload-artifact v7.0.0 (node24)). actions/configure-pages v5.0.0 is node20 and
#: not used. An action missing here fails the test until its runtime is looked up.
NODE24_SINCE = {
    "actions/checkout": 5,
    "actions/cache": 5,
    "actions/cache/restore": 5,
    "actions/cache/save": 5,
    "actions/upload-artifact": 6,
    "actions/upload-pages-artifact": 5,
    "actions/deploy-pages": 5,
    "peter-evans/create-pull-request": 8,  # v7.0.11 node20, v8.0.0 node24 (action.yml)
}
PINNED = re.compile(r"^(?:- )?uses: ([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # v(\d+)\.\d+\.\d+$")
IMAGE = re.compile(r"^python:3\.11-bookworm@sha256:[0-9a-f]{64}$")


def _load(path: Path) -> dict:
    workflow = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def _runs(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def _uses(job: dict) -> list[str]:
    return [step["uses"] for step in job["steps"] if "uses" in step]


def _step(job: dict, uses: str, name_part: str = "") -> dict:
    (step,) = [
        s
        for s in job["steps"]
        if s.get("uses", "").startswith(uses + "@") and name_part in s.get("name", "")
    ]
    return step


def test_there_is_a_workflow():
    assert BOOK in WORKFLOWS


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_matches_githubs_schema(path):
    done = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_dependabot_updates_pip_and_actions_weekly_in_groups():
    done = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.dependabot", str(DEPENDABOT)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    config = yaml.safe_load(DEPENDABOT.read_text())
    updates = {u["package-ecosystem"]: u for u in config["updates"]}
    assert set(updates) == {"pip", "github-actions"}
    for update in updates.values():
        assert update["directory"] == "/" and update["schedule"]["interval"] == "weekly"
        (group,) = update["groups"].values()
        assert group["patterns"] == ["*"]  # one pull request a week per ecosystem
    assert sorted(ROOT.glob("requirements*.txt"))  # the pip ecosystem's files at the root


def test_zizmor_pedantic_finds_nothing():
    """zizmor's offline audits in the pedantic persona, over the workflows and Dependabot's config.

    Pinned actions and images, permissions (each documented), credentials,
    template injection, cache poisoning, concurrency, named jobs, Dependabot's
    cooldown: no finding of any severity (a justified exception would be an
    ignore comment next to the line, naming why).
    """
    done = subprocess.run(
        [
            str(BIN / "zizmor"),
            "--offline",
            "--persona",
            "pedantic",
            "--format",
            "json",
            str(ROOT / ".github"),
        ],
        capture_output=True,
        text=True,
    )
    findings = json.loads(done.stdout)
    summary = [f"{f['ident']} ({f['determinations']['severity']}): {f['desc']}" for f in findings]
    assert not summary, "\n".join(summary)
    assert done.returncode == 0, done.stderr


def test_every_action_is_pinned_by_commit_sha_to_a_release_on_node24():
    used = []
    for path in WORKFLOWS:
        for line in path.read_text().splitlines():
            if line.strip().startswith(("uses:", "- uses:")):
                match = PINNED.match(line.strip())
                assert match, f"{path.name}: not pinned to a SHA with its release: {line.strip()}"
                action, _sha, major = match.groups()
                assert action in NODE24_SINCE, f"{action}: look up its runtime, add it above"
                assert int(major) >= NODE24_SINCE[action], f"{action} v{major} runs on Node 20"
                used.append(action)
    assert "actions/checkout" in used and "actions/deploy-pages" in used
    # One release per action across the workflows: the same SHA wherever it is used.
    text = "\n".join(p.read_text() for p in WORKFLOWS)
    for action in set(used):
        shas = set(re.findall(rf"uses: {re.escape(action)}@([0-9a-f]{{40}})", text))
        assert len(shas) == 1, f"{action} pinned to several commits: {shas}"


def test_every_container_is_pinned_by_digest():
    jobs = _load(BOOK)["jobs"]
    images = [job["container"]["image"] for job in jobs.values() if "container" in job]
    assert images and all(IMAGE.match(image) for image in images), images
    assert len(set(images)) == 1


def _make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][\w-]*):", text, re.M))


def test_the_book_is_executed_once_and_tested_where_it_was_built():
    build = _load(BOOK)["jobs"]["build"]
    runs = _runs(build)
    # `make book` on pushes, `make clean book` (execute everything again) on the schedule,
    # in one step; nothing else in the job builds or runs the book.
    assert 'target="clean book"' in runs and 'target="book"' in runs and "make $target" in runs
    assert len(re.findall(r"\bmake \$target\b|\bcloudpad (?:build|run)\b", runs)) == 1
    assert not re.search(r"\bmake (?:book|run)\b", runs)
    # The tests read that build (conftest.built_book) instead of building a copy.
    assert re.search(r'^CLOUDPAD_TEST_BOOK="\$PWD" make test$', runs, re.M), runs
    assert runs.index("make $target") < runs.index("make test")
    assert {"test", "system-deps", "book", "clean", "linkcheck"} <= _make_targets()
    conftest = (ROOT / "tests" / "conftest.py").read_text()
    assert 'PREBUILT_ENV = "CLOUDPAD_TEST_BOOK"' in conftest


def test_pip_and_the_notebook_cache_are_kept_between_runs_keyed_on_the_locks():
    workflow = _load(BOOK)
    build = workflow["jobs"]["build"]
    assert workflow["env"]["PIP_CACHE_DIR"] == "/github/home/.cache/pip"
    pip = _step(build, "actions/cache")
    assert pip["with"]["path"] == workflow["env"]["PIP_CACHE_DIR"]
    # every lock `make book` and `make test` install, and only those
    for lock in ("requirements.txt", "requirements-dev.txt", "requirements-dask.txt"):
        assert f"'{lock}'" in pip["with"]["key"]
    assert "requirements-lab.txt" not in pip["with"]["key"]
    restore = _step(build, "actions/cache/restore")
    save = _step(build, "actions/cache/save")
    for step in (restore, save):
        assert step["with"]["path"].split() == ["_build/cache", "_build/executed"]
        assert step["with"]["key"] == (
            "notebooks-${{ hashFiles('requirements.txt') }}-${{ github.run_id }}"
        )
    # the newest entry of the same runtime lock first; the records check their own inputs
    assert restore["with"]["restore-keys"].splitlines() == [
        "notebooks-${{ hashFiles('requirements.txt') }}-",
        "notebooks-",
    ]
    assert restore["if"] == "${{ github.event_name != 'schedule' }}"  # weekly: from scratch
    names = [s.get("name", "") for s in build["steps"]]
    assert names.index(restore["name"]) < names.index(save["name"])
    assert "if" not in save  # saved only when the job succeeded (build and tests)
    test_step = next(s for s in build["steps"] if "make test" in s.get("run", ""))
    assert names.index(test_step["name"]) < names.index(save["name"])


def test_it_uploads_the_executed_notebooks_and_the_failure_report():
    build = _load(BOOK)["jobs"]["build"]
    uploads = [
        s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")
    ]
    paths = "\n".join(s["with"]["path"] for s in uploads)
    for wanted in (
        "_build/executed/",
        "_build/logs/",
        "_build/build-report.txt",
        "_build/screenshots/",
    ):
        assert wanted in paths
    assert all(s["if"] == "${{ !cancelled() }}" for s in uploads), "uploads must survive failures"


def test_a_weekly_run_executes_everything_from_scratch_and_checks_links():
    workflow = _load(BOOK)
    (cron,) = [entry["cron"] for entry in workflow["on"]["schedule"]]
    _minute, _hour, day, month, weekday = cron.split()
    assert day == month == "*" and weekday.isdigit(), f"not weekly: {cron}"
    assert 'if [ "$EVENT" = "schedule" ]; then target="clean book"' in _runs(
        workflow["jobs"]["build"]
    )
    assert {"push", "pull_request", "schedule", "workflow_dispatch"} <= set(workflow["on"])
    links = workflow["jobs"]["links"]
    assert "github.event_name == 'schedule'" in links["if"]
    assert links["continue-on-error"] is True  # reported, not blocking
    assert re.search(r"^make linkcheck$", _runs(links), re.M)
    # it renders from this run's notebook cache (exact key: nothing executes again)
    restore = _step(links, "actions/cache/restore", "notebook")
    assert restore["with"]["key"].endswith("-${{ github.run_id }}")
    assert "restore-keys" not in restore["with"]
    assert "links" not in str(workflow["jobs"]["deploy"]["needs"])


def test_one_run_per_branch_or_pull_request():
    """A push to a branch with a pull request runs once (as the pull request), not twice."""
    workflow = _load(BOOK)
    assert workflow["on"]["push"] == {"branches": ["main"]}
    concurrency = workflow["concurrency"]
    assert concurrency["group"] == "${{ github.workflow }}-${{ github.head_ref || github.ref }}"
    # a newer push cancels an older pull request run; runs on main (which publish) finish
    assert concurrency["cancel-in-progress"] == "${{ github.event_name == 'pull_request' }}"


def test_pages_are_published_from_main_only_with_the_least_permissions():
    workflow = _load(BOOK)
    assert workflow["permissions"] == {}
    jobs = workflow["jobs"]
    build, deploy = jobs["build"], jobs["deploy"]
    assert build["permissions"] == {"contents": "read"}
    assert jobs["links"]["permissions"] == {"contents": "read"}
    assert jobs["refresh"]["permissions"] == {"contents": "write", "pull-requests": "write"}
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["needs"] == "build"
    main_only = "github.ref == 'refs/heads/main' && github.event_name != 'pull_request'"
    assert main_only in deploy["if"]
    (upload,) = [s for s in build["steps"] if "upload-pages-artifact" in s.get("uses", "")]
    assert upload["with"]["path"] == "_build/html" and main_only in upload["if"]
    assert any(u.startswith("actions/deploy-pages@") for u in _uses(deploy))
    for job in jobs.values():
        assert job.get("name") and job.get("timeout-minutes")
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False


def test_the_book_is_built_where_the_browser_tests_find_chromium():
    """A Debian container, so `make system-deps` installs Debian's chromium package."""
    build = _load(BOOK)["jobs"]["build"]
    assert build["container"]["image"].startswith("python:3.11-bookworm@")
    makefile = (ROOT / "Makefile").read_text()
    test_rule = re.search(r"^test:(.*)$", makefile, re.M).group(1)
    assert "system-deps" in test_rule
    assert "apt-get install" in makefile and "chromium" in makefile


# --- the weekly refresh job -------------------------------------------------------------------


def _refresh_job() -> dict:
    return _load(BOOK)["jobs"]["refresh"]


def test_the_refresh_job_runs_on_the_schedule_with_write_access_only_there():
    workflow = _load(BOOK)
    refresh = _refresh_job()
    assert refresh["if"] == (
        "${{ github.event_name == 'schedule' || github.event_name == 'workflow_dispatch' }}"
    )
    assert refresh["permissions"] == {"contents": "write", "pull-requests": "write"}
    for name, job in workflow["jobs"].items():
        if name != "refresh":  # the others may not write to the repository or its pull requests
            assert job["permissions"].get("contents", "read") == "read", name
            assert "pull-requests" not in job["permissions"], name
    assert "pull_request_target" not in workflow["on"]


def test_no_run_script_holds_an_expression():
    """No text from outside reaches a shell: ``run:`` scripts hold no ``${{ ... }}``."""
    for job in _load(BOOK)["jobs"].values():
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), step["name"]


def test_the_refresh_job_refreshes_runs_diffs_reports_accepts_then_proposes():
    steps = _refresh_job()["steps"]
    runs = _runs(_refresh_job())
    order = [
        ".venv/bin/cloudpad data refresh",
        "make book",
        ".venv/bin/cloudpad diff",
        ".venv/bin/cloudpad data report --output _build/refresh/pull-request.md",
        ".venv/bin/cloudpad accept",
    ]
    positions = [runs.index(command) for command in order]
    assert positions == sorted(positions), runs
    (propose,) = [
        s for s in steps if s.get("uses", "").startswith("peter-evans/create-pull-request@")
    ]
    assert steps.index(propose) == len(steps) - 1
    assert propose["with"]["body-path"] == "_build/refresh/pull-request.md"
    assert propose["with"]["add-paths"].split() == ["data/", "results/baseline.json"]
    assert propose["with"]["branch"] == "data-refresh"  # one branch: one pull request, updated
    # A source that fails (exit 1) or results that moved (diff exit 1) do not stop the job;
    # a broken run (exit 2) does.
    assert runs.count('if [ "$status" -gt 1 ]; then exit "$status"; fi') == 2
    (refresh,) = [s for s in steps if "cloudpad data refresh" in s.get("run", "")]
    assert refresh["env"] == {"CLOUDPAD_GCP_API_KEY": "${{ secrets.CLOUDPAD_GCP_API_KEY }}"}


def test_the_refresh_jobs_commands_are_the_cli_s():
    from cloudpad import cli

    parser = cli._parser()
    for line in _runs(_refresh_job()).splitlines():
        line = line.strip()
        if line.startswith(".venv/bin/cloudpad "):
            words = line.split("||")[0].split()[1:]
            parser.parse_args(words)  # exits (SystemExit) on an unknown command or option
        elif line.startswith("make "):
            assert set(line.split()[1:]) <= _make_targets(), line
