"""The JSON resources under ``/api/v1``: one package per resource, its marshmallow schemas
beside it. Only the app factory reaches in here; the pages (``web/``) never do."""

from flask_smorest import Api

# Endpoints the rate limiter's per-request pass never sees (``api.extensions.init_limiter``).
# The submit carries no limit that pass could check: its per-link limit counts refused
# envelopes only (``answer._count_refusal``), so a campaign's answers never touch the
# limits' storage.
PASSING_THE_LIMITER_BY = ("answer.submit",)


def register(api: Api) -> None:
    from api.resources import accounts, actions, answer, groups, me

    for module in (accounts, groups, actions, answer, me):
        api.register_blueprint(module.blp)
    api.register_blueprint(groups.invitation_blp)
