"""Pages for ERG leads: create a group, manage its members, read its insights, export CSV."""

from flask import Blueprint

from web.auth import protect

bp = Blueprint("lead", __name__, url_prefix="/groups")
bp.before_request(protect)
