//! Building SQL with bound parameters, and running a [`ListQuery`] as a keyset-paginated
//! SELECT plus a count: a sum of kept counts when they answer the list's scope and filter
//! (see [`Counts`]), COUNT(*) otherwise.
//!
//! Only `&'static str` column and table names (from `crate::list` and this module) and
//! generated `$n` placeholders are ever written into SQL text; every value is bound. That is
//! what makes the `AssertSqlSafe` wrappers below sound.

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, AnyPool, AssertSqlSafe, Row};

use super::error::StoreError;
use crate::list::{Cursor, CursorValue, Kind, ListQuery, Op, Page, Predicate, Resource, Value};

/// A value to bind. Owned so a built statement can outlive its inputs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    Int(i64),
    Text(String),
}

impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg::Text(s.to_string())
    }
}

impl From<i64> for Arg {
    fn from(i: i64) -> Arg {
        Arg::Int(i)
    }
}

/// SQL text with its arguments, numbered `$1..` in the order they were added.
#[derive(Debug, Default)]
pub(crate) struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    pub(crate) fn new(text: &str) -> Sql {
        Sql {
            text: text.to_string(),
            args: Vec::new(),
        }
    }

    /// Appends trusted SQL text (never client data).
    pub(crate) fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `arg`.
    pub(crate) fn arg(&mut self, arg: Arg) -> &mut Sql {
        self.args.push(arg);
        let n = self.args.len();
        self.text.push_str(&format!("${n}"));
        self
    }

    #[cfg(test)]
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    pub(crate) fn build(&self) -> Query<'static, Any, AnyArguments> {
        let mut query = sqlx::query(AssertSqlSafe(self.text.clone()));
        for arg in &self.args {
            query = match arg {
                Arg::Int(v) => query.bind(*v),
                Arg::Text(v) => query.bind(v.clone()),
            };
        }
        query
    }
}

/// How to read one resource's rows for a list.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ListSpec<T> {
    pub resource: Resource,
    pub columns: &'static str,
    pub decode: fn(&AnyRow) -> Result<T, sqlx::Error>,
    /// Kept counts of the resource's rows, if the store maintains any.
    pub counts: Option<Counts>,
}

/// Counts of a resource's rows kept in another table, changed in the same transaction as
/// every write that adds, removes or regroups rows: one row there per group of rows, with
/// the value the group's rows share in each of `keys`, and one count column per value of
/// `split` (a column with few values).
///
/// A condition on the key and split columns alone holds for all of a group's rows with a
/// given split value or for none, so the sum of the counts of the groups and values it
/// holds for is exactly the COUNT(*) of the rows it selects, whatever the operators: the
/// key conditions are applied to the counts table's rows and the split conditions to each
/// split value (bound as a parameter, so compared by the database like the column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    pub table: &'static str,
    /// (resource column, counts table column holding the group's value).
    pub keys: &'static [(&'static str, &'static str)],
    /// The split column and, for each of its values, the counts table column counting the
    /// group's rows with that value.
    pub split: (&'static str, &'static [(&'static str, &'static str)]),
}

