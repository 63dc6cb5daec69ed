"""One workflow step on a review or an evaluation, shared by their blueprints."""
from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, url_for

from ..domain.scoring import ScoringError
from ..extensions import db
from ..services.reviews import ReviewError
from .forms_common import send_back


def run_step(record, action: Callable, success: str, endpoint: str, id_arg: str):
    """Run `action(record)`: a refusal is rolled back and flashed, success committed; then show the
    record, or the new revision the action returned."""
    try:
        result = action(record)
    except (ReviewError, ScoringError) as error:
        db.session.rollback()
        flash(str(error), "danger")
        result = None
    else:
        db.session.commit()
        flash(success, "success")
    target = result if isinstance(result, type(record)) else record
    return redirect(url_for(endpoint, **{id_arg: target.id}))


def refuse_form(form, endpoint: str, **url_args):
    """Show the form back on the page it was posted from, as typed, with its errors."""
    return send_back(form, url_for(endpoint, **url_args))
