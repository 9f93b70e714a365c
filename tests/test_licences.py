"""Licences, the citation file and the provenance of every dataset.

The code is MIT (LICENSE, pyproject), the text and figures CC BY 4.0
(LICENSE-CONTENT.md, stated in every page's footer); CITATION.cff follows the
Citation File Format 1.2.0 (checked against its schema, check-jsonschema's
vendored copy) and agrees with the book's configuration; every dataset states
its licence, each source the version or date of its document, and how long the
data stays current (or why it does not expire).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

import cloudpad
from cloudpad.site import render

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CC_BY = "https://creativecommons.org/licenses/by/4.0/"


def _config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def test_the_code_is_mit_as_pyproject_says():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n\nCopyright (c) 2026 The Cloud Architecture Notepad")
    assert 'THE SOFTWARE IS PROVIDED "AS IS"' in text
    assert 'license = { text = "MIT" }' in (ROOT / "pyproject.toml").read_text()


def test_text_and_figures_are_cc_by_and_every_page_says_so():
    content = (ROOT / "LICENSE-CONTENT.md").read_text()
    assert "(CC BY 4.0)" in content and CC_BY in content
    footer = _config()["html"]["extra_footer"]
    assert f'href="{CC_BY}">CC BY 4.0</a>' in " ".join(footer.split())
    assert "MIT" in footer


def test_citation_file_follows_the_format_and_agrees_with_the_book():
    path = ROOT / "CITATION.cff"
    schema = "vendor.citation-file-format"
    done = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    citation = yaml.safe_load(path.read_text())
    config = _config()
    assert citation["version"] == cloudpad.__version__
    assert citation["url"] == render.site_url(config) == config["html"]["baseurl"]
    assert citation["repository-code"] == config["repository"]["url"]
    assert citation["license"] == ["MIT", "CC-BY-4.0"]


def test_the_site_url_is_set_in_one_place():
    """html.baseurl: the link previews' address and the sitemap in robots.txt derive from it."""
    config = _config()
    assert "ogp_site_url" not in config["sphinx"]["config"]
    assert not (ROOT / "_extra" / "robots.txt").exists()
    moved = {**config, "html": {**config["html"], "baseurl": "https://example.org/fork"}}
    staged = yaml.safe_load(render.staged_config(moved))
    assert staged["sphinx"]["config"]["ogp_site_url"] == "https://example.org/fork/"
    assert render.robots_txt(moved).endswith("\nSitemap: https://example.org/fork/sitemap.xml\n")
    unset = {**config, "html": {}}
    assert "ogp_site_url" not in yaml.safe_load(render.staged_config(unset))["sphinx"]["config"]
    assert "Sitemap" not in render.robots_txt(unset)


def test_every_dataset_states_licence_document_versions_and_freshness():
    descriptor = json.loads((ROOT / "data" / "datapackage.json").read_text())
    for res in descriptor["resources"]:
        name = res["name"]
        assert res["licenses"] and all(lic.get("name") for lic in res["licenses"]), name
        for source in res["sources"]:
            assert source.get("version"), f"{name}: no version or date for {source['title']}"
        assert "valid_for_days" in res, f"{name}: declare valid_for_days (null: never expires)"
        life = res["valid_for_days"]
        if life is None:
            assert len(res.get("x-no-expiry", "")) > 20, f"{name}: say why it does not expire"
        else:
            assert isinstance(life, int) and life > 0, name


def test_aws_regions_come_from_aws_own_region_list():
    """Not a page about one AWS solution's supported regions."""
    descriptor = json.loads((ROOT / "data" / "datapackage.json").read_text())
    (regions,) = [r for r in descriptor["resources"] if r["name"] == "cloud_regions"]
    paths = [s.get("path", "") for s in regions["sources"]]
    assert not any("/solutions/" in p for p in paths)
    assert any(p.endswith("botocore/data/partitions.json") for p in paths)
