//! `fraud_signal_subjects`: a citizen a fraud signal covers, with their
//! uses of the app in the signal's window.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fraud_signal_subjects")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub signal_id: i64,
    pub citizen_id: i64,
    pub uses: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
