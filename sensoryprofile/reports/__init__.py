"""Reports: the models that hold what each report shows (child, caseload,
cohort), how numbers are presented, and rendering the notebooks to HTML and
PDF. The notebooks and the HTML template ship inside this package
(``reports/notebooks/``, ``reports/templates/``).

* :mod:`~sensoryprofile.reports.formatting` - rounding and HTML, in one place;
* :mod:`~sensoryprofile.reports.child`, :mod:`~sensoryprofile.reports.caseload`,
  :mod:`~sensoryprofile.reports.cohort` - the report models;
* :mod:`~sensoryprofile.reports.render` - one notebook to HTML/PDF, kernels;
* :mod:`~sensoryprofile.reports.batch` - many children's reports in worker processes;
* :mod:`~sensoryprofile.reports.index` - the index page of an output folder.
"""
