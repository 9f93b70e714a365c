"""The weekly refresh job's steps, end to end and offline, on a throw-away book.

The job (``refresh`` in ``.github/workflows/book.yml``) runs ``cloudpad data
refresh``, executes the book, ``cloudpad diff``, ``cloudpad data report`` (the
pull request's description) and ``cloudpad accept``.  Here the same commands run
through :func:`cloudpad.cli.main` on a one-article book whose article prices an
Azure VM; every provider answers from the recorded files of
``tests/fixtures/refresh`` (``respx``).  The book's snapshot holds an older
price than the recorded answer, so the refresh changes one row and the article's
key result moves: the description must name both.
"""

from __future__ import annotations

import json

import pytest
import respx
from refresh_fixtures import OLD_PRICES, answer_all, make_data, only_recorded_regions

from cloudpad import cli
from cloudpad.refresh import gcp_prices, status

pytestmark = pytest.mark.slow

PARAMS = "hours = 730  # hours, 1..744: hours billed per month"
CODE = """
from cloudpad import article
vm = article.price("azure", "eastus", "Standard_D2s_v3")
article.publish(d2s_monthly_usd=vm.per_hour_usd * hours)
"""


def test_refresh_run_diff_report_name_the_changed_dataset_and_the_moved_result(
    make_book, monkeypatch, tmp_path
):
    only_recorded_regions(monkeypatch)
    monkeypatch.setenv(gcp_prices.KEY_ENV, "a-key")
    book = make_book({"vm-cost": (PARAMS, [CODE])})
    old = [
        [*row[:5], 0.09, *row[6:]] if row[2] == "Standard_D2s_v3" and row[6] == "on-demand" else row
        for row in OLD_PRICES
    ]  # the snapshot's D2s v3 on-demand price: 0.09 USD/h
    make_data(book.data_dir, prices=old)
    root = ["--root", str(book.root)]
    assert cli.main([*root, "run"]) == 0
    assert cli.main([*root, "accept"]) == 0  # the edition before the refresh

    with respx.mock(assert_all_called=False) as mock:
        answer_all(mock)
        assert cli.main([*root, "data", "refresh"]) == 0
    assert cli.main([*root, "run"]) == 0
    assert cli.main([*root, "diff"]) == 1  # a key result moved
    body_path = tmp_path / "pull-request.md"
    assert cli.main([*root, "data", "report", "--output", str(body_path)]) == 0
    assert cli.main([*root, "accept"]) == 0

    body = body_path.read_text(encoding="utf-8")
    assert "1 dataset changed, 1 key result moved" in body.splitlines()[0]
    # instance_prices: one row changed (D2s v3 on demand, 0.09 -> 0.096 in the recorded answer).
    assert "| `instance_prices` | refreshed | 0 | 0 | 1 | 5 |" in body
    assert "https://prices.azure.com/api/retail/prices" in body
    assert "| `eks_eni_limits` | unchanged |" in body
    # The article's result: 730 h x 0.09 = 65.7 USD accepted; 730 h x 0.096 = 70.08 USD now.
    (row,) = [line for line in body.splitlines() if "d2s_monthly_usd" in line]
    assert row == "| A test article | `d2s_monthly_usd` | 65.7 | 70.08 | +6.67 % |"
    accepted = json.loads((book.root / "results" / "baseline.json").read_text())
    result = accepted["notebooks"]["notebooks/vm-cost.ipynb"]["results"]["d2s_monthly_usd"]
    assert result["value"] == pytest.approx(70.08)
    assert status.load(book.data_dir)["datasets"]["instance_prices"]["status"] == "refreshed"
