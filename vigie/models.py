"""Database tables. Schemas exposed by the API live elsewhere; these are storage only."""

from __future__ import annotations

from sqlalchemy import ForeignKey, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Named constraints, so Alembic migrations are reproducible on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Epci(Base):
    """An intercommunality (EPCI), identified by its SIREN: the unit of financing and of scopes."""

    __tablename__ = "epcis"

    siren: Mapped[str] = mapped_column(String(9), primary_key=True)
    nom: Mapped[str] = mapped_column(String(200))
    communes: Mapped[list[Commune]] = relationship(back_populates="epci")


class Commune(Base):
    """A current commune, identified by its INSEE code: owner of cameras, unit of scopes."""

    __tablename__ = "communes"

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    nom: Mapped[str] = mapped_column(String(200))
    population: Mapped[int]
    epci_siren: Mapped[str | None] = mapped_column(ForeignKey("epcis.siren"), index=True)
    epci: Mapped[Epci | None] = relationship(back_populates="communes")
