//! Column and constraint shorthands shared by the migrations, so every table
//! spells ids, money, instants and JSON the same way on both backends.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema;

/// `id BIGINT` identity primary key (`INTEGER PRIMARY KEY AUTOINCREMENT` on
/// SQLite, so ids are never reused after a delete).
pub fn id() -> ColumnDef {
    schema::big_pk_auto("id")
}

/// A required reference to another table's id.
pub fn ref_id(name: &'static str) -> ColumnDef {
    schema::big_integer(name)
}

/// An optional reference to another table's id.
pub fn ref_id_null(name: &'static str) -> ColumnDef {
    schema::big_integer_null(name)
}

/// An instant, `timestamp with time zone` (text on SQLite).
pub fn instant(name: &'static str) -> ColumnDef {
    schema::timestamp_with_time_zone(name)
}

pub fn instant_null(name: &'static str) -> ColumnDef {
    schema::timestamp_with_time_zone_null(name)
}

/// JSON document, `jsonb` on PostgreSQL (text on SQLite).
pub fn json(name: &'static str) -> ColumnDef {
    schema::json_binary(name)
}

pub fn json_null(name: &'static str) -> ColumnDef {
    schema::json_binary_null(name)
}

/// Money in integer fen.
pub fn fen(name: &'static str) -> ColumnDef {
    schema::big_integer(name)
}

pub fn text(name: &'static str) -> ColumnDef {
    schema::text(name)
}

pub fn text_null(name: &'static str) -> ColumnDef {
    schema::text_null(name)
}

pub fn int(name: &'static str) -> ColumnDef {
    schema::integer(name)
}

pub fn int_null(name: &'static str) -> ColumnDef {
    schema::integer_null(name)
}

pub fn bigint(name: &'static str) -> ColumnDef {
    schema::big_integer(name)
}

pub fn bigint_null(name: &'static str) -> ColumnDef {
    schema::big_integer_null(name)
}

pub fn flag(name: &'static str, default: bool) -> ColumnDef {
    schema::boolean(name).default(default).take()
}

/// A foreign key `table.column -> target.id`. Deleting a referenced row is
/// refused: the records of a public marketplace are not silently removed.
pub fn fk(
    table: &'static str,
    column: &'static str,
    target: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table, column)
        .to(target, "id")
        .on_delete(ForeignKeyAction::Restrict)
        .on_update(ForeignKeyAction::Restrict)
        .take()
}

/// A foreign key whose rows are owned by the target and go with it.
pub fn fk_cascade(
    table: &'static str,
    column: &'static str,
    target: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table, column)
        .to(target, "id")
        .on_delete(ForeignKeyAction::Cascade)
        .on_update(ForeignKeyAction::Restrict)
        .take()
}

/// `idx_<table>_<cols>` on the given columns.
pub fn index(table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(format!("idx_{table}_{}", cols.join("_")))
        .table(table);
    for col in cols {
        stmt.col(*col);
    }
    stmt.take()
}

/// `uq_<table>_<cols>`, a unique index on the given columns.
pub fn unique(table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(format!("uq_{table}_{}", cols.join("_")))
        .table(table)
        .unique();
    for col in cols {
        stmt.col(*col);
    }
    stmt.take()
}

pub async fn create_indexes(
    manager: &SchemaManager<'_>,
    indexes: Vec<IndexCreateStatement>,
) -> Result<(), DbErr> {
    for idx in indexes {
        manager.create_index(idx).await?;
    }
    Ok(())
}

/// Drops tables in the order given (dependents first).
pub async fn drop_tables(
    manager: &SchemaManager<'_>,
    tables: &[&'static str],
) -> Result<(), DbErr> {
    for table in tables {
        manager
            .drop_table(Table::drop().table(*table).to_owned())
            .await?;
    }
    Ok(())
}
