from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.core.validators import NoMarkup
from app.records import labels
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
    group = SelectField(_l("Group"), choices=[(g, labels.GROUP[g]) for g in GROUPS])


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


class RangeRowForm(Form):
    """One reference range row; numbers are kept as typed and checked by catalogue.parse_limits."""

    sex = SelectField(_l("Sex"), choices=[("", _l("Both")), ("M", _l("Men")), ("F", _l("Women"))],
                      validate_choice=False)
    age_min = StringField(_l("From age"), validators=[Length(max=20)])
    age_max = StringField(_l("To age"), validators=[Length(max=20)])
    low = StringField(_l("Lower limit"), validators=[Length(max=30)])
    high = StringField(_l("Upper limit"), validators=[Length(max=30)])
    high_inclusive = BooleanField(_l("Upper limit itself is out of range"))


class LimitsForm(FlaskForm):
    ranges = FieldList(FormField(RangeRowForm), min_entries=1, max_entries=20)
    critical_low = StringField(_l("Critical below"), validators=[Length(max=30)])
    critical_low_inclusive = BooleanField(_l("The lower critical limit itself is critical"))
    critical_high = StringField(_l("Critical above"), validators=[Length(max=30)])
    critical_high_inclusive = BooleanField(_l("The upper critical limit itself is critical"))
    plausible_low = StringField(_l("Lowest possible value"), validators=[Length(max=30)])
    plausible_high = StringField(_l("Highest possible value"), validators=[Length(max=30)])
    source = TextAreaField(_l("Source of these values"), validators=[Length(max=500), NoMarkup()])


class BulkAckForm(FlaskForm):
    note = TextAreaField(_l("What was done (for every chosen alert)"), validators=[DataRequired(), Length(max=2000)])


class AlertSettingsForm(FlaskForm):
    ack_minutes = IntegerField(_l("A critical value is acknowledged within (minutes)"), validators=[InputRequired()])
    backup_doctor_id = SelectField(_l("Clinic backup doctor (for doctors without their own backup)"), choices=[],
                                   validate_choice=False)
