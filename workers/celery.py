"""The Celery app, configured from Django settings (the CELERY_* names).

Broker: Redis when REDIS_URL is set, else kombu's filesystem transport, which
needs no server and works across processes on one machine.
"""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

app = Celery("preflight")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Scans and e-mail have their own queues, so a burst of scans cannot delay reports.
app.conf.task_queues = (Queue("scans"), Queue("email"))
app.autodiscover_tasks(["workers"])
