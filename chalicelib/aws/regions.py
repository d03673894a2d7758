"""Region codes from the long names CloudWatch puts in SNS notifications, by botocore's own data."""

from __future__ import annotations

import functools


@functools.cache
def _codes() -> dict[str, str]:
    from botocore.loaders import Loader

    endpoints = Loader().load_data("endpoints")
    return {
        _key(region["description"]): code
        for partition in endpoints["partitions"]
        for code, region in partition["regions"].items()
        if region.get("description")
    }


def _key(name: str) -> str:
    # Notifications still say "EU (Ireland)" where botocore now says "Europe (Ireland)", and older
    # ones "US West - Oregon" or "EU - Ireland" where it says "US West (Oregon)".
    name = " ".join(name.strip().lower().split())
    if " - " in name and "(" not in name:
        area, place = name.split(" - ", 1)
        name = f"{area} ({place})"
    return "europe" + name[2:] if name.startswith("eu (") else name


def region_code(long_name: str) -> str:
    """`eu-west-2` from "EU (London)" or "Europe (London)"; ValueError for a name AWS lacks."""
    code = _codes().get(_key(long_name))
    if code is None:
        raise ValueError(f"unknown region name {long_name!r}")
    return code


def region_name(code: str) -> str:
    """ "US East (N. Virginia)" from `us-east-1`, as a CloudWatch notification names it."""
    for name_key, found in _codes().items():
        if found == code:
            return _names()[name_key]
    raise ValueError(f"unknown region {code!r}")


@functools.cache
def _names() -> dict[str, str]:
    from botocore.loaders import Loader

    endpoints = Loader().load_data("endpoints")
    return {
        _key(region["description"]): region["description"]
        for partition in endpoints["partitions"]
        for region in partition["regions"].values()
        if region.get("description")
    }
