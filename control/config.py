"""Typed server settings read once from `configs/courtav.toml`, overridden by environment."""

from __future__ import annotations

import os
import re
import socket
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "configs" / "courtav.toml"
ROLES = ("admin", "president", "judge", "clerk", "security", "public")

T = TypeVar("T")


class ConfigError(ValueError):
    """A configuration file or variable is missing, malformed or inconsistent."""


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    max_body_bytes: int = 1_048_576


@dataclass(frozen=True)
class NodeSettings:
    """This process as a node of the province: its id and the URL other nodes reach it at."""

    id: str = ""  # default: <hostname>-<port>, stable across restarts
    url: str = ""  # default: http://<host>:<port>
    heartbeat_s: float = 2.0
    dead_after_beats: int = 3  # a node silent this many heartbeats is dead


@dataclass(frozen=True)
class IceSettings:
    hosts: tuple[str, ...] = ()
    udp_port_min: int = 0
    udp_port_max: int = 0
    servers: tuple[str, ...] = ()


@dataclass(frozen=True)
class AuthSettings:
    token_ttl_hours: float = 12.0
    failure_delay_ms: int = 400
    lockout_failures: int = 5
    lockout_window_s: float = 300.0


@dataclass(frozen=True)
class LogSettings:
    level: str = "INFO"
    format: str = "json"


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    court: str | None = None
    password: str | None = None


@dataclass(frozen=True)
class DemoSettings:
    enabled: bool = False
    test_pattern_rooms: tuple[str, ...] = ()
    users: tuple[DemoUser, ...] = ()


@dataclass(frozen=True)
class RetentionSettings:
    """Days a recording is kept after it ends: by court level, or longer by hearing type."""

    enabled: bool = True  # run the daily retention job
    high: int = 3650
    intermediate: int = 1825
    basic: int = 1095
    hearing_types: dict[str, int] = field(default_factory=dict)  # e.g. {"criminal": 7300}
    export_days: int = 7  # exported MP4 files are removed after this
    interval_hours: float = 24.0


@dataclass(frozen=True)
class RecorderSettings:
    segment_s: float = 6.0
    analyze: bool = True  # audio level and motion per segment, decoded at a low rate
    signing_key_env: str = ""  # names the variable holding the manifest HMAC key
    signing_key: str = field(default="", repr=False)  # from that variable, never the file
    retention: RetentionSettings = field(default_factory=RetentionSettings)


@dataclass(frozen=True)
class HearingSettings:
    utc_offset_hours: float = 8.0  # the courts' local day, for day and week schedules
    public_viewer_cap: int = 200  # public WHEP viewers per broadcast stream; 0: none
    petition_ticket_ttl_min: float = 240.0  # an unanswered petition ticket expires after this
    petition_queue_max: int = 200  # waiting petitioners per court
    petition_signups_per_address: int = 5  # sign-ups per client address per window
    petition_signups_per_phone: int = 3  # sign-ups per phone number per window
    petition_window_s: float = 3600.0


@dataclass(frozen=True)
class ProbeOverrides:
    """`[probes.<feed type>]`: health-probe thresholds that differ from the built-in ones."""

    feed_type: str
    values: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class WebhookConfig:
    urls: tuple[str, ...] = ()
    secret: str = ""  # from the environment variable named by `secret_env`, never the file
    timeout_s: float = 5.0
    retries: int = 5


@dataclass(frozen=True)
class Settings:
    """Everything the server needs to start, resolved to absolute paths."""

    config_file: Path
    data_dir: Path
    recordings_dir: Path
    province_file: Path
    database_url: str
    server: ServerSettings = field(default_factory=ServerSettings)
    node: NodeSettings = field(default_factory=NodeSettings)
    ice: IceSettings = field(default_factory=IceSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    log: LogSettings = field(default_factory=LogSettings)
    demo: DemoSettings = field(default_factory=DemoSettings)
    recorder: RecorderSettings = field(default_factory=RecorderSettings)
    hearing: HearingSettings = field(default_factory=HearingSettings)
    webhooks: WebhookConfig = field(default_factory=WebhookConfig)
    probes: tuple[ProbeOverrides, ...] = ()
    # `[redaction]` as written; the hearing package checks the keys (app factory, at start).
    redaction: tuple[tuple[str, Any], ...] = ()

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)


