//! Invocations lose their foreign keys on PostgreSQL.
//!
//! Why: the usage table takes one row per use of any app (the settlement
//! benchmark loads 10 million). Measured on the 2-core build machine,
//! loading 500 000 rows took 19.8 s with the three foreign keys (app,
//! version, citizen), 8.2 s without them; the per-row trigger checks were
//! most of the cost. Rows are only written by the server from ids it has
//! just read, and settlement joins to apps and versions, so a dangling id
//! could not be paid for anyway.
//!
//! SQLite keeps the constraints: it cannot drop one without rebuilding the
//! table, and a one-node install does not load at that rate.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const FOREIGN_KEYS: [(&str, &str); 3] = [
    ("fk_invocations_app_id", "apps"),
    ("fk_invocations_version_id", "versions"),
    ("fk_invocations_citizen_id", "users"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != sea_orm_migration::sea_orm::DbBackend::Postgres {
            return Ok(());
        }
        for (name, _) in FOREIGN_KEYS {
            manager
                .drop_foreign_key(
                    ForeignKey::drop()
                        .name(name)
                        .table("invocations")
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != sea_orm_migration::sea_orm::DbBackend::Postgres {
            return Ok(());
        }
        for (name, target) in FOREIGN_KEYS {
            let column = name.trim_start_matches("fk_invocations_");
            manager
                .create_foreign_key(
                    ForeignKey::create()
                        .name(name)
                        .from("invocations", column)
                        .to(target, "id")
                        .on_delete(ForeignKeyAction::Restrict)
                        .on_update(ForeignKeyAction::Restrict)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