impl Counts {
    /// The counts table's column for a key column of the resource.
    fn key(&self, column: &str) -> Option<&'static str> {
        self.keys
            .iter()
            .find(|(resource_column, _)| *resource_column == column)
            .map(|(_, counts_column)| *counts_column)
    }

    /// Whether a list scoped and filtered on key and split columns only can be counted
    /// here.
    fn answers(&self, scope: &[(&'static str, &str)], predicates: &[Predicate]) -> bool {
        scope
            .iter()
            .map(|(column, _)| *column)
            .chain(predicates.iter().map(|p| p.column))
            .all(|column| column == self.split.0 || self.key(column).is_some())
    }

    /// `SELECT <sum> FROM <table> WHERE <key conditions>` for a scope and predicates it
    /// answers.
    fn total_sql(
        &self,
        resource: Resource,
        scope: &[(&'static str, &str)],
        predicates: &[Predicate],
    ) -> Result<Sql, StoreError> {
        // The scope is equalities: predicates like the others.
        let all: Vec<Predicate> = scope
            .iter()
            .map(|(column, value)| Predicate {
                column,
                op: Op::Equals,
                value: Value::Text((*value).to_string()),
            })
            .chain(predicates.iter().cloned())
            .collect();
        let (on_split, on_keys): (Vec<&Predicate>, Vec<&Predicate>) =
            all.iter().partition(|p| p.column == self.split.0);
        // SUM of a BIGINT is NUMERIC on PostgreSQL, and NULL over no rows.
        let mut sql = Sql::new("SELECT CAST(COALESCE(SUM(");
        for (i, (value, count_column)) in self.split.1.iter().enumerate() {
            if i > 0 {
                sql.push(" + ");
            }
            if on_split.is_empty() {
                sql.push(count_column);
            } else {
                sql.push("CASE WHEN 1 = 1");
                for p in &on_split {
                    push_predicate_on(&mut sql, resource, p, Operand::Value(value))?;
                }
                sql.push(" THEN ").push(count_column).push(" ELSE 0 END");
            }
        }
        sql.push("), 0) AS BIGINT) AS n FROM ")
            .push(self.table)
            .push(" WHERE 1 = 1");
        for p in on_keys {
            let column = self.key(p.column).ok_or_else(|| {
                StoreError::Invalid(format!("{} has no counts by {}", self.table, p.column))
            })?;
            push_predicate_on(&mut sql, resource, p, Operand::Column(column))?;
        }
        Ok(sql)
    }
}

/// Runs `query` over `spec.resource`'s table, narrowed by `scope` (column = value pairs the
/// API layer derives from the URL, not from the filter).
///
/// Rows come ordered by (sort column, id) in the sort's direction; `page_size + 1` are
/// fetched and the extra one, if any, becomes the cursor of the next page. The cursor
/// condition `(col > v) OR (col = v AND id >= k)` (mirrored when descending) lets both
/// backends walk the (…, created_at, id) indexes.
pub(crate) async fn list<T>(
    pool: &AnyPool,
    spec: ListSpec<T>,
    query: &ListQuery,
    scope: &[(&'static str, &str)],
) -> Result<Page<T>, StoreError> {
    if !(1..=200).contains(&query.page_size) {
        return Err(StoreError::Invalid(format!(
            "page size {} is outside 1..=200",
            query.page_size
        )));
    }
    let table = spec.resource.table();
    let sort = query.sort;
    let sort_kind = field_kind(spec.resource, sort.column)?;
    if is_int(sort_kind) != is_int(sort.kind) {
        return Err(StoreError::Invalid(format!(
            "sort kind {:?} does not match column {}",
            sort.kind, sort.column
        )));
    }

    let total_size: i64 = match query.known_total {
        Some(total) => total,
        None => count_sql(&spec, scope, &query.predicates)?
            .build()
            .fetch_one(pool)
            .await?
            .try_get("n")?,
    };

    let mut select = Sql::new("SELECT ");
    select
        .push(spec.columns)
        .push(", ")
        .push(sort.column)
        .push(" AS sort_key FROM ")
        .push(table);
    push_where(&mut select, spec.resource, scope, &query.predicates)?;
    if let Some(cursor) = &query.after {
        push_cursor(
            &mut select,
            sort.column,
            is_int(sort_kind),
            sort.desc,
            cursor,
        )?;
    }
    let dir = if sort.desc { " DESC" } else { " ASC" };
    select
        .push(" ORDER BY ")
        .push(sort.column)
        .push(dir)
        .push(", id")
        .push(dir)
        .push(" LIMIT ")
        .arg(Arg::Int(i64::from(query.page_size) + 1));
    let mut rows = select.build().fetch_all(pool).await?;

    let next = if rows.len() > query.page_size as usize {
        let extra = rows
            .pop()
            .ok_or_else(|| StoreError::Invalid("empty page".into()))?;
        let sort_value = if is_int(sort_kind) {
            CursorValue::Int(extra.try_get("sort_key")?)
        } else {
            CursorValue::Text(extra.try_get("sort_key")?)
        };
        Some(Cursor {
            sort_value,
            id: extra.try_get("id")?,
        })
    } else {
        None
    };
    let items = rows
        .iter()
        .map(spec.decode)
        .collect::<Result<Vec<T>, sqlx::Error>>()?;
    Ok(Page {
        items,
        next,
        total_size,
    })
}

/// The statement counting the rows a list selects (over all pages): a sum of the kept
/// counts when they answer the list's scope and predicates, COUNT(*) otherwise.
fn count_sql<T>(
    spec: &ListSpec<T>,
    scope: &[(&'static str, &str)],
    predicates: &[Predicate],
) -> Result<Sql, StoreError> {
    if let Some(counts) = spec.counts.filter(|c| c.answers(scope, predicates)) {
        return counts.total_sql(spec.resource, scope, predicates);
    }
    let mut sql = Sql::new("SELECT COUNT(*) AS n FROM ");
    sql.push(spec.resource.table());
    push_where(&mut sql, spec.resource, scope, predicates)?;
    Ok(sql)
}

/// ` WHERE` + scope equalities + predicates, all AND-ed (the same for the count and the page).
fn push_where(
    sql: &mut Sql,
    resource: Resource,
    scope: &[(&'static str, &str)],
    predicates: &[Predicate],
) -> Result<(), StoreError> {
    sql.push(" WHERE 1 = 1");
    for (column, value) in scope {
        sql.push(" AND ")
            .push(column)
            .push(" = ")
            .arg(Arg::Text((*value).to_string()));
    }
    for predicate in predicates {
        push_predicate(sql, resource, predicate)?;
    }
    Ok(())
}

fn is_int(kind: Kind) -> bool {
    matches!(kind, Kind::Int | Kind::Timestamp)
}

/// The kind of `column` if the resource lists it; anything else is refused.
fn field_kind(resource: Resource, column: &str) -> Result<Kind, StoreError> {
    resource
        .fields()
        .iter()
        .find(|f| f.column == column)
        .map(|f| f.kind)
        .ok_or_else(|| {
            StoreError::Invalid(format!("{} cannot be listed by {column}", resource.table()))
        })
}

/// What a predicate is evaluated on.
#[derive(Debug, Clone, Copy)]
enum Operand {
    /// A column (of the resource's table, or the counts table's column for it).
    Column(&'static str),
    /// A value the predicate's column may hold, bound as a parameter.
    Value(&'static str),
}

impl Operand {
    fn push(self, sql: &mut Sql) -> &mut Sql {
        match self {
            Operand::Column(column) => sql.push(column),
            Operand::Value(value) => sql.arg(Arg::Text(value.to_string())),
        }
    }
}

fn push_predicate(sql: &mut Sql, resource: Resource, p: &Predicate) -> Result<(), StoreError> {
    push_predicate_on(sql, resource, p, Operand::Column(p.column))
}

/// ` AND <p>` with `p`'s column replaced by `operand` (checked against `p`'s column).
fn push_predicate_on(
    sql: &mut Sql,
    resource: Resource,
    p: &Predicate,
    operand: Operand,
) -> Result<(), StoreError> {
    let int_column = is_int(field_kind(resource, p.column)?);
    let mismatch = || {
        StoreError::Invalid(format!(
            "{:?} with {:?} does not fit column {}",
            p.op, p.value, p.column
        ))
    };
    let scalar = |v: &Value| match (v, int_column) {
        (Value::Int(i), true) => Ok(Arg::Int(*i)),
        (Value::Text(s), false) => Ok(Arg::Text(s.clone())),
        _ => Err(mismatch()),
    };
    sql.push(" AND ");
    let compare = |sql: &mut Sql, op: &str| -> Result<(), StoreError> {
        operand.push(sql).push(op).arg(scalar(&p.value)?);
        Ok(())
    };
    match p.op {
        Op::Equals => compare(sql, " = ")?,
        // NULL counts as "not equal" (SQL's `<>` alone would drop it).
        Op::NotEquals => {
            sql.push("(");
            compare(sql, " <> ")?;
            sql.push(" OR ");
            operand.push(sql).push(" IS NULL)");
        }
        Op::GreaterThan => compare(sql, " > ")?,
        Op::GreaterThanEquals => compare(sql, " >= ")?,
        Op::LessThan => compare(sql, " < ")?,
        Op::LessThanEquals => compare(sql, " <= ")?,
        Op::In => {
            let args: Vec<Arg> = match (&p.value, int_column) {
                (Value::Ints(v), true) => v.iter().map(|i| Arg::Int(*i)).collect(),
                (Value::Texts(v), false) => v.iter().map(|s| Arg::Text(s.clone())).collect(),
                _ => return Err(mismatch()),
            };
            if args.is_empty() {
                sql.push("1 = 0");
            } else {
                operand.push(sql).push(" IN (");
                for (i, arg) in args.into_iter().enumerate() {
                    if i > 0 {
                        sql.push(", ");
                    }
                    sql.arg(arg);
                }
                sql.push(")");
            }
        }
        // Case-insensitive like KFP on MySQL; LIKE wildcards in the value are escaped.
        Op::IsSubstring => match (&p.value, int_column) {
            (Value::Text(s), false) => {
                sql.push("LOWER(");
                operand
                    .push(sql)
                    .push(") LIKE '%' || LOWER(")
                    .arg(Arg::Text(escape_like(s)))
                    .push(") || '%' ESCAPE '\\'");
            }
            _ => return Err(mismatch()),
        },
    }
    Ok(())
}

/// Escapes `\`, `%` and `_` for `LIKE ... ESCAPE '\'`.
fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn push_cursor(
    sql: &mut Sql,
    column: &'static str,
    int_column: bool,
    desc: bool,
    cursor: &Cursor,
) -> Result<(), StoreError> {
    let value = match (&cursor.sort_value, int_column) {
        (CursorValue::Int(i), true) => Arg::Int(*i),
        (CursorValue::Text(s), false) => Arg::Text(s.clone()),
        _ => {
            return Err(StoreError::Invalid(format!(
                "page token value does not fit column {column}"
            )));
        }
    };
    // A row-value comparison, same meaning as `col > v OR (col = v AND id >= k)`, but
    // one both databases answer with a single index range seek (PostgreSQL walked the
    // index from the start of the range with the OR form: a deep page cost 10x more).
    let inclusive = if desc { " <= " } else { " >= " };
    sql.push(" AND (")
        .push(column)
        .push(", id)")
        .push(inclusive)
        .push("(")
        .arg(value)
        .push(", ")
        .arg(Arg::Text(cursor.id.clone()))
        .push(")");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(escape_like(r"50%_a\b"), r"50\%\_a\\b");
    }

    #[test]
    fn predicates_bind_one_placeholder_per_value() {
        let mut sql = Sql::new("SELECT 1 FROM runs");
        let predicates = [
            Predicate {
                column: "status",
                op: Op::In,
                value: Value::Texts(vec!["a".into(), "b".into()]),
            },
            Predicate {
                column: "name",
                op: Op::IsSubstring,
                value: Value::Text("x".into()),
            },
        ];
        push_where(
            &mut sql,
            Resource::Runs,
            &[("experiment_id", "e")],
            &predicates,
        )
        .expect("valid predicates");
        assert_eq!(
            sql.text(),
            "SELECT 1 FROM runs WHERE 1 = 1 AND experiment_id = $1 AND status IN ($2, $3) \
             AND LOWER(name) LIKE '%' || LOWER($4) || '%' ESCAPE '\\'"
        );
    }

    /// The counts answer scopes and filters on their key and split columns only: key
    /// conditions on the counts table's columns, split conditions on each split value;
    /// any other column, or a resource without counts, is a COUNT(*).
    #[test]
    fn totals_come_from_counts_only_when_they_answer() {
        let spec = |counts| ListSpec::<()> {
            resource: Resource::Runs,
            columns: "id",
            decode: |_| Ok(()),
            counts,
        };
        let counts = Some(crate::store::runs::RUN_COUNTS);
        let state = Predicate {
            column: "storage_state",
            op: Op::NotEquals,
            value: Value::Text("ARCHIVED".into()),
        };
        let name = Predicate {
            column: "name",
            op: Op::Equals,
            value: Value::Text("x".into()),
        };
        let text = |spec: ListSpec<()>, scope: &[(&'static str, &str)], p: &[Predicate]| {
            let sql = count_sql(&spec, scope, p).expect("valid");
            (sql.text().to_string(), sql.args.clone())
        };
        assert_eq!(
            text(
                spec(counts),
                &[("experiment_id", "e")],
                std::slice::from_ref(&state)
            ),
            (
                "SELECT CAST(COALESCE(SUM(\
                 CASE WHEN 1 = 1 AND ($1 <> $2 OR $3 IS NULL) THEN available_runs ELSE 0 END + \
                 CASE WHEN 1 = 1 AND ($4 <> $5 OR $6 IS NULL) THEN archived_runs ELSE 0 END\
                 ), 0) AS BIGINT) AS n FROM experiments WHERE 1 = 1 AND id = $7"
                    .to_string(),
                [
                    "AVAILABLE",
                    "ARCHIVED",
                    "AVAILABLE",
                    "ARCHIVED",
                    "ARCHIVED",
                    "ARCHIVED",
                    "e"
                ]
                .map(Arg::from)
                .to_vec()
            )
        );
        assert_eq!(
            text(spec(counts), &[("namespace", "ns")], &[]).0,
            "SELECT CAST(COALESCE(SUM(available_runs + archived_runs), 0) AS BIGINT) AS n \
             FROM experiments WHERE 1 = 1 AND namespace = $1"
        );
        assert!(
            text(spec(counts), &[], &[])
                .0
                .contains("FROM experiments WHERE 1 = 1")
        );
        for (scope, predicates) in [
            (
                vec![("experiment_id", "e")],
                vec![state.clone(), name.clone()],
            ),
            (vec![("job_id", "j")], vec![]),
            (vec![("pipeline_version_id", "v")], vec![state.clone()]),
        ] {
            assert!(
                text(spec(counts), &scope, &predicates)
                    .0
                    .starts_with("SELECT COUNT(*) AS n FROM runs WHERE"),
                "{scope:?} {predicates:?}"
            );
        }
        assert!(
            text(spec(None), &[], &[])
                .0
                .starts_with("SELECT COUNT(*) AS n FROM runs")
        );
    }

    #[test]
    fn unknown_columns_and_kind_mismatches_are_invalid() {
        let mut sql = Sql::default();
        let bad_column = Predicate {
            column: "workflow_manifest",
            op: Op::Equals,
            value: Value::Text("x".into()),
        };
        assert!(push_predicate(&mut sql, Resource::Runs, &bad_column).is_err());
        let bad_kind = Predicate {
            column: "created_at",
            op: Op::Equals,
            value: Value::Text("x".into()),
        };
        assert!(push_predicate(&mut sql, Resource::Runs, &bad_kind).is_err());
    }
}
