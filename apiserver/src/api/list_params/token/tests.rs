use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use proptest::prelude::*;

use super::*;
use crate::list::Op;

fn runs_query(sort: Sort, predicates: Vec<Predicate>) -> ListQuery {
    ListQuery {
        predicates,
        sort,
        page_size: 20,
        after: None,
        known_total: None,
    }
}

fn created_at(desc: bool) -> Sort {
    Sort {
        column: "created_at",
        kind: Kind::Timestamp,
        desc,
    }
}

fn every_value_kind() -> Vec<Predicate> {
    vec![
        Predicate {
            column: "name",
            op: Op::IsSubstring,
            value: Value::Text("nightly".to_owned()),
        },
        Predicate {
            column: "storage_state",
            op: Op::In,
            value: Value::Texts(vec!["ARCHIVED".to_owned(), "AVAILABLE".to_owned()]),
        },
        Predicate {
            column: "created_at",
            op: Op::GreaterThanEquals,
            value: Value::Int(-5),
        },
        Predicate {
            column: "finished_at",
            op: Op::In,
            value: Value::Ints(vec![1, i64::MAX]),
        },
    ]
}

/// The 400 message for `token` over `resource`.
fn error(token: &str, resource: Resource) -> String {
    let err = decode_token(token, resource).expect_err("token is rejected");
    assert_eq!(err.status.as_u16(), 400, "{err:?}");
    err.message
}

/// A token made of this JSON, as another server (or a forger) might write it.
fn forged(json: serde_json::Value) -> String {
    STANDARD.encode(json.to_string())
}

#[test]
fn round_trip_with_int_cursor_and_every_value_kind() {
    let query = runs_query(created_at(true), every_value_kind());
    let cursor = Cursor {
        sort_value: CursorValue::Int(1_704_164_645),
        id: "9b2c7e0e-0000-4000-8000-000000000001".to_owned(),
    };
    let token = encode_token(&cursor, &query, Resource::Runs, None);
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "URL-safe without padding: {token}"
    );
    let decoded = decode_token(&token, Resource::Runs).expect("own token decodes");
    assert_eq!(
        decoded,
        PageToken {
            sort: query.sort,
            predicates: query.predicates,
            cursor,
            total: None,
        }
    );
}

#[test]
fn round_trip_with_text_cursor() {
    let query = runs_query(
        Sort {
            column: "name",
            kind: Kind::Text,
            desc: false,
        },
        Vec::new(),
    );
    let cursor = Cursor {
        sort_value: CursorValue::Text("a \"quoted\" name/with+chars".to_owned()),
        id: "p2".to_owned(),
    };
    let token = encode_token(&cursor, &query, Resource::Pipelines, None);
    let decoded = decode_token(&token, Resource::Pipelines).expect("decodes");
    assert_eq!(decoded.cursor, cursor);
    assert_eq!(decoded.sort, query.sort);
    assert!(decoded.predicates.is_empty());
}

#[test]
fn next_page_token_is_empty_on_the_last_page() {
    let query = runs_query(created_at(false), Vec::new());
    let last: Page<()> = Page {
        items: Vec::new(),
        next: None,
        total_size: 3,
    };
    assert_eq!(next_page_token(&last, &query, Resource::Runs), "");
    let cursor = Cursor {
        sort_value: CursorValue::Int(7),
        id: "r9".to_owned(),
    };
    let more = Page {
        next: Some(cursor.clone()),
        ..last
    };
    let token = next_page_token(&more, &query, Resource::Runs);
    assert_eq!(
        token,
        encode_token(&cursor, &query, Resource::Runs, Some(3))
    );
    let decoded = decode_token(&token, Resource::Runs).expect("own token decodes");
    assert_eq!(decoded.total, Some(3), "the total travels with the token");
}

#[test]
fn standard_base64_padded_or_mangled_is_accepted() {
    let json = serde_json::json!({
        "resource": "experiments", "sort_column": "name", "desc": true,
        "sort_value": "b>?", "id": "e1"
    });
    let standard = STANDARD.encode(json.to_string());
    assert!(standard.ends_with('='), "{standard}");
    let expected = decode_token(&standard, Resource::Experiments).expect("standard, padded");
    assert_eq!(expected.cursor.id, "e1");
    assert!(expected.sort.desc);
    let url_safe = URL_SAFE.encode(json.to_string());
    assert_eq!(
        decode_token(&url_safe, Resource::Experiments).expect("url-safe"),
        expected
    );
    let unpadded = standard.trim_end_matches('=');
    assert_eq!(
        decode_token(unpadded, Resource::Experiments).expect("unpadded"),
        expected
    );
    // '+' turned into ' ' by an unencoded query string.
    if standard.contains('+') {
        let mangled = standard.replace('+', " ");
        assert_eq!(
            decode_token(&mangled, Resource::Experiments).expect("mangled"),
            expected
        );
    }
}

