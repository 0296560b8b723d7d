from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField, TextAreaField, TimeField
from wtforms.validators import InputRequired, Length, NumberRange, Optional


class TemplateForm(FlaskForm):
    subject = StringField(_l("Subject"), validators=[Optional(), Length(max=200)])
    body_text = TextAreaField(_l("Message"), validators=[Length(max=4000)])


class SettingsForm(FlaskForm):
    quiet_start = TimeField(_l("Quiet hours start"), validators=[InputRequired()])
    quiet_end = TimeField(_l("Quiet hours end"), validators=[InputRequired()])
    daily_cap = IntegerField(_l("Most messages that can wait, per person per day"),
                             validators=[InputRequired(), NumberRange(1, 50)])
