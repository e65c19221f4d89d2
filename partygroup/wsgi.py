"""WSGI entry point (gunicorn/uwsgi: ``partygroup.wsgi:application``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partygroup.settings")

application = get_wsgi_application()
