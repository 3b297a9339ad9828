"""Fixtures of the fault suite: a rig whose processes die with the test, whatever happens."""

import pytest

from tests.faults.harness import Rig


@pytest.fixture
def make_rig(tmp_path):
    rigs = []

    def make(**options):
        rig = Rig(tmp_path / f"rig{len(rigs)}", **options)
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        rig.close()
