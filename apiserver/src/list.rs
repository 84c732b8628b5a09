//! What a List request asks the store for, after the wire format is parsed: filters,
//! one sort key and a keyset cursor, over columns named by a fixed table per resource.
//!
//! The API layer turns KFP's `filter`/`sort_by`/`page_token` into a [`ListQuery`] using
//! [`Resource::fields`]; the store turns a [`ListQuery`] into SQL. Column names only ever
//! come from the tables below (`&'static str`), and values are always bound parameters,
//! so nothing a client sends is interpolated into SQL.

/// A comparison of a filter predicate (KFP's `Predicate.Op`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Equals,
    NotEquals,
    GreaterThan,
    GreaterThanEquals,
    LessThan,
    LessThanEquals,
    /// The column equals one of a list of values.
    In,
    /// The column (text) contains the value.
    IsSubstring,
}

/// A predicate's value, already converted to the column's kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Int(i64),
    Text(String),
    Ints(Vec<i64>),
    Texts(Vec<String>),
}

/// How a column is stored and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text compared as text.
    Text,
    /// An integer; timestamps are stored as Unix seconds in integer columns.
    Int,
    /// A timestamp: Unix seconds in an integer column; filters give RFC 3339 or seconds.
    Timestamp,
}

/// One listable field of a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Names clients use (v1 and v2 spellings).
    pub api_names: &'static [&'static str],
    /// The column in the resource's table.
    pub column: &'static str,
    pub kind: Kind,
}

/// `column op value`, AND-ed with the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Predicate {
    pub column: &'static str,
    pub op: Op,
    pub value: Value,
}

/// The sort column and direction; the row ID breaks ties in the same direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub column: &'static str,
    pub kind: Kind,
    pub desc: bool,
}

/// Where the next page starts: the sort value and ID of its first row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub sort_value: CursorValue,
    pub id: String,
}

/// The sort column's value in a cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CursorValue {
    Int(i64),
    Text(String),
}

/// A List request for the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub predicates: Vec<Predicate>,
    pub sort: Sort,
    /// 1..=200.
    pub page_size: u32,
    /// Rows from this one on (inclusive); `None` for the first page.
    pub after: Option<Cursor>,
    /// The total counted for the first page, carried by the page token: later pages do
    /// not count again (a count is most of a deep page's cost), and the total a client
    /// sees stays the same while it pages.
    pub known_total: Option<i64>,
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The first row of the next page, when there is one.
    pub next: Option<Cursor>,
    /// Rows matching the predicates, over all pages.
    pub total_size: i64,
}

/// The resources that can be listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resource {
    Pipelines,
    PipelineVersions,
    Experiments,
    Runs,
    Jobs,
}

const fn field(api_names: &'static [&'static str], column: &'static str, kind: Kind) -> Field {
    Field {
        api_names,
        column,
        kind,
    }
}

const PIPELINES: &[Field] = &[
    field(&["id", "pipeline_id"], "id", Kind::Text),
    field(&["name"], "name", Kind::Text),
    field(&["display_name"], "display_name", Kind::Text),
    field(&["created_at"], "created_at", Kind::Timestamp),
    field(&["description"], "description", Kind::Text),
    field(&["namespace"], "namespace", Kind::Text),
];

const PIPELINE_VERSIONS: &[Field] = &[
    field(&["id", "pipeline_version_id"], "id", Kind::Text),
    field(&["name", "display_name"], "name", Kind::Text),
    field(&["created_at"], "created_at", Kind::Timestamp),
    field(&["status"], "status", Kind::Text),
    field(&["description"], "description", Kind::Text),
    field(&["pipeline_id"], "pipeline_id", Kind::Text),
];

const EXPERIMENTS: &[Field] = &[
    field(&["id", "experiment_id"], "id", Kind::Text),
    field(&["name", "display_name"], "name", Kind::Text),
    field(&["created_at"], "created_at", Kind::Timestamp),
    field(
        &["last_run_created_at"],
        "last_run_created_at",
        Kind::Timestamp,
    ),
    field(&["description"], "description", Kind::Text),
    field(&["namespace"], "namespace", Kind::Text),
    field(&["storage_state"], "storage_state", Kind::Text),
];

const RUNS: &[Field] = &[
    field(&["id", "run_id"], "id", Kind::Text),
    field(&["name", "display_name"], "name", Kind::Text),
    field(&["created_at"], "created_at", Kind::Timestamp),
    field(&["finished_at"], "finished_at", Kind::Timestamp),
    field(&["scheduled_at"], "scheduled_at", Kind::Timestamp),
    field(&["description"], "description", Kind::Text),
    field(&["storage_state"], "storage_state", Kind::Text),
    field(&["status", "state"], "status", Kind::Text),
    field(&["namespace"], "namespace", Kind::Text),
    field(&["experiment_id"], "experiment_id", Kind::Text),
    field(&["recurring_run_id", "job_id"], "job_id", Kind::Text),
];

const JOBS: &[Field] = &[
    field(&["id", "recurring_run_id"], "id", Kind::Text),
    field(&["name", "display_name"], "name", Kind::Text),
    field(&["created_at"], "created_at", Kind::Timestamp),
    field(&["updated_at"], "updated_at", Kind::Timestamp),
    field(&["description"], "description", Kind::Text),
    field(&["experiment_id"], "experiment_id", Kind::Text),
];

impl Resource {
    /// The fields clients may filter and sort on.
    pub fn fields(self) -> &'static [Field] {
        match self {
            Resource::Pipelines => PIPELINES,
            Resource::PipelineVersions => PIPELINE_VERSIONS,
            Resource::Experiments => EXPERIMENTS,
            Resource::Runs => RUNS,
            Resource::Jobs => JOBS,
        }
    }

    /// The field a client calls `name` (either spelling), if it is listable.
    pub fn field(self, api_name: &str) -> Option<&'static Field> {
        self.fields()
            .iter()
            .find(|f| f.api_names.contains(&api_name))
    }

    /// The table holding the resource.
    pub fn table(self) -> &'static str {
        match self {
            Resource::Pipelines => "pipelines",
            Resource::PipelineVersions => "pipeline_versions",
            Resource::Experiments => "experiments",
            Resource::Runs => "runs",
            Resource::Jobs => "jobs",
        }
    }

    /// KFP's default order: creation time, oldest first.
    pub fn default_sort(self) -> Sort {
        Sort {
            column: "created_at",
            kind: Kind::Timestamp,
            desc: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_name_one_column() {
        let v1 = Resource::Runs.field("name").map(|f| f.column);
        let v2 = Resource::Runs.field("display_name").map(|f| f.column);
        assert_eq!(v1, Some("name"));
        assert_eq!(v1, v2);
        assert!(Resource::Runs.field("password").is_none());
    }

    #[test]
    fn every_resource_sorts_by_creation_time() {
        for r in [
            Resource::Pipelines,
            Resource::PipelineVersions,
            Resource::Experiments,
            Resource::Runs,
            Resource::Jobs,
        ] {
            let sort = r.default_sort();
            assert!(r.fields().iter().any(|f| f.column == sort.column), "{r:?}");
        }
    }
}
