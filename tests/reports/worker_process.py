"""A separate RQ worker process for the batch kill test: the test app's settings arrive as JSON in
CARELOOP_TEST_CONFIG, its clock offset in CARELOOP_TEST_CLOCK_OFFSET; it works the reports queue once."""
import json
import os

from rq import SimpleWorker

from app import create_app
from app.core import jobs
from tests.clock import travel_by_offset_from_environment

if __name__ == "__main__":
    travel_by_offset_from_environment()
    app = create_app(json.loads(os.environ["CARELOOP_TEST_CONFIG"]))
    with app.app_context():
        SimpleWorker([jobs.queue("reports")], connection=jobs.redis_connection()).work(burst=True)
