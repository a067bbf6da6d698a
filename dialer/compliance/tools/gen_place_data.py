"""Generate ``dialer/compliance/data/nanp.csv`` and ``country_zones.json`` (developer tool).

Run after upgrading phonenumbers or tzdata, review the diff, commit the data files::

    .venv/bin/python -m dialer.compliance.tools.gen_place_data

This is a build-time script, not part of the pure decision engine: it is the one module
under ``dialer/compliance`` that writes files, and nothing in the package imports it.

What it does:

* For every NANP area code (NPA 200-999) it finds the region (ISO 3166-1) by validating a
  sample number, the state/province from phonenumbers' geocoder ("Florida", "New York, NY",
  "Nova Scotia/Prince Edward Island") and the time zones as the union of phonenumbers'
  time-zone data for the NPA and every exchange-level prefix under it.
* It then applies the manual supplements below, where the geocoder or the time-zone data is
  silent or too coarse (overlays that copy their parent's zones, split counties).
* ``country_zones.json`` lists every zone of each country from tzdata's ``zone.tab`` (the
  strictest reading of "a number whose zone is unknown") and maps old zone spellings that
  phonenumbers uses (``Asia/Calcutta``) to the ``zone.tab`` name.
"""

from __future__ import annotations

import csv
import json
import tomllib
from collections import defaultdict
from importlib import resources
from pathlib import Path

import phonenumbers
from phonenumbers import tzdata
from phonenumbers.geodata import GEOCODE_DATA

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

# Overlay area codes share their parent's territory: union their zones with the parent's.
OVERLAY_PARENT: dict[str, str] = {
    "448": "850",  # Florida panhandle (Eastern + Central)
    "364": "270",  # western Kentucky
    "930": "812",  # southern Indiana
    "458": "541",  # Oregon outside Portland (Malheur County is Mountain)
    "986": "208",  # Idaho
    "778": "250",  # British Columbia (province-wide overlays)
    "236": "250",
    "672": "250",
    "581": "418",  # eastern Quebec (Magdalen Islands are Atlantic)
    "367": "418",
    "639": "306",  # Saskatchewan (Lloydminster keeps Alberta time)
    "474": "306",
    "782": "902",
    "428": "506",
    "431": "204",
    "584": "204",
    "587": "780",
    "825": "780",
    "368": "403",
    "249": "705",
    "683": "705",
}

# Zones added by hand where the time-zone data misses part of the area code's territory.
EXTRA_ZONES: dict[str, tuple[str, ...]] = {
    "334": ("America/New_York",),  # Phenix City, AL keeps Eastern time in practice
    "432": ("America/Denver",),  # Culberson County (Van Horn), TX is Mountain
    "306": ("America/Edmonton",),  # Lloydminster, SK keeps Alberta time
}

# Area codes whose time-zone data is wrong and is replaced outright.
REPLACE_ZONES: dict[str, tuple[str, ...]] = {
    "879": ("America/St_Johns", "America/Halifax"),  # Newfoundland and Labrador overlay
}

# Subdivisions by hand where the geocoder has no state for a geographic area code. (With
# phonenumbers 9.0 the geocoder names a state for every geographic US/CA area code once
# exchange-level descriptions are used; the codes it is silent on are non-geographic: 500, 52x,
# 533, 544, 566, 577, 588, 600, 622, 633, 8xx toll-free, 900.) Add entries here when a new
# area code appears before the geocoder knows it.
EXTRA_SUBDIVISIONS: dict[str, tuple[str, ...]] = {}

# Old zone spellings used by phonenumbers -> current tzdata names (for display and matching).
ZONE_RENAMES: dict[str, str] = {
    "Africa/Asmera": "Africa/Asmara",
    "America/Buenos_Aires": "America/Argentina/Buenos_Aires",
    "America/Godthab": "America/Nuuk",
    "Asia/Calcutta": "Asia/Kolkata",
    "Asia/Choibalsan": "Asia/Ulaanbaatar",
    "Asia/Katmandu": "Asia/Kathmandu",
    "Asia/Rangoon": "Asia/Yangon",
    "Atlantic/Faeroe": "Atlantic/Faroe",
    "Pacific/Enderbury": "Pacific/Kanton",
    "Pacific/Ponape": "Pacific/Pohnpei",
    "Pacific/Truk": "Pacific/Chuuk",
}

_NANP_SUBDIVIDED = ("US", "CA")


