"""The JSON resources under ``/api/v1``: one package per resource, its marshmallow schemas
beside it. Only the app factory reaches in here; the pages (``web/``) never do."""

from flask_smorest import Api


def register(api: Api) -> None:
    from api.resources import accounts, actions, answer, groups, me

    for module in (accounts, groups, actions, answer, me):
        api.register_blueprint(module.blp)
    api.register_blueprint(groups.invitation_blp)