class _Table:
    """One TOML table with typed, named access; unknown keys are reported."""

    def __init__(self, data: Mapping[str, Any], where: str, source: Path) -> None:
        self.data, self.where, self.source = data, where, source
        self.used: set[str] = set()

    def _fail(self, key: str, msg: str) -> ConfigError:
        return ConfigError(f"{self.source}: [{self.where}] {key}: {msg}")

    def get(self, key: str, kind: type[T], default: T) -> T:
        self.used.add(key)
        if key not in self.data:
            return default
        value = self.data[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self._fail(key, f"expected {kind.__name__}, got {value!r}")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.get(key, list, [])
        if not all(isinstance(v, str) for v in value):
            raise self._fail(key, "expected a list of strings")
        return tuple(value)

    def table(self, key: str) -> _Table:
        return _Table(self.get(key, dict, {}), f"{self.where}.{key}".strip("."), self.source)

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise self._fail(unknown[0], "unknown key")


def _port(value: int, where: str) -> int:
    if not 0 <= value <= 65535:
        raise ConfigError(f"{where}: port {value} is outside 0..65535")
    return value


def _server(t: _Table) -> ServerSettings:
    s = ServerSettings(
        host=t.get("host", str, "127.0.0.1"),
        port=_port(t.get("port", int, 8080), f"{t.source}: [server] port"),
        max_body_bytes=t.get("max_body_bytes", int, 1_048_576),
    )
    if s.max_body_bytes < 1024:
        raise ConfigError(f"{t.source}: [server] max_body_bytes: must be at least 1024")
    t.done()
    return s


_NODE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _node(t: _Table, server: ServerSettings, env: Mapping[str, str]) -> NodeSettings:
    file_id, file_url = t.get("id", str, ""), t.get("url", str, "")
    node_id = env.get("COURTAV_NODE_ID") or file_id or f"{socket.gethostname()}-{server.port}"
    url = env.get("COURTAV_NODE_URL") or file_url or f"http://{server.host}:{server.port}"
    s = NodeSettings(id=node_id, url=url.rstrip("/"),
                     heartbeat_s=t.get("heartbeat_s", float, 2.0),
                     dead_after_beats=t.get("dead_after_beats", int, 3))
    t.done()
    if not _NODE_ID.match(s.id):
        raise ConfigError(f"{t.source}: [node] id (or COURTAV_NODE_ID): {s.id!r} is not an id "
                          "(letters, digits, '.', '_', '-'; at most 64)")
    if not s.url.startswith(("http://", "https://")):
        raise ConfigError(f"{t.source}: [node] url (or COURTAV_NODE_URL): not an http(s) URL")
    if s.heartbeat_s <= 0 or s.dead_after_beats < 2:
        raise ConfigError(f"{t.source}: [node]: heartbeat_s > 0 and dead_after_beats >= 2")
    return s


def _ice(t: _Table) -> IceSettings:
    s = IceSettings(
        hosts=t.strings("hosts"),
        udp_port_min=_port(t.get("udp_port_min", int, 0), f"{t.source}: [ice] udp_port_min"),
        udp_port_max=_port(t.get("udp_port_max", int, 0), f"{t.source}: [ice] udp_port_max"),
        servers=t.strings("servers"),
    )
    if s.udp_port_max and s.udp_port_max < s.udp_port_min:
        raise ConfigError(f"{t.source}: [ice] udp_port_max: below udp_port_min")
    t.done()
    return s


def _auth(t: _Table) -> AuthSettings:
    s = AuthSettings(
        token_ttl_hours=t.get("token_ttl_hours", float, 12.0),
        failure_delay_ms=t.get("failure_delay_ms", int, 400),
        lockout_failures=t.get("lockout_failures", int, 5),
        lockout_window_s=t.get("lockout_window_s", float, 300.0),
    )
    if s.token_ttl_hours <= 0 or s.lockout_failures < 1 or s.failure_delay_ms < 0:
        raise ConfigError(f"{t.source}: [auth]: ttl and lockout must be positive, delay >= 0")
    t.done()
    return s


def _log(t: _Table) -> LogSettings:
    s = LogSettings(level=t.get("level", str, "INFO").upper(), format=t.get("format", str, "json"))
    if s.level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"{t.source}: [log] level: {s.level!r} is not DEBUG/INFO/WARNING/ERROR")
    if s.format not in ("json", "text"):
        raise ConfigError(f"{t.source}: [log] format: {s.format!r} is not json or text")
    t.done()
    return s


