"""Results of the quarter's spot checks and callbacks, with Wilson intervals and charts."""
