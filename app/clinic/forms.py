from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FileField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.core import clock
from app.core.access import ROLES


class ProfileForm(FlaskForm):
    name = StringField(_l("Clinic name"), render_kw={"autocomplete": "organization"})
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    logo = FileField(_l("Logo (PNG or JPEG, at most 1 MB)"))
    remove_logo = BooleanField(_l("Remove the logo"))
    timezone = SelectField(_l("Time zone of the clinic's clock"), validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = [(name, name.replace("_", " ")) for name in clock.zone_choices()]


class SignInForm(FlaskForm):
    """How long sessions last and who must use two-factor sign-in."""

    staff_idle_minutes = IntegerField(_l("Staff: sign out after this many idle minutes"), validators=[InputRequired()])
    portal_idle_minutes = IntegerField(_l("Patients: sign out after this many idle minutes"),
                                       validators=[InputRequired()])
    absolute_hours = IntegerField(_l("Everyone: sign out this many hours after signing in"),
                                  validators=[InputRequired()])
    two_factor_roles = SelectMultipleField(_l("Roles that must use two-factor sign-in"), validate_choice=False,
                                           widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())

    def __init__(self, *args, role_labels=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.two_factor_roles.choices = [(role, (role_labels or {}).get(role, role)) for role in ROLES]
