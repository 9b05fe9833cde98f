"""Numbers for one child: response codes and scores, norms and
classification, change between administrations (RCI), goal attainment (GAS).

Tidy frames and arrays in and out; nothing here draws or reads files.

* :mod:`~sensoryprofile.measures.responses` - item cells to response codes;
* :mod:`~sensoryprofile.measures.scoring` - codes to raw scores, validity, the tidy score table;
* :mod:`~sensoryprofile.measures.norms` - age bands, z, percentiles, classification;
* :mod:`~sensoryprofile.measures.change` - change between administrations, the RCI;
* :mod:`~sensoryprofile.measures.gas` - the GAS T-score formula and weights;
* :mod:`~sensoryprofile.measures.goals` - a clinic's goals over time.
"""
