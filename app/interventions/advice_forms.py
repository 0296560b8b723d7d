"""The library item form. Validation of the words and conditions is the
library's (FieldErrors); the form carries the fields and their labels."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField

from app.interventions import advice_labels
from app.interventions.advice_models import CATEGORIES


class ItemForm(FlaskForm):
    category = SelectField(_l("Category"), choices=[(c, advice_labels.CATEGORY[c]) for c in CATEGORIES])
    title_zh = StringField(_l("Title (Chinese)"))
    title_en = StringField(_l("Title (English)"))
    body_zh = TextAreaField(_l("Advice (Chinese)"), render_kw={"rows": 6})
    body_en = TextAreaField(_l("Advice (English)"), render_kw={"rows": 6})
    source = TextAreaField(_l("Source"), render_kw={"rows": 2})
    tags = StringField(_l("Tags (names, separated by commas)"))
    age_min = StringField(_l("From age"), render_kw={"inputmode": "numeric"})
    age_max = StringField(_l("To age"), render_kw={"inputmode": "numeric"})
    sex = SelectField(_l("Sex"), choices=[(k, v) for k, v in advice_labels.SEX.items()])
    active = BooleanField(_l("In use (composed into new sheets)"), default=True)
