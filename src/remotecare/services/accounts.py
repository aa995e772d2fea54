"""Create practices and users outside the API (first admin, demo data)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from remotecare.api.security import hash_password
from remotecare.store.models import CareTeam, Practice, Role, User


class AccountError(Exception):
    pass


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    role: Role,
    full_name: str,
    practice_name: str | None = None,
    care_team_name: str | None = None,
) -> User:
    """Create a user of the named practice or care team (exactly one), making it if it does not exist yet."""
    if (practice_name is None) == (care_team_name is None):
        raise AccountError("practice: name a practice or a care team (one of them)")
    if len(password) < 12:
        raise AccountError("password: at least 12 characters")
    email = email.strip().lower()
    if session.scalar(select(User).where(User.email == email)) is not None:
        raise AccountError(f"email: {email} already has an account")
    user = User(email=email, full_name=full_name, role=role, password_hash=hash_password(password))
    if practice_name is not None:
        practice = session.scalar(select(Practice).where(Practice.name == practice_name))
        if practice is None:
            practice = Practice(name=practice_name)
            session.add(practice)
            session.flush()
        user.practice_id = practice.id
    else:
        if role not in (Role.CLINICAL_STAFF, Role.PHYSICIAN, Role.ADMIN):
            raise AccountError(f"role: a care team's staff are clinical staff, physicians or admins, not {role}")
        user.care_team_id = care_team(session, str(care_team_name)).id
    session.add(user)
    session.flush()
    return user


def care_team(session: Session, name: str) -> CareTeam:
    """The care team called `name`, made if new."""
    team = session.scalar(select(CareTeam).where(CareTeam.name == name))
    if team is None:
        team = CareTeam(name=name)
        session.add(team)
        session.flush()
    return team
