"""WTForms validators and fields that defer to the domain's identifier and money rules."""
from __future__ import annotations

from wtforms import StringField
from wtforms.validators import ValidationError

from ..domain.identifiers import (
    InvalidIdentifier,
    normalize_credit_code,
    normalize_id_number,
    normalize_mobile,
)
from ..domain.money import InvalidAmount, parse_yuan


class _Normalizing:
    """Validate with a domain normaliser and store its normalised value back into the field."""

    normalize = None
    errors = (InvalidIdentifier,)

    def __call__(self, form, field) -> None:
        if not field.data:
            return
        try:
            field.data = type(self).normalize(field.data)
        except self.errors as error:
            raise ValidationError(str(error)) from None


class IdNumber(_Normalizing):
    normalize = staticmethod(normalize_id_number)


class CreditCode(_Normalizing):
    normalize = staticmethod(normalize_credit_code)


class Mobile(_Normalizing):
    normalize = staticmethod(normalize_mobile)


class YuanField(StringField):
    """Amount typed in yuan, held as integer fen in `.data` after validation."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data:
            try:
                self.data = parse_yuan(self.data)
            except InvalidAmount as error:
                self.data = None
                raise ValueError(str(error)) from None

    def _value(self):
        if isinstance(self.data, int):
            return f"{self.data / 100:.2f}"
        return self.data or ""
