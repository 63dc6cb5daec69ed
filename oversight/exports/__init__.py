"""Exports: the quarterly review sheet, the annual evaluation report, the audit bundle, OCDS.

Every text cell of every .xlsx and .csv written here goes through
`oversight.domain.tabular.neutralize_cell` (spreadsheet formula injection).
"""
