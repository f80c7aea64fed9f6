"""`courtav` command line: serve, manage users, check the audit trail, upgrade the database."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence

from aiohttp import web
from sqlalchemy import select

from control.app import build_services, create_app
from control.audit import AuditLog
from control.auth import AuthError, add_user, set_password
from control.config import ConfigError, Settings, load_settings
from control.db import Database
from control.demo import ensure_demo_users, format_logins
from control.logs import configure_logging
from control.migrate import SchemaError, current, head, known, upgrade
from control.models import User
from control.policy import ACCOUNT_ROLES
from control.registry import CourtRegistry


def _read_password(prompt: str) -> str:
    """From the terminal without echo, or one line of standard input when piped."""
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("again: ") != first:
            raise AuthError(400, "the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _open(settings: Settings) -> tuple[Database, CourtRegistry]:
    services = build_services(settings)
    return services.db, services.registry


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    server = settings.server
    if args.host or args.port is not None:
        server = type(server)(args.host or server.host,
                              server.port if args.port is None else args.port,
                              server.max_body_bytes)
        settings = settings.with_overrides(server=server)
    configure_logging(settings.log)
    services = build_services(settings)
    app = create_app(settings, services)
    print(f"courtav serving on http://{server.host}:{server.port}/", flush=True)
    print(f"  database: {settings.database_url}", flush=True)
    if settings.demo.enabled:
        logins = ensure_demo_users(settings, services.db, services.registry)
        print(format_logins(logins, settings.data_dir), flush=True)
    web.run_app(app, host=server.host, port=server.port, print=None,
                access_log_format='%a "%r" %s %b %Tf')
    return 0


def cmd_users(args: argparse.Namespace, settings: Settings) -> int:
    db, registry = _open(settings)
    try:
        with db.session() as session:
            if args.users_cmd == "add":
                password = _read_password(f"password for {args.name}: ")
                add_user(session, registry, args.name, args.role, args.court, password,
                         args.display_name or "")
                print(f"added {args.name} ({args.role})")
            elif args.users_cmd == "passwd":
                set_password(session, args.name, _read_password(f"new password for {args.name}: "))
                print(f"password changed for {args.name}; their sessions were ended")
            else:
                for user in session.scalars(select(User).order_by(User.username)):
                    state = "" if user.active else " (disabled)"
                    print(f"{user.username}\t{user.role}\t{user.court_code or '-'}{state}")
    finally:
        db.close()
    return 0


def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    db, _ = _open(settings)
    try:
        with db.session() as session:
            broken = AuditLog(db).verify(session)
    finally:
        db.close()
    if broken is None:
        print("audit trail intact")
        return 0
    print(f"audit trail broken at record {broken}", file=sys.stderr)
    return 1


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    configure_logging(settings.log)
    db = Database(settings.database_url)
    try:
        if args.db_cmd == "upgrade":
            report = upgrade(db)
            if not report.changed:
                print(f"database at {report.after} (head): nothing to do")
            else:
                adopted = " (made before versions: adopted at 0001)" if report.adopted else ""
                print(f"database upgraded from {report.before or 'nothing'} to "
                      f"{report.after}{adopted}")
            return 0
        at, newest = current(db), head()
        if at == newest:
            state = "head"
        elif at is not None and not known(at):
            state = f"unknown to this courtav, whose newest is {newest}: a newer one upgraded it"
        else:
            state = f"head is {newest}: run `courtav db upgrade`"
        print(f"{at or 'none'} ({state})")
        return 0
    finally:
        db.close()


def parser() -> argparse.ArgumentParser:
    # --config is accepted before or after the sub-command: `courtav serve --config x.toml`.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=argparse.SUPPRESS,
                        help="config file (default: $COURTAV_CONFIG or the bundled one)")
    p = argparse.ArgumentParser(prog="courtav", description=__doc__, parents=[common])
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the server", parents=[common])
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    users = sub.add_parser("users", help="manage accounts", parents=[common])
    usub = users.add_subparsers(dest="users_cmd", required=True)
    add = usub.add_parser("add", help="add a user; the password is read from standard input")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ACCOUNT_ROLES)
    add.add_argument("--court", help="court code (all roles but admin)")
    add.add_argument("--display-name")
    usub.add_parser("list", help="list users")
    passwd = usub.add_parser("passwd", help="set a user's password (read from standard input)")
    passwd.add_argument("name")
    audit = sub.add_parser("audit", help="audit trail", parents=[common])
    audit.add_subparsers(dest="audit_cmd", required=True).add_parser(
        "verify", help="recompute the hash chain")
    db = sub.add_parser("db", help="the database's schema version", parents=[common])
    dsub = db.add_subparsers(dest="db_cmd", required=True)
    dsub.add_parser("upgrade", help="bring the database to this version's schema")
    dsub.add_parser("current", help="print the database's schema revision")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings(getattr(args, "config", None))
        handler = {"serve": cmd_serve, "users": cmd_users, "audit": cmd_audit,
                   "db": cmd_db}[args.command]
        return handler(args, settings)
    except SchemaError as exc:
        print(f"database error: {exc}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except AuthError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
