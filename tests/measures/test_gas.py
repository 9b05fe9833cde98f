"""GAS T-scores whatever the storage of the text keys (pandas keeps text in
pyarrow when it is installed)."""

import pandas as pd
import pytest

from sensoryprofile.measures.gas import gas_tscores


@pytest.mark.parametrize("dtype", ["string[pyarrow]", "string[python]", object])
@pytest.mark.parametrize("order", ["sorted", "shuffled", "blank key"])
def test_text_keys_held_by_pyarrow_group_as_any_text(dtype, order):
    # pandas keeps text in pyarrow when it is installed: the groups and T-scores
    # must not depend on how the ids are held (C1: levels 0 and 1, w 1 -> T = 50 +
    # 10 * 1 / sqrt(0.7 * 2 + 0.3 * 4) = 56.202; C2: -1, -1 -> 37.597, as above)
    pytest.importorskip("pyarrow")
    ids = ["C1", "C1", "C2", "C2"] if order != "blank key" else ["C1", "C1", None, None]
    table = pd.DataFrame({"child_id": pd.Series(ids, dtype=dtype),
                          "date": pd.to_datetime(["2024-03-01"] * 4),
                          "level": [0, 1, -1, -1], "weight": [1.0] * 4})
    if order == "shuffled":
        table = table.iloc[[2, 0, 3, 1]]
    out = gas_tscores(table)
    by_id = dict(zip(out["child_id"].astype(object).where(out["child_id"].notna(), "blank"),
                     out["t_score"].round(3), strict=True))
    assert by_id == {"C1": 56.202, ("C2" if order != "blank key" else "blank"): 37.597}
    assert out["n_goals"].tolist() == [2, 2]
