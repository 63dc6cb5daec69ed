"""Exports: the quarterly review sheet, the annual evaluation report, the audit bundle, OCDS.

Every text cell of every .xlsx and .csv written here goes through
`oversight.adapters.tables.formulas.neutralize_cell` (spreadsheet formula injection).
"""