def _demo(t: _Table) -> DemoSettings:
    users = []
    for i, raw in enumerate(t.get("users", list, [])):
        if not isinstance(raw, dict):
            raise ConfigError(f"{t.source}: [demo.users] entry {i}: expected a table")
        u = _Table(raw, f"demo.users.{i}", t.source)
        user = DemoUser(
            username=u.get("username", str, ""),
            role=u.get("role", str, ""),
            court=u.get("court", str, "") or None,
            password=u.get("password", str, "") or None,
        )
        u.done()
        if not user.username or user.role not in ROLES:
            raise ConfigError(f"{t.source}: [demo.users] entry {i}: needs username and a role")
        users.append(user)
    s = DemoSettings(
        enabled=t.get("enabled", bool, False),
        test_pattern_rooms=t.strings("test_pattern_rooms"),
        users=tuple(users),
    )
    t.done()
    return s


def _retention(t: _Table) -> RetentionSettings:
    d = RetentionSettings()
    types = t.table("hearing_types")
    by_type = {name: types.get(name, int, 0) for name in list(types.data)}
    types.done()
    s = RetentionSettings(
        enabled=t.get("enabled", bool, d.enabled), high=t.get("high", int, d.high),
        intermediate=t.get("intermediate", int, d.intermediate),
        basic=t.get("basic", int, d.basic), hearing_types=by_type,
        export_days=t.get("export_days", int, d.export_days),
        interval_hours=t.get("interval_hours", float, d.interval_hours),
    )
    if min(s.high, s.intermediate, s.basic, s.export_days, *by_type.values()) < 1 \
            or s.interval_hours <= 0:
        raise ConfigError(f"{t.source}: [recorder.retention]: days and interval must be "
                          "positive")
    t.done()
    return s


MIN_SIGNING_KEY = 16


def _recorder(t: _Table, env: Mapping[str, str]) -> RecorderSettings:
    key_env = t.get("signing_key_env", str, "")
    key = env.get(key_env, "") if key_env else ""
    s = RecorderSettings(segment_s=t.get("segment_s", float, 6.0),
                         analyze=t.get("analyze", bool, True), signing_key_env=key_env,
                         signing_key=key, retention=_retention(t.table("retention")))
    if not 1.0 <= s.segment_s <= 60.0:
        raise ConfigError(f"{t.source}: [recorder] segment_s: must be within 1..60")
    if key_env and len(key) < MIN_SIGNING_KEY:
        raise ConfigError(f"{t.source}: [recorder] signing_key_env: ${key_env} must hold a key "
                          f"of at least {MIN_SIGNING_KEY} characters")
    t.done()
    return s


def _hearing(t: _Table) -> HearingSettings:
    d = HearingSettings()
    s = HearingSettings(
        utc_offset_hours=t.get("utc_offset_hours", float, d.utc_offset_hours),
        public_viewer_cap=t.get("public_viewer_cap", int, d.public_viewer_cap),
        petition_ticket_ttl_min=t.get("petition_ticket_ttl_min", float,
                                      d.petition_ticket_ttl_min),
        petition_queue_max=t.get("petition_queue_max", int, d.petition_queue_max),
        petition_signups_per_address=t.get("petition_signups_per_address", int,
                                           d.petition_signups_per_address),
        petition_signups_per_phone=t.get("petition_signups_per_phone", int,
                                         d.petition_signups_per_phone),
        petition_window_s=t.get("petition_window_s", float, d.petition_window_s),
    )
    if not -12.0 <= s.utc_offset_hours <= 14.0:
        raise ConfigError(f"{t.source}: [hearing] utc_offset_hours: must be within -12..14")
    if s.public_viewer_cap < 0 or s.petition_ticket_ttl_min <= 0 or s.petition_window_s <= 0 \
            or min(s.petition_queue_max, s.petition_signups_per_address,
                   s.petition_signups_per_phone) < 1:
        raise ConfigError(f"{t.source}: [hearing]: viewer cap >= 0; petition ttl, window, "
                          "queue and sign-up limits must be positive")
    t.done()
    return s


