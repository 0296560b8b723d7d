"""A separate RQ worker process for the kill tests: the test app's settings
arrive as JSON in CARELOOP_TEST_CONFIG; it works the notifications queue once."""
import json
import os

from rq import SimpleWorker

from app import create_app
from app.core import jobs

if __name__ == "__main__":
    app = create_app(json.loads(os.environ["CARELOOP_TEST_CONFIG"]))
    with app.app_context():
        SimpleWorker([jobs.queue("notifications")], connection=jobs.redis_connection()).work(burst=True)
