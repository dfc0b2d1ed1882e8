FLASK_APP=api:create_app
