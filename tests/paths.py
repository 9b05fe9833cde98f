"""Where the tests find the repository's files."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
MESSY = ROOT / "data" / "sample-messy"
FIXTURES = ROOT / "tests" / "fixtures" / "instruments"
BENCHMARKS = ROOT / "benchmarks"


def small_clinic(folder: Path, n_children: int = 8) -> Path:
    """The first ``n_children`` children of the sample clinic and all their rows,
    written as a dataset folder (CSV text as in the sample: nothing re-typed)."""
    import pandas as pd

    folder.mkdir(parents=True, exist_ok=True)
    read = {t: pd.read_csv(SAMPLE / f"{t}.csv", dtype=str, keep_default_na=False)
            for t in ("children", "assessments", "goals", "goal_ratings")}
    kids = read["children"].iloc[:n_children]
    ids = set(kids["child_id"])
    goals = read["goals"][read["goals"]["child_id"].isin(ids)]
    tables = {"children": kids,
              "assessments": read["assessments"][read["assessments"]["child_id"].isin(ids)],
              "goals": goals,
              "goal_ratings": read["goal_ratings"][read["goal_ratings"]["goal_id"].isin(
                  goals["goal_id"])]}
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder
