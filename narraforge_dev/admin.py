"""Operator tools: `python -m narraforge_dev.admin set-tier EMAIL TIER` and `... set-cost-limit EMAIL USD`.

Targets the running local stack (`make run`) when there is one, otherwise the table named by
TABLE_NAME with the AWS credentials of the environment (the deployed stack's `TableName` output)."""

from __future__ import annotations

import argparse
import os
import sys

from narraforge.data.base import utcnow
from narraforge.data.models import UserItem
from narraforge.enums import Tier


def _target(use_local: bool) -> str:
    from narraforge_dev.local import stack

    state = stack.read_state() if use_local else None
    if state:
        stack.configure_environment(state["moto_url"])
        return f"local stack ({state['api_url']}, table {os.environ['TABLE_NAME']})"
    if use_local and "TABLE_NAME" not in os.environ:
        raise SystemExit("no local stack is running (start it with `make run`), and TABLE_NAME is not set")
    return f"table {os.environ.get('TABLE_NAME', 'narraforge')} in {os.environ.get('AWS_REGION', 'us-east-1')}"


def _user(email: str) -> UserItem:
    from narraforge.services.auth import user_by_email

    user = user_by_email(email)
    if user is None:
        raise SystemExit(f"no user with email {email}")
    return user


def set_tier(email: str, tier: Tier) -> UserItem:
    user = _user(email)
    user.update(actions=[UserItem.subscription_tier.set(tier.value), UserItem.updated_at.set(utcnow())])
    return user


def set_cost_limit(email: str, usd: float | None) -> UserItem:
    user = _user(email)
    action = UserItem.monthly_cost_limit_usd.remove() if usd is None else UserItem.monthly_cost_limit_usd.set(usd)
    user.update(actions=[action, UserItem.updated_at.set(utcnow())])
    return user


def _usd(value: str) -> float | None:
    if value.lower() in ("none", "null", "off"):
        return None
    amount = float(value)
    if amount < 0:
        raise argparse.ArgumentTypeError("must be zero or more")
    return amount


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m narraforge_dev.admin", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cloud", action="store_true", help="ignore a running local stack; use TABLE_NAME")
    sub = parser.add_subparsers(dest="command", required=True)
    tier = sub.add_parser("set-tier", help="change a user's subscription tier")
    tier.add_argument("email")
    tier.add_argument("tier", type=Tier, choices=list(Tier), metavar="{FREE,PRO,ENTERPRISE}")
    cap = sub.add_parser("set-cost-limit", help="set a user's monthly cost cap in USD ('none' removes it)")
    cap.add_argument("email")
    cap.add_argument("usd", type=_usd)
    args = parser.parse_args(argv)
    where = _target(use_local=not args.cloud)
    if args.command == "set-tier":
        user = set_tier(args.email, args.tier)
        print(f"{user.email}: subscription_tier = {args.tier.value} ({where})")
    else:
        user = set_cost_limit(args.email, args.usd)
        print(f"{user.email}: monthly_cost_limit_usd = {args.usd} ({where})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
