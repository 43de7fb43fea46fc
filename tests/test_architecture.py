"""The architecture's rules are enforced: the contracts hold, and they do fail on the imports they forbid."""

from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

from tests.import_contracts import DoorsContract

ROOT = Path(__file__).resolve().parent.parent


def test_architecture_contracts_hold():
    result = subprocess.run([str(Path(sys.executable).parent / "lint-imports")], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def _doors(*imports: tuple[str, str]) -> DoorsContract:
    graph = grimp.ImportGraph()
    for module in ("app", "app.tenancy", "app.tenancy.service", "app.tenancy.data", "app.tenancy.session",
                   "app.content", "app.content.views"):
        graph.add_module(module)
    for importer, imported in imports:
        graph.add_import(importer=importer, imported=imported, line_number=7, line_contents="import")
    contract = DoorsContract("doors", {}, {"rooms": ["app.tenancy", "app.content"], "doors": ["service", "data"]})
    return contract.check(graph, verbose=False)


def test_a_room_may_use_another_rooms_door_and_records():
    check = _doors(("app.content.views", "app.tenancy.service"), ("app.content.views", "app.tenancy.data"),
                   ("app.tenancy.service", "app.tenancy.session"), ("app", "app.tenancy"))
    assert check.kept


def test_reaching_into_another_room_breaks_the_contract():
    check = _doors(("app.content.views", "app.tenancy.session"))
    assert not check.kept
    assert check.metadata["illegal"] == [
        {"importer": "app.content.views", "imported": "app.tenancy.session", "line_numbers": (7,)}
    ]


def test_a_listed_room_that_does_not_exist_breaks_the_contract():
    graph = grimp.ImportGraph()
    graph.add_module("app")
    contract = DoorsContract("doors", {}, {"rooms": ["app.quiz"], "doors": ["service"]})
    assert not contract.check(graph, verbose=False).kept


# Packages of ibm_lms that are not rooms: the schema's history, and the events every room may import whole.
NOT_ROOMS = {"migrations", "events"}
ROOMS = sorted(p.parent.name for p in (ROOT / "ibm_lms").glob("*/__init__.py") if p.parent.name not in NOT_ROOMS)


@pytest.mark.parametrize("room", ROOMS)
def test_every_room_is_under_the_doors_and_layers_contracts(room):
    contracts = configparser.ConfigParser()
    contracts.read(ROOT / "setup.cfg")
    assert f"ibm_lms.{room}" in contracts["importlinter:contract:doors"]["rooms"].split()
    assert room in contracts["importlinter:contract:layers"]["layers"].split()
    assert contracts["importlinter:contract:layers"]["exhaustive"] == "true"


def test_the_rooms_are_found():
    assert {"tenancy", "i18n", "content", "lti", "demo"} <= set(ROOMS)
