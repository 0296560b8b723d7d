"""Starting a separate process of the app for a test: the test app's settings go as JSON in
CARELOOP_TEST_CONFIG and its clock offset in CARELOOP_TEST_CLOCK_OFFSET, so the child uses the run's
database and Redis keys and keeps the test's time (tests/clock.py)."""
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.clock import offset_seconds

ROOT = Path(__file__).resolve().parent.parent


def start(app, module: str, *args: str, keys: tuple[str, ...], **popen) -> subprocess.Popen:
    """``python -m module args`` with the app's settings named in ``keys``."""
    config = {key: app.config[key] for key in keys} | {"TESTING": True, "CARELOOP_ENV": "testing"}
    env = dict(os.environ, CARELOOP_TEST_CONFIG=json.dumps(config), CARELOOP_ENV="testing",
               CARELOOP_TEST_CLOCK_OFFSET=str(offset_seconds()))
    return subprocess.Popen([sys.executable, "-m", module, *args], cwd=ROOT, env=env, **popen)
