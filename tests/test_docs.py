"""The README documents every setting and every report dimension."""

from pathlib import Path

from cctelemetry.config import Settings
from cctelemetry.reports.query import DIMENSIONS

README = (Path(__file__).parents[1] / "README.md").read_text()


def test_every_setting_is_in_the_readme():
    missing = [f"CCTELEMETRY_{name.upper()}" for name in Settings.model_fields
               if f"CCTELEMETRY_{name.upper()}" not in README]  # fmt: skip
    assert not missing


def test_every_dimension_is_in_the_readme():
    assert not [d for d in DIMENSIONS if f"`{d}`" not in README]