#[test]
fn garbage_tokens_are_errors() {
    let ok = serde_json::json!({
        "resource": "runs", "sort_column": "created_at", "desc": false,
        "sort_value": 5, "id": "r1"
    });
    let with = |key: &str, value: serde_json::Value| {
        let mut json = ok.clone();
        json[key] = value;
        forged(json)
    };
    assert!(decode_token(&forged(ok.clone()), Resource::Runs).is_ok());
    let cases: Vec<(String, &str)> = vec![
        ("!!!not base64!!!".to_owned(), "(not base64)"),
        ("a-b+c".to_owned(), "(not base64)"),
        (STANDARD.encode("not json"), "(bad JSON"),
        (STANDARD.encode([0xff, 0xfe, 0x00]), "(bad JSON"),
        (forged(serde_json::json!([1, 2])), "(bad JSON"),
        (forged(serde_json::json!({"resource": "runs"})), "(bad JSON"),
        (with("extra", serde_json::json!(1)), "unknown field `extra`"),
        (with("desc", serde_json::json!("yes")), "(bad JSON"),
        (with("sort_value", serde_json::json!(1.5)), "(bad JSON"),
        (
            with("resource", serde_json::json!("pipelines")),
            "page_token: the token continues a list of \"pipelines\", not of runs",
        ),
        (
            with("sort_column", serde_json::json!("uuid; DROP TABLE runs")),
            "unknown sort column \"uuid; DROP TABLE runs\"",
        ),
        (
            with("sort_column", serde_json::json!("name")),
            "the sort value does not fit the sort column",
        ),
        (
            with(
                "filter",
                serde_json::json!([{"column": "password", "op": "EQUALS", "value": "x"}]),
            ),
            "filter[0]: unknown column \"password\"",
        ),
        (
            with(
                "filter",
                serde_json::json!([{"column": "name", "op": "LIKE", "value": "x"}]),
            ),
            "filter[0]: unknown operation \"LIKE\"",
        ),
        (
            with(
                "filter",
                serde_json::json!([{"column": "name", "op": "EQUALS", "value": 1}]),
            ),
            "filter[0]: the value does not fit 'name'",
        ),
        (
            with(
                "filter",
                serde_json::json!([{"column": "created_at", "op": "IS_SUBSTRING", "value": 1}]),
            ),
            "IS_SUBSTRING applies only to text fields",
        ),
        (
            with(
                "filter",
                serde_json::json!([{"column": "name", "op": "IN", "value": "x"}]),
            ),
            "IN needs a list",
        ),
        (
            with(
                "filter",
                serde_json::json!([{"column": "name", "op": "IN", "value": []}]),
            ),
            "does not fit",
        ),
        (
            with(
                "filter",
                serde_json::json!([{"column": "created_at", "op": "IN", "value": []}]),
            ),
            "IN needs at least one value",
        ),
        (
            with("filter", serde_json::json!({"column": "name"})),
            "(bad JSON",
        ),
        ("A".repeat(MAX_TOKEN_LEN + 1), "(too long)"),
    ];
    for (token, expected) in cases {
        let msg = error(&token, Resource::Runs);
        assert!(msg.starts_with("page_token: "), "{msg}");
        assert!(
            msg.contains(expected),
            "token {token:.60}\n  gave {msg}\n  want {expected}"
        );
    }
}

proptest! {
    #[test]
    fn arbitrary_strings_never_panic(s in ".*") {
        let _ = decode_token(&s, Resource::Runs);
    }

    #[test]
    fn arbitrary_base64_payloads_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode_token(&STANDARD.encode(&bytes), Resource::Jobs);
    }

    #[test]
    fn any_cursor_round_trips(
        value in prop_oneof![any::<i64>().prop_map(CursorValue::Int), ".*".prop_map(CursorValue::Text)],
        id in ".*",
        desc in any::<bool>(),
        name in ".*",
    ) {
        let sort = match value {
            CursorValue::Int(_) => created_at(desc),
            CursorValue::Text(_) => Sort { column: "name", kind: Kind::Text, desc },
        };
        let predicates = vec![Predicate { column: "name", op: Op::Equals, value: Value::Text(name) }];
        let query = runs_query(sort, predicates);
        let cursor = Cursor { sort_value: value, id };
        let token = encode_token(&cursor, &query, Resource::Runs, None);
        let decoded = decode_token(&token, Resource::Runs).expect("own token decodes");
        prop_assert_eq!(decoded, PageToken { sort, predicates: query.predicates, cursor, total: None });
    }
}
