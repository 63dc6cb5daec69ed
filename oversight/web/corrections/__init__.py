"""Corrections (更正申请): a contractor's request to correct a stored record, the bureau's decision,
and the record's versions."""
