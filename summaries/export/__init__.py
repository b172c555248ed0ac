"""A patient's data, exported: a JSON document, a ZIP of CSV files, or a FHIR R4 bundle.

Every format is streamed: rows are read with database iterators (a fixed number of queries,
however many rows) and written out as they come, so memory stays bounded for a patient with
years of data. ``rows`` reads, ``document``, ``spreadsheet`` and ``fhir`` write.
"""
