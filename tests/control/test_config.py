"""Settings: defaults, environment overrides, and errors that name the file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from control.config import DEFAULT_CONFIG, ConfigError, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_config_loads_with_embedded_defaults(tmp_path: Path) -> None:
    s = load_settings(env={"COURTAV_DATA_DIR": str(tmp_path)})
    assert s.config_file == DEFAULT_CONFIG
    assert s.server.host == "127.0.0.1" and s.server.port == 8080
    assert s.database_url == f"sqlite:///{tmp_path}/courtav.db"
    assert s.recordings_dir == tmp_path / "recordings"
    assert s.province_file == DEFAULT_CONFIG.parent / "province.toml"
    assert s.demo.enabled and any(u.role == "admin" for u in s.demo.users)
    assert all(u.password is None for u in s.demo.users), "no demo password may be committed"


def test_environment_overrides_file(tmp_path: Path) -> None:
    cfg = write(tmp_path, '[server]\nport = 9000\n[database]\nurl = "sqlite:///x.db"\n')
    env = {
        "COURTAV_CONFIG": str(cfg),
        "COURTAV_PORT": "9100",
        "COURTAV_DATABASE_URL": "postgresql+psycopg://u@127.0.0.1/db",
        "COURTAV_DATA_DIR": str(tmp_path / "d2"),
        "COURTAV_ICE_HOSTS": "127.0.0.1, ::1",
    }
    s = load_settings(env=env)
    assert s.config_file == cfg
    assert s.server.port == 9100
    assert s.database_url.startswith("postgresql+psycopg://")
    assert s.data_dir == tmp_path / "d2"
    assert s.ice.hosts == ("127.0.0.1", "::1")
    assert load_settings(cfg, env={}).server.port == 9000


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ("[server]\nport = 'eighty'\n", {}, r"\[server\] port: expected int"),
        ("[server]\nport = 70000\n", {}, "port 70000 is outside"),
        ("[server]\nprot = 80\n", {}, r"\[server\] prot: unknown key"),
        ("[log]\nlevel = 'LOUD'\n", {}, r"\[log\] level"),
        ("[ice]\nhosts = [1, 2]\n", {}, r"\[ice\] hosts: expected a list of strings"),
        ("[ice]\nudp_port_min = 5000\nudp_port_max = 4000\n", {}, "below udp_port_min"),
        ("[demo]\nusers = [{username = 'x', role = 'king'}]\n", {}, "needs username and a role"),
        ("[server\n", {}, "not valid TOML"),
        ("", {"COURTAV_PORT": "http"}, "COURTAV_PORT: 'http' is not a number"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path: Path, text: str, env: dict[str, str],
                                       message: str) -> None:
    cfg = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as info:
        load_settings(cfg, env=env)
    if not env:
        assert str(cfg) in str(info.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.toml", env={})
