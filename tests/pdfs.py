"""Running a test's queued jobs to the end in this process, and reading the PDFs they print with
poppler's tools (pdftotext, pdffonts)."""
import subprocess
import tempfile

from rq import SimpleWorker

from app.core import jobs


def work_off(app) -> None:
    """Every queue's jobs, in this process, until none is left."""
    with app.app_context():
        SimpleWorker([jobs.queue(name) for name in jobs.QUEUES], connection=jobs.redis_connection()).work(burst=True)


def poppler(tool: str, data: bytes, *args: str) -> str:
    """What ``tool`` prints for the PDF ``data`` (pdftotext writes the text to stdout)."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(data)
        handle.flush()
        command = [tool, *args, handle.name] + (["-"] if tool == "pdftotext" else [])
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout
