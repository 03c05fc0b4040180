//! `column IN (list)` that SQLite can keep prepared.
//!
//! Diesel writes `IN (?, ?, …)` for SQLite, one placeholder per value, and so
//! never caches such a statement: a list request prepared three or four
//! statements from scratch. [`InList`] writes
//! `IN (SELECT value FROM json_each(?))` instead: one placeholder holding the
//! values as a JSON array, the same text whatever the list, cached like any
//! other statement. On PostgreSQL it is diesel's own `= ANY($1)`, which is
//! cached already.
//!
//! Only where the list does not steer the plan: the rows of a page by id, an
//! organization list beside another condition. SQLite plans a literal list
//! better when it picks the index or the order (one state of the archive
//! walks `(status, id)` in order; through `json_each` it sorted instead).

use diesel::dsl::EqAny;
use diesel::expression::{is_aggregate, AppearsOnTable, Expression, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bool, Text};
use diesel::{ExpressionMethods, QueryResult};

use crate::conn::MultiBackend;

/// `column IN (ids)`. `pg` is diesel's own form of the same comparison,
/// used on PostgreSQL.
#[derive(Debug, Clone)]
pub struct InList<C, P> {
    column: C,
    json: String,
    pg: P,
}

/// `column IN (ids)`, for a column of ids.
pub fn in_list<C>(column: C, ids: &[i64]) -> InList<C, EqAny<C, Vec<i64>>>
where
    C: Expression<SqlType = BigInt> + ExpressionMethods + Clone,
{
    InList {
        column: column.clone(),
        // A list of numbers always encodes.
        json: serde_json::to_string(ids).unwrap_or_default(),
        pg: column.eq_any(ids.to_vec()),
    }
}

impl<C, P> Expression for InList<C, P> {
    type SqlType = Bool;
}

impl<C, P, QS> AppearsOnTable<QS> for InList<C, P>
where
    C: AppearsOnTable<QS>,
    P: AppearsOnTable<QS>,
{
}

impl<C, P> ValidGrouping<()> for InList<C, P> {
    type IsAggregate = is_aggregate::Never;
}

/// The SQL of an [`InList`] depends only on its column (and the backend, and
/// each connection keeps its own statements), so a query holding one can be
/// cached by its type, without writing its SQL out first.
pub struct InListId<C>(std::marker::PhantomData<C>);

impl<C: QueryId, P> QueryId for InList<C, P> {
    type QueryId = InListId<C::QueryId>;
    const HAS_STATIC_QUERY_ID: bool = C::HAS_STATIC_QUERY_ID;
}

impl<C, P> InList<C, P> {
    /// SQLite's form: `column IN (SELECT value FROM json_each(?))`.
    fn walk_json<'b, DB>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()>
    where
        DB: diesel::backend::Backend + diesel::sql_types::HasSqlType<Text>,
        C: QueryFragment<DB>,
        String: diesel::serialize::ToSql<Text, DB>,
    {
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" IN (SELECT value FROM json_each(");
        out.push_bind_param::<Text, String>(&self.json)?;
        out.push_sql("))");
        Ok(())
    }
}

impl<C, P> QueryFragment<MultiBackend> for InList<C, P>
where
    C: QueryFragment<MultiBackend>,
    P: QueryFragment<MultiBackend>,
{
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        if matches!(out.backend(), MultiBackend::Pg(_)) {
            return self.pg.walk_ast(out);
        }
        self.walk_json(out)
    }
}

// The same on each backend's own connection (`crate::on_backend!`).

impl<C, P> QueryFragment<diesel::sqlite::Sqlite> for InList<C, P>
where
    C: QueryFragment<diesel::sqlite::Sqlite>,
{
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, diesel::sqlite::Sqlite>) -> QueryResult<()> {
        self.walk_json(out)
    }
}

impl<C, P> QueryFragment<diesel::pg::Pg> for InList<C, P>
where
    P: QueryFragment<diesel::pg::Pg>,
{
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        self.pg.walk_ast(out)
    }
}