def _probes(t: _Table) -> tuple[ProbeOverrides, ...]:
    from media.probes import ProbeThresholds  # the media plane owns what the keys mean

    known = {f.name: f.type for f in fields(ProbeThresholds)}
    out = []
    for feed_type in sorted(t.data):
        sub = t.table(feed_type)
        values = []
        for key in sorted(sub.data):
            if key not in known:
                continue  # reported by done() as an unknown key
            kind = int if known[key] in (int, "int") else float
            value = sub.get(key, kind, 0)
            if value < 0 and key != "silence_dbfs":
                raise ConfigError(f"{t.source}: [probes.{feed_type}] {key}: must be >= 0")
            values.append((key, float(value)))
        sub.done()
        out.append(ProbeOverrides(feed_type, tuple(values)))
    t.done()
    return tuple(out)


def _webhooks(t: _Table, env: Mapping[str, str]) -> WebhookConfig:
    urls = t.strings("urls")
    secret_env = t.get("secret_env", str, "COURTAV_WEBHOOK_SECRET")
    s = WebhookConfig(urls=urls, secret=env.get(secret_env, ""),
                      timeout_s=t.get("timeout_s", float, 5.0), retries=t.get("retries", int, 5))
    bad = [u for u in urls if not u.startswith(("http://", "https://"))]
    if bad:
        raise ConfigError(f"{t.source}: [webhooks] urls: not an http(s) URL: {bad[0]!r}")
    if urls and not s.secret:
        raise ConfigError(f"{t.source}: [webhooks]: urls need a secret in ${secret_env}")
    if s.timeout_s <= 0 or s.retries < 0:
        raise ConfigError(f"{t.source}: [webhooks]: timeout_s > 0 and retries >= 0")
    t.done()
    return s


def load_settings(
    path: str | Path | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Read the config file (COURTAV_CONFIG or the default) and apply environment overrides."""
    env = os.environ if env is None else env
    source = Path(path or env.get("COURTAV_CONFIG") or DEFAULT_CONFIG).resolve()
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{source}: config file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    root = _Table(raw, "", source)
    server = _server(root.table("server"))
    node_table = root.table("node")  # read after the environment may have moved the port
    db, paths = root.table("database"), root.table("paths")
    database_url = db.get("url", str, "")
    db.done()
    data_dir = Path(paths.get("data_dir", str, "data"))
    data_dir = Path(env.get("COURTAV_DATA_DIR") or data_dir)
    recordings = paths.get("recordings_dir", str, "")
    province = source.parent / paths.get("province", str, "province.toml")
    paths.done()
    ice, auth, log, demo = (
        _ice(root.table("ice")),
        _auth(root.table("auth")),
        _log(root.table("log")),
        _demo(root.table("demo")),
    )
    recorder, hearing = _recorder(root.table("recorder"), env), _hearing(root.table("hearing"))
    webhooks = _webhooks(root.table("webhooks"), env)
    probes = _probes(root.table("probes"))
    redaction = tuple(sorted(root.get("redaction", dict, {}).items()))
    root.done()
    if "COURTAV_HOST" in env:
        server = replace(server, host=env["COURTAV_HOST"])
    if "COURTAV_PORT" in env:
        try:
            port = _port(int(env["COURTAV_PORT"]), "COURTAV_PORT")
        except ValueError:
            raise ConfigError(f"COURTAV_PORT: {env['COURTAV_PORT']!r} is not a number") from None
        server = replace(server, port=port)
    if "COURTAV_ICE_HOSTS" in env:
        hosts = tuple(h.strip() for h in env["COURTAV_ICE_HOSTS"].split(",") if h.strip())
        ice = replace(ice, hosts=hosts)
    if "COURTAV_LOG_LEVEL" in env:
        log = replace(log, level=env["COURTAV_LOG_LEVEL"].upper())
    node = _node(node_table, server, env)
    data_dir = data_dir.resolve()
    database_url = env.get("COURTAV_DATABASE_URL") or database_url
    if not database_url:
        database_url = f"sqlite:///{data_dir / 'courtav.db'}"
    return Settings(
        config_file=source,
        data_dir=data_dir,
        recordings_dir=(Path(recordings) if recordings else data_dir / "recordings").resolve(),
        province_file=province.resolve(),
        database_url=database_url,
        server=server,
        node=node,
        ice=ice,
        auth=auth,
        log=log,
        demo=demo,
        recorder=recorder,
        hearing=hearing,
        webhooks=webhooks,
        probes=probes,
        redaction=redaction,
    )
