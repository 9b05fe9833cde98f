"""Example assessments for any instrument (``sensoryprofile demo``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sensoryprofile import columns as C
from sensoryprofile.instruments import Instrument


def example_assessments(instrument: Instrument) -> pd.DataFrame:
    """Two example assessments for an instrument: a child who seeks a lot and
    one who avoids and is sensitive, each with a blank and a "does not apply".

    Ages are mid-range; values are on the instrument's scale whichever way it
    runs (for a ``higher_less`` form, 1 = almost always).
    """
    answers = sorted(instrument.response_scale.answer_values)
    low, high = answers[0], answers[-1]
    if instrument.direction == "higher_less":
        low, high = high, low  # "rarely" is the high number on a reversed form
    mid = answers[len(answers) // 2]
    profiles = {
        "EX-1": {"seeking": high, "registration": mid},
        "EX-2": {"avoiding": high, "sensitivity": high, "seeking": low},
    }
    rows = []
    for k, (assessment_id, pattern) in enumerate(profiles.items()):
        row = {C.ASSESSMENT_ID: assessment_id, C.CHILD_ID: f"EXAMPLE-{k + 1}",
               C.INSTRUMENT: instrument.id,
               C.AGE_MONTHS: (instrument.age_min + instrument.age_max) // 2}
        for item in instrument.items:
            row[item.id] = pattern.get(item.quadrant, mid)
        rows.append(row)
    frame = pd.DataFrame(rows)
    first = instrument.item_ids[0]
    frame[first] = frame[first].astype(object)
    frame.loc[0, first] = np.nan  # one blank answer: prorated where allowed
    if instrument.response_scale.na_codes:
        frame.loc[1, instrument.item_ids[1]] = instrument.response_scale.na_codes[0]
    return frame
