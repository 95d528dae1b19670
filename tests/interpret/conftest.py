from pathlib import Path

import pytest

from oncoresist.kb import load_kb

FIXTURE = Path(__file__).parent / "kb_fixture"


@pytest.fixture(scope="session")
def fixture_kb():
    return load_kb(FIXTURE)
