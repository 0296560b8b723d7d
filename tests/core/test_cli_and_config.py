import pytest

from app import create_app
from app.config import ConfigError


def test_production_refuses_development_secrets(monkeypatch):
    monkeypatch.setenv("CARELOOP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATA_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY.*DATA_KEY"):
        create_app()
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    with pytest.raises(ConfigError, match="DATA_KEY"):
        create_app()
    monkeypatch.setenv("DATA_KEY", "q5Pr0f4cJk2pQ9mZ1rY8xW3vT6uS7oN0lK4jH2gF1dE=")
    assert create_app().config["CARELOOP_ENV"] == "production"


def test_tenants_cli_create_and_list(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["tenants", "create", "clinic-cli", "--name", "命令行诊所",
                                 "--admin-email", "boss@cli.example.cn", "--admin-password", "long-password-1"])
    assert result.exit_code == 0, result.output
    again = runner.invoke(args=["tenants", "create", "clinic-cli", "--name", "x",
                                "--admin-email", "a@b.cn", "--admin-password", "long-password-1"])
    assert again.exit_code != 0 and "exists already" in again.output
    weak = runner.invoke(args=["tenants", "create", "weak-pw", "--name", "x",
                               "--admin-email", "a@b.cn", "--admin-password", "short"])
    assert weak.exit_code != 0 and "password" in weak.output
    listed = runner.invoke(args=["tenants", "list"])
    assert "clinic-cli\t命令行诊所" in listed.output and "weak-pw" not in listed.output


def test_seed_demo_is_idempotent(app, client_for):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed", "demo", "--patients", "4"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["seed", "demo", "--patients", "4"])
    assert second.exit_code == 0 and "already there: demo" in second.output
    from app.seed import DEMO_PASSWORD

    client = client_for(host="demo.localhost", email="frontdesk@demo.example.cn", password=DEMO_PASSWORD)
    page = client.get("/patients", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert page.count("<tr>") == 4 + 1  # header row and four patients, not eight


def test_proxy_hops_take_the_client_address_from_the_proxy(monkeypatch):
    from werkzeug.middleware.proxy_fix import ProxyFix

    monkeypatch.setenv("CARELOOP_ENV", "development")
    assert not isinstance(create_app().wsgi_app, ProxyFix)  # no proxy: X-Forwarded-For is not trusted
    monkeypatch.setenv("PROXY_HOPS", "1")
    fixed = create_app().wsgi_app
    assert isinstance(fixed, ProxyFix)
    seen = {}

    def probe(environ, start_response):  # stands in for the Flask app behind the middleware
        seen["addr"], seen["scheme"] = environ["REMOTE_ADDR"], environ["wsgi.url_scheme"]
        start_response("204 No Content", [])
        return [b""]

    fixed.app = probe
    from werkzeug.test import Client

    Client(fixed).get("/", headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"})
    assert seen == {"addr": "203.0.113.7", "scheme": "https"}
