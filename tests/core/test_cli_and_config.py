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
