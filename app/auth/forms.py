from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length

from app.auth import labels
from app.core.access import ROLES
from app.core.validators import NoMarkup


def role_choices():
    return [(role, labels.ROLE[role]) for role in ROLES]


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class StaffForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=60), NoMarkup()])
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectField(_l("Role"), choices=role_choices)
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(min=10, max=200)])


class StaffUpdateForm(FlaskForm):
    role = SelectField(_l("Role"), choices=role_choices)
    active = BooleanField(_l("Active"))
