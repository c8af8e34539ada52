"""The schema. Loaded on the first database request, never at cold start."""

from sqlalchemy import String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    NAME_MAX_LENGTH = 200

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH))

    @classmethod
    def all(cls, session):
        return session.scalars(select(cls).order_by(cls.id)).all()

    def to_dict(self):
        return {"id": self.id, "name": self.name}
