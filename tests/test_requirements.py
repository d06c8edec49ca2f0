"""requirements.lock covers requirements.in, every pin with its hashes, and the set-up installs only it."""

from __future__ import annotations

import re

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from pipeline.config import ROOT

DIRECT = ROOT / "requirements.in"
LOCK = ROOT / "requirements.lock"
_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+) \\$")


def direct() -> list[Requirement]:
    lines = (line.split("#", 1)[0].strip() for line in DIRECT.read_text().splitlines())
    return [Requirement(line) for line in lines if line]


def locked() -> dict[str, tuple[str, int]]:
    """Package -> (version, number of hashes) in requirements.lock."""
    pins: dict[str, tuple[str, int]] = {}
    current = None
    for line in LOCK.read_text().splitlines():
        match = _PIN.match(line)
        if match:
            current = canonicalize_name(match["name"])
            pins[current] = (match["version"], 0)
        elif current and line.strip().startswith("--hash=sha256:"):
            version, hashes = pins[current]
            pins[current] = (version, hashes + 1)
        elif not line.startswith(" "):
            current = None
    return pins


def test_every_direct_dependency_is_locked_at_a_version_it_allows() -> None:
    pins = locked()
    for requirement in direct():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is in {DIRECT.name} but not in {LOCK.name}: refresh the lock (README)"
        version = pins[name][0]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{LOCK.name} pins {name}=={version}, which {DIRECT.name} does not allow ({requirement})")


def test_every_locked_package_has_hashes_and_the_setup_requires_them() -> None:
    pins = locked()
    assert len(pins) > len(direct())  # the transitive dependencies are pinned too
    assert all(hashes for _version, hashes in pins.values()), [n for n, (_v, h) in pins.items() if not h]
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    assert "pip install -q --require-hashes -r requirements.lock" in setup
    assert not (ROOT / "requirements.txt").exists(), "one list of direct dependencies: requirements.in"
