from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.core.validators import NoMarkup
from app.records.models import GROUPS


class UploadForm(FlaskForm):
    file = FileField(_l("Report file (HL7 v2, FHIR JSON, CSV or XLSX)"), validators=[FileRequired()])
    mapping = SelectField(_l("Spreadsheet column mapping"), choices=[], validate_choice=False)


class SampleForm(FlaskForm):
    file = FileField(_l("A sample export (CSV or XLSX)"), validators=[FileRequired()])


class EntryForm(FlaskForm):
    observed_on = DateField(_l("Date of measurement"), validators=[InputRequired()])


class AssignForm(FlaskForm):
    card_no = StringField(_l("Card number of the patient"), validators=[DataRequired(), Length(max=20)])


class IndicatorForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40), NoMarkup()])
    name_zh = StringField(_l("Chinese name"), validators=[DataRequired(), Length(max=80), NoMarkup()])
    name_en = StringField(_l("English name"), validators=[Optional(), Length(max=80), NoMarkup()])
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=30), NoMarkup()])
    group = SelectField(_l("Group"), choices=[(g, g) for g in GROUPS])


class LabCodeForm(FlaskForm):
    sender = StringField(_l("Lab (sending facility; empty for any)"),
                         validators=[Optional(), Length(max=80), NoMarkup()])
    local_code = StringField(_l("Lab's code or test name"), validators=[DataRequired(), Length(max=80), NoMarkup()])
    indicator_id = SelectField(_l("Catalogue indicator"), choices=[], validate_choice=False)
    unit = StringField(_l("Unit the lab reports in"), validators=[Optional(), Length(max=30), NoMarkup()])


class TokenForm(FlaskForm):
    name = StringField(_l("Name (which system uses it)"), validators=[DataRequired(), Length(max=80), NoMarkup()])


class AckForm(FlaskForm):
    """Acknowledging an alert: what was done; for a critical one also who was informed."""

    note = TextAreaField(_l("What was done"), validators=[DataRequired(), Length(max=2000)])
    informed = SelectField(_l("Who was informed"), choices=[], validate_choice=False)
    informed_name = StringField(_l("Name of the person informed"), validators=[Optional(), Length(max=60), NoMarkup()])


class BulkAckForm(FlaskForm):
    note = TextAreaField(_l("What was done (for every chosen alert)"), validators=[DataRequired(), Length(max=2000)])


class AlertSettingsForm(FlaskForm):
    ack_minutes = IntegerField(_l("A critical value is acknowledged within (minutes)"), validators=[InputRequired()])
    backup_doctor_id = SelectField(_l("Clinic backup doctor (for doctors without their own backup)"), choices=[],
                                   validate_choice=False)
