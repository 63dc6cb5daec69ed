"""Completion-log uploads: templates, the upload form, batch progress, errors and history."""
