"""Tables across children: shared statistics, psychometrics, the caseload
and cohort analyses, and the provenance of a run. Tidy frames only; nothing
here imports matplotlib (``make lint`` checks it).

* :mod:`~sensoryprofile.analysis.stats` - rank tests, effect sizes, vectorised bootstrap;
* :mod:`~sensoryprofile.analysis.psychometrics` - alpha, omega, item statistics;
* :mod:`~sensoryprofile.analysis.caseload` - the clinic director's tables;
* :mod:`~sensoryprofile.analysis.cohort` - the researcher's cohort tables;
* :mod:`~sensoryprofile.analysis.provenance` - input hashes and package versions.
"""
