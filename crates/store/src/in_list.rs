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

use diesel::expression::{is_aggregate, AppearsOnTable, Expression, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Bool, Text};
use diesel::QueryResult;

use crate::conn::MultiBackend;

/// `column IN (values)`. `pg` is diesel's own form of the same comparison,
/// used on PostgreSQL.
#[derive(Debug, Clone)]
pub struct InList<C, P> {
    column: C,
    json: String,
    pg: P,
}

/// A value that goes into the JSON array as SQLite compares it with the column.
pub trait JsonValue {
    fn write_json(&self, out: &mut String);
}

impl JsonValue for i64 {
    fn write_json(&self, out: &mut String) {
        use std::fmt::Write;
        let _ = write!(out, "{self}");
    }
}

impl JsonValue for str {
    fn write_json(&self, out: &mut String) {
        // serde_json escapes what JSON needs; a `String` never fails to encode.
        out.push_str(&serde_json::to_string(self).unwrap_or_default());
    }
}

impl JsonValue for String {
    fn write_json(&self, out: &mut String) {
        self.as_str().write_json(out)
    }
}

impl<T: JsonValue + ?Sized> JsonValue for &T {
    fn write_json(&self, out: &mut String) {
        (**self).write_json(out)
    }
}

fn json_array<T: JsonValue>(values: &[T]) -> String {
    let mut out = String::with_capacity(2 + values.len() * 8);
    out.push('[');
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        v.write_json(&mut out);
    }
    out.push(']');
    out
}

/// `column IN (values)`; `pg` is `column.eq_any(values)`.
pub fn in_list<C, P, T: JsonValue>(column: C, values: &[T], pg: P) -> InList<C, P> {
    InList {
        column,
        json: json_array(values),
        pg,
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

impl<C, P> QueryFragment<MultiBackend> for InList<C, P>
where
    C: QueryFragment<MultiBackend>,
    P: QueryFragment<MultiBackend>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        if matches!(out.backend(), MultiBackend::Pg(_)) {
            return self.pg.walk_ast(out);
        }
        self.column.walk_ast(out.reborrow())?;
        out.push_sql(" IN (SELECT value FROM json_each(");
        out.push_bind_param::<Text, String>(&self.json)?;
        out.push_sql("))");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_one_json_array() {
        assert_eq!(json_array::<i64>(&[]), "[]");
        assert_eq!(json_array(&[3i64, -1, 42]), "[3,-1,42]");
        assert_eq!(json_array(&["draft", "a\"b"]), r#"["draft","a\"b"]"#);
    }
}