def _state_names() -> dict[str, str]:
    text = (DATA_DIR / "places.toml").read_text(encoding="utf-8")
    names: dict[str, str] = tomllib.loads(text)["state_names"]
    return names


def _subdivisions_from(description: str, names: dict[str, str]) -> set[str]:
    found: set[str] = set()
    for part in description.split("/"):
        part = part.strip()
        code = names.get(part.lower())
        if code:
            found.add(code)
            continue
        if ", " in part:
            tail = part.rsplit(", ", 1)[1].strip()
            if len(tail) == 2 and tail.isalpha() and tail.isupper():
                found.add(tail)
    return found


def _region_for(npa: str) -> str | None:
    for exchange in range(200, 1000):
        number = phonenumbers.parse(f"+1{npa}{exchange}4567")
        if phonenumbers.is_valid_number(number):
            return phonenumbers.region_code_for_number(number)
    return None


def _nanp_rows() -> list[dict[str, str]]:
    names = _state_names()
    zones: dict[str, set[str]] = defaultdict(set)
    for prefix, zone_list in tzdata.TIMEZONE_DATA.items():
        if prefix.startswith("1") and len(prefix) >= 4:
            zones[prefix[1:4]].update(zone_list)
    described: dict[str, set[str]] = defaultdict(set)
    npa_level: dict[str, str] = {}
    for prefix, langs in GEOCODE_DATA.items():
        if prefix.startswith("1") and len(prefix) >= 4 and "en" in langs:
            if len(prefix) == 4:
                npa_level[prefix[1:]] = langs["en"]
            described[prefix[1:4]].update(_subdivisions_from(langs["en"], names))
    rows = []
    for npa_int in range(200, 1000):
        npa = str(npa_int)
        region = _region_for(npa)
        if region is None:
            continue
        subs: set[str] = set()
        origin = "phonenumbers"
        if region in _NANP_SUBDIVIDED:
            if npa in npa_level:
                subs = _subdivisions_from(npa_level[npa], names)
            if not subs:
                subs = described.get(npa, set())
            if npa in EXTRA_SUBDIVISIONS and not subs:
                subs = set(EXTRA_SUBDIVISIONS[npa])
                origin = "phonenumbers+manual"
        zone_set = set(zones.get(npa, set()))
        if npa in OVERLAY_PARENT:
            zone_set |= zones.get(OVERLAY_PARENT[npa], set())
            zone_set |= set(EXTRA_ZONES.get(OVERLAY_PARENT[npa], ()))
            origin = "phonenumbers+manual"
        if EXTRA_ZONES.get(npa):
            zone_set |= set(EXTRA_ZONES[npa])
            origin = "phonenumbers+manual"
        if npa in REPLACE_ZONES:
            zone_set = set(REPLACE_ZONES[npa])
            origin = "phonenumbers+manual"
        rows.append(
            {
                "npa": npa,
                "region": region,
                "subdivisions": "|".join(sorted(subs)),
                "zones": "|".join(sorted(zone_set)),
                "origin": origin,
            }
        )
    return rows


def _country_zones() -> dict[str, object]:
    zoneinfo_dir = resources.files("tzdata") / "zoneinfo"
    by_country: dict[str, list[str]] = defaultdict(list)
    for line in (zoneinfo_dir / "zone.tab").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        country, _coords, zone = line.split("\t")[:3]
        by_country[country].append(zone)
    aliases = {}
    for old, new in sorted(ZONE_RENAMES.items()):
        if not (zoneinfo_dir / new).is_file():
            raise SystemExit(f"{new} is not in tzdata; update ZONE_RENAMES")
        aliases[old] = new
    return {
        "zones": {c: sorted(z) for c, z in sorted(by_country.items())},
        "aliases": aliases,
    }


def main() -> None:
    rows = _nanp_rows()
    with (DATA_DIR / "nanp.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["npa", "region", "subdivisions", "zones", "origin"])
        writer.writeheader()
        writer.writerows(rows)
    (DATA_DIR / "country_zones.json").write_text(
        json.dumps(_country_zones(), indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    silent = [r["npa"] for r in rows if r["region"] in _NANP_SUBDIVIDED and not r["subdivisions"]]
    no_zone = [r["npa"] for r in rows if not r["zones"]]
    print(f"{len(rows)} area codes; no subdivision: {silent}; no zone: {no_zone}")


if __name__ == "__main__":
    main()
