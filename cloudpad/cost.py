"""Cost models: monthly cost from hourly list prices.

Conventions: prices in USD; a month is 730 hours (8,760 hours a year / 12), the
convention of the AWS, Azure and Google Cloud pricing calculators.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from cloudpad import checks

#: Hours in the average month used by cloud pricing calculators (8,760 h / 12).
HOURS_PER_MONTH: float = 730.0


def monthly_cost(price_per_hour_usd: ArrayLike, count: ArrayLike = 1) -> float | np.ndarray:
    """Monthly cost in USD of ``count`` instances at ``price_per_hour_usd`` each.

    Formula: ``price_per_hour_usd * count * 730``.
    Source: the 730-hour month of the providers' pricing calculators.
    """
    price = checks.non_negative("price_per_hour_usd", price_per_hour_usd)
    n = checks.non_negative("count", count)
    return price * n * HOURS_PER_MONTH
