"""`flask --app wsgi ARGS` in a separate process, for tests: the test app's settings arrive as JSON in
CARELOOP_TEST_CONFIG, its clock offset in CARELOOP_TEST_CLOCK_OFFSET (the process keeps the test's time)."""
import json
import os
import sys

from tests.clock import travel_by_offset_from_environment

if __name__ == "__main__":
    travel_by_offset_from_environment()
    from flask.cli import ScriptInfo

    from app import create_app

    app = create_app(json.loads(os.environ["CARELOOP_TEST_CONFIG"]))
    app.cli.main(args=sys.argv[1:], prog_name="flask", obj=ScriptInfo(create_app=lambda: app))
