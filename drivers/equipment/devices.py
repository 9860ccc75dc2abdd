"""The devices of a tool made of several (decision 0009): each further device's link checked.

A plating cell is its controller and its DC supply, each on its own link. The driver names its
devices and the link type each speaks over (`Equipment.devices`); the station gives one link
per further device, and `check_device_links` refuses a missing, extra or wrong one.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..links.base import Link


def check_device_links(
    name: str,
    driver: str,
    devices: Mapping[str, type[Link]],
    primary_device: str,
    links: Mapping[str, Link],
) -> dict[str, Link]:
    """The links to `driver`'s devices but the primary one, each of the type its device
    speaks over; `TypeError` naming the tool `name` otherwise."""
    further = {d: kind for d, kind in devices.items() if d != primary_device}
    if set(links) != set(further):
        raise TypeError(
            f"{name}: {driver} needs links to "
            f"{', '.join(sorted(further)) or 'no further device'}, got "
            f"{', '.join(sorted(links)) or 'none'}"
        )
    for device, device_link in links.items():
        if not isinstance(device_link, further[device]):
            raise TypeError(
                f"{name}: device {device} speaks over {further[device].__name__}, not "
                f"{type(device_link).__name__} ({device_link.address})"
            )
    return dict(links)
