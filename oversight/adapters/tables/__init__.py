"""Uploaded tables: reading (`reading`), cells and their parsers (`cells`), the marked error copy
(`marked`), formula neutralising (`formulas`) and the downloadable templates (`templates`)."""
