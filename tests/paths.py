"""Where the tests find the repository's files."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
MESSY = ROOT / "data" / "sample-messy"
FIXTURES = ROOT / "tests" / "fixtures" / "instruments"
BENCHMARKS = ROOT / "benchmarks"
