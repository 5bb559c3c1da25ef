"""PostgreSQL: the async engine and the ORM models."""
