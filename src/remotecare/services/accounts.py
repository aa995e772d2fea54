"""Create practices and users outside the API (first admin, demo data)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from remotecare.api.security import hash_password
from remotecare.store.models import Practice, Role, User


class AccountError(Exception):
    pass


def create_user(session: Session, *, email: str, password: str, role: Role, full_name: str, practice_name: str) -> User:
    """Create a user in the named practice, making the practice if it does not exist yet."""
    if len(password) < 12:
        raise AccountError("password: at least 12 characters")
    email = email.strip().lower()
    if session.scalar(select(User).where(User.email == email)) is not None:
        raise AccountError(f"email: {email} already has an account")
    practice = session.scalar(select(Practice).where(Practice.name == practice_name))
    if practice is None:
        practice = Practice(name=practice_name)
        session.add(practice)
        session.flush()
    user = User(
        practice_id=practice.id, email=email, full_name=full_name, role=role, password_hash=hash_password(password)
    )
    session.add(user)
    session.flush()
    return user
