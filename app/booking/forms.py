from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.booking import labels
from app.core.validators import NoMarkup


class PackageForm(FlaskForm):
    name = StringField(_l("Package name"), validators=[DataRequired(), Length(max=80), NoMarkup()])
    category = SelectField(_l("Category"), choices=list(labels.CATEGORY.items()))
    price = StringField(_l("Price (yuan)"), validators=[DataRequired(), Length(max=20)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000), NoMarkup()])
    # the exam items are rows of their own on the page (name, indicator codes), read by the view
    sex = SelectField(_l("Who may book"), choices=list(labels.SEX.items()), validate_choice=False)
    age_min = IntegerField(_l("Lowest age"), validators=[Optional()])
    age_max = IntegerField(_l("Highest age"), validators=[Optional()])
    fasting = BooleanField(_l("Fasting required"))
    no_alcohol = BooleanField(_l("No alcohol beforehand"))
    preparation = TextAreaField(_l("Other preparation instructions"),
                                validators=[Optional(), Length(max=1000), NoMarkup()])
    daily_limit = IntegerField(_l("Places per day for this package (empty: no limit)"), validators=[Optional()])


class SettingsForm(FlaskForm):
    horizon_days = IntegerField(_l("Bookable days ahead"), validators=[InputRequired()])
    cutoff_days = IntegerField(_l("Booking closes this many days before"), validators=[InputRequired()])
    cutoff_time = TimeField(_l("… at"), validators=[InputRequired()])
    cancel_cutoff_days = IntegerField(_l("Cancelling and changing close this many days before"),
                                      validators=[InputRequired()])
    cancel_cutoff_time = TimeField(_l("… at (changes)"), validators=[InputRequired()])
    daily_capacity = IntegerField(_l("Places per day, all slots (empty: no limit)"), validators=[Optional()])


class SlotForm(FlaskForm):
    weekday = SelectField(_l("Weekday"), choices=[], coerce=int)
    start = TimeField(_l("Start"), validators=[InputRequired()])
    end = TimeField(_l("End"), validators=[InputRequired()])
    capacity = IntegerField(_l("Places"), validators=[InputRequired(), NumberRange(0, 10000)])


class OverrideForm(FlaskForm):
    day = DateField(_l("Date"), validators=[InputRequired()])
    start = TimeField(_l("Start"), validators=[InputRequired()])
    end = TimeField(_l("End"), validators=[InputRequired()])
    capacity = IntegerField(_l("Places (0 closes the slot)"), validators=[InputRequired(), NumberRange(0, 10000)])


class ClosedDayForm(FlaskForm):
    day = DateField(_l("Date"), validators=[InputRequired()])
    reason = StringField(_l("Reason (e.g. a public holiday)"), validators=[Optional(), Length(max=80), NoMarkup()])


class OrderActionForm(FlaskForm):
    note = StringField(_l("Note"), validators=[Optional(), Length(max=300), NoMarkup()])
    confirm = HiddenField()  # "1": the second click, after the page asked


class PaymentForm(FlaskForm):
    reference = StringField(_l("Receipt number"), validators=[Optional(), Length(max=80), NoMarkup()])
