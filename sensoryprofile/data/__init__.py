"""A clinic's data: reading CSV folders and workbooks, validating every row
(nothing lost, nothing identifying in a message), scoring the accepted
assessments, templates, the data dictionary and de-identified export.

* :mod:`~sensoryprofile.data.tables` - reading and atomic writing of tables;
* :mod:`~sensoryprofile.data.validation` - the validation report and its accounting;
* :mod:`~sensoryprofile.data.dataset` - loading and validating a whole dataset;
* :mod:`~sensoryprofile.data.assessments` - checking and scoring an assessments table;
* :mod:`~sensoryprofile.data.dictionary`, :mod:`~sensoryprofile.data.template` -
  what each column means, and empty datasets to fill in;
* :mod:`~sensoryprofile.data.export` - de-identified extracts for research.
"""
