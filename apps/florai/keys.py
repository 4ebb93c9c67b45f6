"""``python -m florai.keys``: issue, list and revoke API keys in the configured database.

    python -m florai.keys create --user alice [--name "alice's laptop"]
    python -m florai.keys list [--user alice]
    python -m florai.keys revoke KEY_ID

It reads the service's settings (DATABASE_URL, FLORAI_API_KEY_PEPPER or the pepper file in
FLORAI_DATA_DIR), so a key it creates is one the service accepts: the plaintext is printed once and
only its keyed hash is stored. A revoked key stops working within the service's key cache time
(florai.services.authentication.KEY_FRESH_S). Problems are one line on stderr, exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sqlalchemy.exc import InterfaceError, OperationalError

from florai.security import ApiKeyStore, pepper_from_file
from florai.services.authentication import KEY_FRESH_S
from florai.settings import Settings, SettingsError, load_settings, mask_credentials
from florai.storage import Database, DatabaseUnavailable, upgrade


def key_store(settings: Settings) -> ApiKeyStore:
    database = Database(settings.effective_database_url)
    upgrade(database.engine)
    pepper = settings.api_key_pepper.get_secret_value() if settings.api_key_pepper else None
    return ApiKeyStore(database, pepper or pepper_from_file(settings.pepper_file))


def _create(keys: ApiKeyStore, args: argparse.Namespace) -> int:
    key = keys.create(args.user, args.name)
    print(f"key id:  {key.id}\nuser:    {key.user_id}\napi key: {key.plaintext}")
    print("the api key is shown only now (only its hash is stored); send it as X-API-Key", file=sys.stderr)
    return 0


def _list(keys: ApiKeyStore, args: argparse.Namespace) -> int:
    rows = keys.list(args.user)
    print(f"{'key id':<34}{'user':<24}{'prefix':<14}{'created':<22}{'revoked':<22}name")
    for k in rows:
        revoked = k.revoked_at.strftime("%Y-%m-%d %H:%M:%S") if k.revoked_at else "-"
        created = k.created_at.strftime("%Y-%m-%d %H:%M:%S")
        print(f"{k.id:<34}{k.user_id:<24}{k.prefix:<14}{created:<22}{revoked:<22}{k.name}")
    return 0


def _revoke(keys: ApiKeyStore, args: argparse.Namespace) -> int:
    if not keys.revoke(args.key_id):
        print(f"florai.keys: no live key with id {args.key_id!r}", file=sys.stderr)
        return 1
    print(f"revoked {args.key_id} (servers stop accepting it within {KEY_FRESH_S:.0f} s)")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m florai.keys", description=__doc__.splitlines()[0])
    commands = p.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="issue a key for a user; prints it once")
    create.add_argument("--user", required=True, help="the user id the key acts for")
    create.add_argument("--name", default="api key", help="what the key is for (shown by list)")
    create.set_defaults(run=_create)
    listing = commands.add_parser("list", help="keys (never their secrets), oldest first")
    listing.add_argument("--user", help="only this user's keys")
    listing.set_defaults(run=_list)
    revoke = commands.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    revoke.set_defaults(run=_revoke)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"florai.keys: {exc}", file=sys.stderr)
        return 2
    try:
        return args.run(key_store(settings), args)
    except (DatabaseUnavailable, OperationalError, InterfaceError):
        where = mask_credentials(settings.effective_database_url)
        print(f"florai.keys: the database {where} is unreachable (DATABASE_URL)", file=sys.stderr)
    except ValueError as exc:  # a user id or name the store refuses
        print(f"florai.keys: {exc}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
