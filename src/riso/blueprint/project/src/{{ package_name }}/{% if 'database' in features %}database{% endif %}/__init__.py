"""The database feature: PostgreSQL through SQLAlchemy 2 (asyncio, asyncpg), Alembic migrations
(`migrations/` at the project root), and the items example (`items/`)."""
