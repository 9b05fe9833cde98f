"""Synthetic data, all invented: example assessments, the sample clinic
(``data/sample``) and the messy clinic with planted defects (``data/sample-messy``)."""
