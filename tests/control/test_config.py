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
        ("[probes.main]\nfrozen_seconds = 3\n", {}, r"\[probes.main\] frozen_seconds: unknown"),
        ("[probes.main]\nfrozen_s = -1\n", {}, r"\[probes.main\] frozen_s: must be >= 0"),
        ("[recorder]\nsegment_s = 0.1\n", {}, r"\[recorder\] segment_s"),
        ("[webhooks]\nurls = ['ftp://x']\n", {}, "not an http"),
        ("[webhooks]\nurls = ['http://127.0.0.1:9/h']\n", {}, "need a secret"),
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


def test_sections_for_recorder_hearing_probes_and_webhooks(tmp_path: Path) -> None:
    from control.app import probe_thresholds_of

    cfg = write(tmp_path, "[recorder]\nsegment_s = 4\n[hearing]\nutc_offset_hours = 6\n"
                          "[probes.main]\nfrozen_s = 9\nconfirm_frames = 6\n"
                          "[probes.ptz]\nvideo_loss_s = 2\n"
                          "[webhooks]\nurls = ['http://127.0.0.1:9/h']\nsecret_env = 'HOOK'\n")
    s = load_settings(cfg, env={"HOOK": "s3cret"})
    assert s.recorder.segment_s == 4.0 and s.hearing.utc_offset_hours == 6.0
    assert s.webhooks.secret == "s3cret" and s.webhooks.urls == ("http://127.0.0.1:9/h",)
    probes = probe_thresholds_of(s)
    assert probes["main"].frozen_s == 9.0 and probes["main"].confirm_frames == 6
    assert isinstance(probes["main"].confirm_frames, int)
    assert probes["sub"].keyframe_every_s == 10.0  # built-in, untouched
    assert probes["ptz"].video_loss_s == 2.0 and probes["ptz"].frozen_s == 20.0
    # The bundled file's [probes] keep the built-in values it documents.
    bundled = probe_thresholds_of(load_settings(env={"COURTAV_DATA_DIR": str(tmp_path)}))
    assert bundled["main"].video_loss_s == 5.0 and bundled["sub"].min_bitrate_bps == 8000.0


def test_redaction_rules_from_config(tmp_path: Path) -> None:
    from control.app import redaction_rules_of
    from hearing.redaction import RedactionRules

    cfg = write(tmp_path, "[redaction]\nphones = false\nname_mask = '*'\n"
                          "exempt_roles = ['agent']\n")
    rules = redaction_rules_of(load_settings(cfg, env={}))
    assert not rules.phones and rules.name_mask == "*" and rules.exempt_roles == {"agent"}
    assert rules.id_numbers and rules.hidden_name == "某某"
    bundled = redaction_rules_of(load_settings(env={"COURTAV_DATA_DIR": str(tmp_path)}))
    assert bundled == RedactionRules()
    for text, message in [("phones = 'no'", "phones: expected bool"),
                          ("phone = false", "phone: unknown key"),
                          ("exempt_roles = 'agent'", "exempt_roles: expected frozenset")]:
        bad = write(tmp_path, f"[redaction]\n{text}\n")
        with pytest.raises(ConfigError, match=message) as info:
            redaction_rules_of(load_settings(bad, env={}))
        assert str(bad) in str(info.value)


def test_node_id_and_url_from_the_environment_or_defaults(tmp_path: Path) -> None:
    s = load_settings(env={"COURTAV_DATA_DIR": str(tmp_path), "COURTAV_PORT": "9123"})
    assert s.node.id.endswith("-9123") and s.node.url == "http://127.0.0.1:9123"
    assert s.node.heartbeat_s == 2.0 and s.node.dead_after_beats == 3
    s = load_settings(env={"COURTAV_DATA_DIR": str(tmp_path), "COURTAV_NODE_ID": "harbin-1",
                           "COURTAV_NODE_URL": "http://10.0.0.5:8080/"})
    assert s.node.id == "harbin-1" and s.node.url == "http://10.0.0.5:8080"
    with pytest.raises(ConfigError, match="COURTAV_NODE_ID"):
        load_settings(env={"COURTAV_DATA_DIR": str(tmp_path), "COURTAV_NODE_ID": "a b"})
    with pytest.raises(ConfigError, match="http"):
        load_settings(env={"COURTAV_DATA_DIR": str(tmp_path), "COURTAV_NODE_URL": "ftp://x"})
