"""SQLAlchemy models and repositories, one module per service; SQLite files by default,
PostgreSQL by URL."""
