//! Database migrations (sea-orm-migration), for SQLite and PostgreSQL.
