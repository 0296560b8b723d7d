from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, EmailField, HiddenField, SelectField, StringField, TelField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.core.validators import NoMarkup

SEX_CHOICES = [("", _l("Choose…")), ("M", _l("Male")), ("F", _l("Female"))]


class MobileForm(FlaskForm):
    mobile = TelField(_l("Mobile number"), validators=[DataRequired(), Length(max=20)])
    next = HiddenField()


class CodeForm(FlaskForm):
    mobile = HiddenField(validators=[DataRequired()])
    code = StringField(_l("6-digit code from the text message"), validators=[DataRequired(), Length(max=6)])
    next = HiddenField()


class BookForm(FlaskForm):
    day = HiddenField(validators=[DataRequired()])
    slot = HiddenField(validators=[DataRequired()])
    idem = HiddenField(validators=[DataRequired(), Length(max=64)])


class DetailsForm(BookForm):
    """A first booking: the details a new patient card needs."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=50), NoMarkup()])
    sex = SelectField(_l("Sex"), choices=SEX_CHOICES, validators=[InputRequired()])
    birth_date = DateField(_l("Birth date"), validators=[InputRequired()])
    id_number = StringField(_l("Resident ID number (optional)"), validators=[Optional(), Length(max=20)])
    email = EmailField(_l("Email (optional)"), validators=[Optional(), Length(max=254)])
    consent = BooleanField(_l("I agree that the clinic keeps and processes my health data"),
                           validators=[DataRequired(message=_l("Consent is required to book."))])


class RescheduleForm(FlaskForm):
    day = HiddenField(validators=[DataRequired()])
    slot = HiddenField(validators=[DataRequired()])


class CancelForm(FlaskForm):
    confirm = HiddenField()  # "1" from the confirmation page
