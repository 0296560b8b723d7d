from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, EmailField, IntegerField, SelectField, StringField, TelField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.core.validators import NoMarkup
from app.patients import labels


def optional_id(value):
    """A select's staff id: None for "nobody", -1 (never a choice) for junk."""
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


class PatientForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=50), NoMarkup()])
    sex = SelectField(_l("Sex"), choices=[("", _l("Choose…"))] + list(labels.SEX.items()),
                      validators=[InputRequired()])
    birth_date = DateField(_l("Birth date"), validators=[InputRequired()])
    mobile = TelField(_l("Mobile number"), validators=[DataRequired(), Length(max=20)])
    id_number = StringField(_l("Resident ID number"), validators=[Optional(), Length(max=20)],
                            render_kw={"data-fills-from-id": True, "autocomplete": "off"})
    email = EmailField(_l("Email"), validators=[Optional(), Length(max=254)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200), NoMarkup()])
    emergency_name = StringField(_l("Emergency contact"), validators=[Optional(), Length(max=50), NoMarkup()])
    emergency_phone = TelField(_l("Emergency contact phone"), validators=[Optional(), Length(max=20)])
    source_channel = SelectField(_l("Source channel"), choices=list(labels.SOURCE_CHANNEL.items()))
    # choices: the clinic's active staff, filled in by the view
    responsible_doctor_id = SelectField(_l("Responsible doctor"), coerce=optional_id, choices=[("", "—")])
    health_manager_id = SelectField(_l("Health manager"), coerce=optional_id, choices=[("", "—")])


class EnrolForm(PatientForm):
    consent = BooleanField(_l("The patient agrees to the processing of their health data"),
                           validators=[DataRequired(message=_l("Consent is required to open a card."))])


class EditForm(PatientForm):
    """The edit page: the identifiers are shown masked, never filled in; a
    field left empty keeps the stored number."""

    mobile = TelField(_l("New mobile number"), validators=[Optional(), Length(max=20)])
    id_number = StringField(_l("New resident ID number"), validators=[Optional(), Length(max=20)],
                            render_kw={"data-fills-from-id": True, "autocomplete": "off"})
    remove_id_number = BooleanField(_l("Remove the recorded ID number"))


class HistoryForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=list(labels.HISTORY_KIND.items()))
    description = StringField(_l("Description"), validators=[DataRequired(), Length(max=200), NoMarkup()])
    since_year = IntegerField(_l("Since (year)"), validators=[Optional(), NumberRange(1900, 2100)])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500), NoMarkup()])


class LifestyleForm(FlaskForm):
    smoking = SelectField(_l("Smoking"), choices=list(labels.SMOKING.items()))
    alcohol = SelectField(_l("Alcohol"), choices=list(labels.ALCOHOL.items()))
    exercise = SelectField(_l("Exercise"), choices=list(labels.EXERCISE.items()))
