"""The GitHub Actions workflow that tests, builds and publishes the book.

Checked offline: against GitHub's workflow schema (check-jsonschema's vendored
copy), by zizmor's security audit, and for what the project needs from it: the
Makefile targets it runs, the artifacts it uploads, a weekly re-execution from
scratch, Pages publishing from main only, actions pinned by commit SHA and the
least permissions.
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
BIN = Path(sys.executable).parent


def _load(path: Path) -> dict:
    workflow = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def _runs(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def _uses(job: dict) -> list[str]:
    return [step["uses"] for step in job["steps"] if "uses" in step]


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


def test_zizmor_finds_nothing():
    """zizmor's offline audits: pinned actions, permissions, credentials, template injection."""
    done = subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--format", "json", *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
    )
    findings = json.loads(done.stdout)
    summary = [f"{f['ident']} ({f['determinations']['severity']}): {f['desc']}" for f in findings]
    assert not summary, "\n".join(summary)
    assert done.returncode == 0, done.stderr


def test_every_action_is_pinned_by_commit_sha_with_its_version():
    pinned = re.compile(r"uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$")
    for path in WORKFLOWS:
        for line in path.read_text().splitlines():
            if line.strip().startswith(("uses:", "- uses:")):
                assert pinned.search(line.strip()), f"{path.name}: {line.strip()}"


def _make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][\w-]*):", text, re.M))


def test_it_runs_the_makefile_targets():
    runs = _runs(_load(BOOK)["jobs"]["build"])
    assert re.search(r"^make test$", runs, re.M), runs
    # `make book` on pushes, `make clean book` (execute everything again) on the schedule.
    assert 'target="clean book"' in runs and 'target="book"' in runs and "make $target" in runs
    assert {"test", "system-deps", "book", "clean"} <= _make_targets()
    # The tests come first: a failing suite stops the build and the publishing.
    assert runs.index("make test") < runs.index("make $target")


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


def test_a_weekly_run_executes_everything_from_scratch():
    workflow = _load(BOOK)
    (cron,) = [entry["cron"] for entry in workflow["on"]["schedule"]]
    _minute, _hour, day, month, weekday = cron.split()
    assert day == month == "*" and weekday.isdigit(), f"not weekly: {cron}"
    assert 'if [ "$EVENT" = "schedule" ]; then target="clean book"' in _runs(
        workflow["jobs"]["build"]
    )
    assert {"push", "pull_request", "schedule", "workflow_dispatch"} <= set(workflow["on"])


def test_pages_are_published_from_main_only_with_the_least_permissions():
    workflow = _load(BOOK)
    assert workflow["permissions"] == {}
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    assert build["permissions"] == {"contents": "read"}
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["needs"] == "build"
    main_only = "github.ref == 'refs/heads/main' && github.event_name != 'pull_request'"
    assert main_only in deploy["if"]
    (upload,) = [s for s in build["steps"] if "upload-pages-artifact" in s.get("uses", "")]
    assert upload["with"]["path"] == "_build/html" and main_only in upload["if"]
    assert any(u.startswith("actions/deploy-pages@") for u in _uses(deploy))
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False


def test_the_book_is_built_where_the_browser_tests_find_chromium():
    """A Debian container, so `make system-deps` installs Debian's chromium package."""
    build = _load(BOOK)["jobs"]["build"]
    assert build["container"]["image"].startswith("python:3.11-bookworm")
    makefile = (ROOT / "Makefile").read_text()
    test_rule = re.search(r"^test:(.*)$", makefile, re.M).group(1)
    assert "system-deps" in test_rule
    assert "apt-get install" in makefile and "chromium" in makefile
