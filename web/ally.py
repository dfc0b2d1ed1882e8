"""Pages for allies: their groups, their actions, asking for feedback, pooled results, notes."""

from typing import Any

from flask import Blueprint, render_template

from api.extensions import session
from feedback.services import groups
from web.auth import login_required, me, protect

bp = Blueprint("ally", __name__, url_prefix="/ally")
bp.before_request(protect)


@bp.get("/")
@login_required
def home() -> Any:
    return render_template("ally/home.html", groups=groups.list_groups(session(), me()))
