from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField

from app.core import clock


class ProfileForm(FlaskForm):
    timezone = SelectField(_l("Time zone of the clinic's clock"), validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = [(name, name.replace("_", " ")) for name in clock.zone_choices()]
