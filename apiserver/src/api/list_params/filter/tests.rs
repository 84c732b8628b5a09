use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use proptest::prelude::*;

use super::*;

fn runs(filter: &str) -> Result<Vec<Predicate>, ApiError> {
    parse_filter(filter, Resource::Runs)
}

fn one(resource: Resource, filter: &str) -> Predicate {
    let mut predicates = parse_filter(filter, resource).expect("filter parses");
    assert_eq!(predicates.len(), 1, "{predicates:?}");
    predicates.remove(0)
}

/// The 400 message for `filter` over `resource`.
fn error(resource: Resource, filter: &str) -> String {
    let err = parse_filter(filter, resource).expect_err("filter is rejected");
    assert_eq!(err.status.as_u16(), 400, "{err:?}");
    assert_eq!(err.code, 3, "{err:?}");
    err.message
}

fn text(column: &'static str, op: Op, s: &str) -> Predicate {
    Predicate {
        column,
        op,
        value: Value::Text(s.to_owned()),
    }
}

#[test]
fn kfp_1_8_camel_case_with_numeric_op() {
    let p = one(
        Resource::Runs,
        r#"{"predicates":[{"key":"name","op":1,"stringValue":"x"}]}"#,
    );
    assert_eq!(p, text("name", Op::Equals, "x"));
}

#[test]
fn kfp_2_operation_and_display_name() {
    let p = one(
        Resource::Runs,
        r#"{"predicates":[{"key":"display_name","operation":"EQUALS","string_value":"x"}]}"#,
    );
    assert_eq!(p, text("name", Op::Equals, "x"));
    let p = one(
        Resource::Pipelines,
        r#"{"predicates":[{"key":"display_name","operation":1,"stringValue":"x"}]}"#,
    );
    assert_eq!(p, text("display_name", Op::Equals, "x"));
}

#[test]
fn every_operation_by_name_and_number() {
    for (name, number, op) in OPS {
        let value = if *op == Op::In {
            r#""string_values":{"values":["a","b"]}"#
        } else {
            r#""string_value":"a""#
        };
        for op_json in [format!("\"{name}\""), number.to_string()] {
            let filter =
                format!(r#"{{"predicates":[{{"key":"description","op":{op_json},{value}}}]}}"#);
            let p = one(Resource::Runs, &filter);
            assert_eq!(p.op, *op, "{filter}");
            assert_eq!(p.column, "description");
        }
        assert_eq!(op_from_name(name), Some(*op));
        assert_eq!(op_name(*op), *name);
    }
}

#[test]
fn predicates_are_anded_in_order() {
    let predicates = runs(
        r#"{"predicates":[
            {"key":"experiment_id","op":"EQUALS","string_value":"e1"},
            {"key":"storage_state","op":"NOT_EQUALS","string_value":"STORAGESTATE_ARCHIVED"}
        ]}"#,
    )
    .expect("two predicates");
    assert_eq!(
        predicates,
        vec![
            text("experiment_id", Op::Equals, "e1"),
            text("storage_state", Op::NotEquals, "ARCHIVED"),
        ]
    );
}

#[test]
fn value_is_url_unescaped_once_more() {
    let json = r#"{"predicates":[{"key":"name","op":"EQUALS","string_value":"a b+c/d%e"}]}"#;
    // The UI encodes with encodeURIComponent before the query string is encoded again.
    let encoded = utf8_percent_encode(json, NON_ALPHANUMERIC).to_string();
    assert_eq!(
        one(Resource::Runs, &encoded),
        text("name", Op::Equals, "a b+c/d%e")
    );
    // As Go's QueryUnescape: an unencoded '+' is a space.
    let p = one(
        Resource::Runs,
        r#"{"predicates":[{"key":"name","op":"EQUALS","string_value":"a+b"}]}"#,
    );
    assert_eq!(p, text("name", Op::Equals, "a b"));
}

#[test]
fn timestamps_and_ints_on_timestamp_columns() {
    let p = one(
        Resource::Runs,
        r#"{"predicates":[{"key":"created_at","op":"GREATER_THAN","timestamp_value":"2024-01-02T03:04:05Z"}]}"#,
    );
    assert_eq!(p.value, Value::Int(1_704_164_645));
    let p = one(
        Resource::Experiments,
        r#"{"predicates":[{"key":"last_run_created_at","op":6,"timestampValue":"2024-01-02T04:04:05.9+01:00"}]}"#,
    );
    assert_eq!((p.op, p.value), (Op::LessThan, Value::Int(1_704_164_645)));
    let p = one(
        Resource::Jobs,
        r#"{"predicates":[{"key":"updated_at","op":"GREATER_THAN_EQUALS","int_value":5}]}"#,
    );
    assert_eq!(p.value, Value::Int(5));
    // '+' of an offset sent unencoded became a space in the second unescape.
    let p = one(
        Resource::Runs,
        r#"{"predicates":[{"key":"created_at","op":"GREATER_THAN","timestamp_value":"2024-01-02T04:04:05+01:00"}]}"#,
    );
    assert_eq!(p.value, Value::Int(1_704_164_645));
    let p = one(
        Resource::Runs,
        r#"{"predicates":[{"key":"finished_at","op":"LESS_THAN_EQUALS","longValue":"9007199254740993"}]}"#,
    );
    assert_eq!(p.value, Value::Int(9_007_199_254_740_993));
    let p = one(
        Resource::Runs,
        r#"{"predicates":[{"key":"scheduled_at","op":"IN","long_values":{"values":["1",2]}}]}"#,
    );
    assert_eq!(p.value, Value::Ints(vec![1, 2]));
    let p = one(
        Resource::Runs,
        r#"{"predicates":[{"key":"created_at","op":"IN","intValues":{"values":[3,"4"]}}]}"#,
    );
    assert_eq!(p.value, Value::Ints(vec![3, 4]));
}

#[test]
fn storage_state_spellings_are_normalized() {
    for resource in [Resource::Runs, Resource::Experiments] {
        for (given, stored) in [
            ("STORAGESTATE_ARCHIVED", "ARCHIVED"),
            ("ARCHIVED", "ARCHIVED"),
            ("STORAGE_STATE_ARCHIVED", "ARCHIVED"),
            ("archived", "ARCHIVED"),
            ("STORAGESTATE_AVAILABLE", "AVAILABLE"),
            ("AVAILABLE", "AVAILABLE"),
            ("STORAGE_STATE_AVAILABLE", "AVAILABLE"),
        ] {
            let filter = format!(
                r#"{{"predicates":[{{"key":"storage_state","op":"EQUALS","string_value":"{given}"}}]}}"#
            );
            assert_eq!(
                one(resource, &filter).value,
                Value::Text(stored.to_owned()),
                "{given}"
            );
        }
    }
    let p = one(
        Resource::Runs,
        r#"{"predicates":[{"key":"storage_state","op":"IN","string_values":{"values":["STORAGESTATE_ARCHIVED","AVAILABLE"]}}]}"#,
    );
    assert_eq!(
        p.value,
        Value::Texts(vec!["ARCHIVED".to_owned(), "AVAILABLE".to_owned()])
    );
    let msg = error(
        Resource::Runs,
        r#"{"predicates":[{"key":"storage_state","op":"EQUALS","string_value":"DELETED"}]}"#,
    );
    assert!(
        msg.starts_with("filter.predicates[0]: unknown storage state 'DELETED'"),
        "{msg}"
    );
}

#[test]
fn v2_run_states_become_v1_phases() {
    for (given, stored) in [
        ("SUCCEEDED", "Succeeded"),
        ("FAILED", "Failed"),
        ("RUNNING", "Running"),
        ("PENDING", "Pending"),
        ("SKIPPED", "Skipped"),
        ("CANCELED", "Failed"),
        ("CANCELING", "Terminating"),
        ("Succeeded", "Succeeded"),
        ("Error", "Error"),
        ("PAUSED", "PAUSED"),
    ] {
        for key in ["state", "status"] {
            let filter = format!(
                r#"{{"predicates":[{{"key":"{key}","operation":"EQUALS","string_value":"{given}"}}]}}"#
            );
            assert_eq!(
                one(Resource::Runs, &filter),
                text("status", Op::Equals, stored)
            );
        }
    }
    let p = one(
        Resource::Runs,
        r#"{"predicates":[{"key":"state","operation":"IN","string_values":{"values":["SUCCEEDED","FAILED"]}}]}"#,
    );
    assert_eq!(
        p.value,
        Value::Texts(vec!["Succeeded".to_owned(), "Failed".to_owned()])
    );
    // Only runs: pipeline versions have a status column of their own.
    let p = one(
        Resource::PipelineVersions,
        r#"{"predicates":[{"key":"status","op":"EQUALS","string_value":"FAILED"}]}"#,
    );
    assert_eq!(p, text("status", Op::Equals, "FAILED"));
}

#[test]
fn substring_on_text_is_kept_as_given() {
    let p = one(
        Resource::Runs,
        r#"{"predicates":[{"key":"name","op":"IS_SUBSTRING","string_value":"exp"}]}"#,
    );
    assert_eq!(p, text("name", Op::IsSubstring, "exp"));
    let p = one(
        Resource::Runs,
        r#"{"predicates":[{"key":"storage_state","op":"IS_SUBSTRING","string_value":"ARCH"}]}"#,
    );
    assert_eq!(p.value, Value::Text("ARCH".to_owned()));
}

#[test]
fn empty_filters_and_nulls() {
    for filter in [
        "",
        "  ",
        "{}",
        r#"{"predicates":null}"#,
        r#"{"predicates":[]}"#,
    ] {
        assert_eq!(runs(filter).expect(filter), Vec::new(), "{filter}");
    }
    let p = one(
        Resource::Runs,
        r#"{"predicates":[{"key":"name","op":"EQUALS","int_value":null,"string_value":"x"}]}"#,
    );
    assert_eq!(p, text("name", Op::Equals, "x"));
}

#[test]
fn every_error_names_its_place() {
    let p = |body: &str| format!(r#"{{"predicates":[{body}]}}"#);
    let cases: Vec<(String, &str)> = vec![
        ("{".into(), "filter: not valid JSON"),
        ("[]".into(), "filter: must be a JSON object"),
        (
            r#"{"predicate":[]}"#.into(),
            "filter: unknown field 'predicate'",
        ),
        (
            r#"{"predicates":{}}"#.into(),
            "filter.predicates: must be a list",
        ),
        (p("1"), "filter.predicates[0]: must be an object"),
        (
            p(r#"{"op":1,"string_value":"x"}"#),
            "filter.predicates[0].key: missing",
        ),
        (
            p(r#"{"key":1,"op":1,"string_value":"x"}"#),
            "filter.predicates[0].key: must be a string",
        ),
        (
            p(r#"{"key":"nme","op":1,"string_value":"x"}"#),
            "filter.predicates[0].key: unknown field 'nme' for runs; known: id, run_id, name, display_name, created_at",
        ),
        (
            p(r#"{"key":"name","string_value":"x"}"#),
            "filter.predicates[0].op: missing",
        ),
        (
            p(r#"{"key":"name","op":"EQUAL","string_value":"x"}"#),
            "filter.predicates[0].op: unknown operation \"EQUAL\"",
        ),
        (
            p(r#"{"key":"name","op":"UNKNOWN","string_value":"x"}"#),
            "unknown operation",
        ),
        (
            p(r#"{"key":"name","op":0,"string_value":"x"}"#),
            "filter.predicates[0].op: unknown operation 0",
        ),
        (
            p(r#"{"key":"name","operation":4,"string_value":"x"}"#),
            "filter.predicates[0].operation: unknown operation 4",
        ),
        (
            p(r#"{"key":"name","op":true,"string_value":"x"}"#),
            "must be an operation name or number",
        ),
        (
            p(r#"{"key":"name","op":1,"operation":1,"string_value":"x"}"#),
            "both 'op' and 'operation' given",
        ),
        (
            p(r#"{"key":"name","op":1}"#),
            "filter.predicates[0]: no value; give one of int_value, long_value, string_value",
        ),
        (
            p(r#"{"key":"name","op":1,"stringValue":"x","intValue":1}"#),
            "both 'string_value' and 'int_value' given",
        ),
        (
            p(r#"{"key":"name","op":1,"value":"x"}"#),
            "filter.predicates[0]: unknown field 'value'",
        ),
        (
            p(r#"{"key":"created_at","op":1,"int_value":2147483648}"#),
            "filter.predicates[0].int_value: 2147483648 is not an int32",
        ),
        (
            p(r#"{"key":"created_at","op":1,"int_value":"abc"}"#),
            "is not an int32",
        ),
        (
            p(r#"{"key":"created_at","op":1,"int_value":1.5}"#),
            "is not an int32",
        ),
        (
            p(r#"{"key":"created_at","op":1,"long_value":"9223372036854775808"}"#),
            "filter.predicates[0].long_value: \"9223372036854775808\" is not an int64",
        ),
        (
            p(r#"{"key":"name","op":1,"string_value":5}"#),
            "filter.predicates[0].string_value: must be a string",
        ),
        (
            p(r#"{"key":"created_at","op":1,"timestamp_value":"2024-13-01T00:00:00Z"}"#),
            "filter.predicates[0].timestamp_value: '2024-13-01T00:00:00Z' is not an RFC 3339 timestamp",
        ),
        (
            p(r#"{"key":"created_at","op":1,"timestamp_value":1}"#),
            "timestamp_value: must be a string",
        ),
        (
            p(r#"{"key":"name","op":"IN","string_values":["a"]}"#),
            "filter.predicates[0].string_values: must be {\"values\": [...]}",
        ),
        (
            p(r#"{"key":"name","op":"IN","string_values":{"value":["a"]}}"#),
            "string_values: must be {\"values\": [...]}",
        ),
        (
            p(r#"{"key":"name","op":"IN","string_values":{"values":["a",2]}}"#),
            "filter.predicates[0].string_values.values[1]: must be a string",
        ),
        (
            p(r#"{"key":"name","op":"IN","int_values":{"values":[1,"x"]}}"#),
            "filter.predicates[0].int_values.values[1]: \"x\" is not an int32",
        ),
        (
            p(r#"{"key":"name","op":1,"int_value":1}"#),
            "filter.predicates[0]: 'name' is text; give string_value",
        ),
        (
            p(r#"{"key":"name","op":1,"timestamp_value":"2024-01-01T00:00:00Z"}"#),
            "'name' is text",
        ),
        (
            p(r#"{"key":"created_at","op":1,"string_value":"2024-01-01"}"#),
            "filter.predicates[0]: 'created_at' is a timestamp; give timestamp_value",
        ),
        (
            p(r#"{"key":"name","op":"IN","string_value":"a"}"#),
            "filter.predicates[0]: IN needs a list",
        ),
        (
            p(r#"{"key":"name","op":"IN","string_values":{"values":[]}}"#),
            "IN needs at least one value",
        ),
        (
            p(r#"{"key":"name","op":"IN","string_values":{}}"#),
            "IN needs at least one value",
        ),
        (
            p(r#"{"key":"name","op":"EQUALS","string_values":{"values":["a"]}}"#),
            "filter.predicates[0]: EQUALS compares one value",
        ),
        (
            p(r#"{"key":"created_at","op":"IS_SUBSTRING","int_value":1}"#),
            "IS_SUBSTRING applies only to text fields, and 'created_at' is a timestamp",
        ),
        (
            format!(
                r#"{{"predicates":[{{"key":"name","op":1,"string_value":"a"}},{}]}}"#,
                r#"{"key":"x"}"#
            ),
            "filter.predicates[1].key: unknown field 'x'",
        ),
        (
            r#"{"predicates":[{"key":"name","op":1,"string_value":"100%"}]}"#.into(),
            "filter: invalid URL escape '%\"}'",
        ),
        ("%FF".into(), "filter: not UTF-8 after URL unescaping"),
    ];
    for (filter, expected) in cases {
        let msg = error(Resource::Runs, &filter);
        assert!(
            msg.contains(expected),
            "filter {filter}\n  gave {msg}\n  want {expected}"
        );
    }
}

#[test]
fn size_limits() {
    let predicate = r#"{"key":"name","op":"EQUALS","string_value":"a"}"#;
    let many = vec![predicate; MAX_PREDICATES + 1].join(",");
    let msg = error(Resource::Runs, &format!(r#"{{"predicates":[{many}]}}"#));
    assert!(msg.contains("at most 100 are allowed"), "{msg}");
    let at_limit = vec![predicate; MAX_PREDICATES].join(",");
    assert_eq!(
        runs(&format!(r#"{{"predicates":[{at_limit}]}}"#))
            .expect("at the limit")
            .len(),
        MAX_PREDICATES
    );
    let values = vec!["\"v\""; MAX_IN_VALUES + 1].join(",");
    let msg = error(
        Resource::Runs,
        &format!(
            r#"{{"predicates":[{{"key":"name","op":"IN","string_values":{{"values":[{values}]}}}}]}}"#
        ),
    );
    assert!(msg.contains("at most 1000 are allowed"), "{msg}");
}

#[test]
fn unknown_key_is_per_resource() {
    // `storage_state` is a run field but not a pipeline field.
    let msg = error(
        Resource::Pipelines,
        r#"{"predicates":[{"key":"storage_state","op":1,"string_value":"ARCHIVED"}]}"#,
    );
    assert!(
        msg.starts_with("filter.predicates[0].key: unknown field 'storage_state' for pipelines; known: id, pipeline_id, name, display_name"),
        "{msg}"
    );
}

proptest! {
    #[test]
    fn arbitrary_strings_never_panic(s in ".*") {
        let _ = parse_filter(&s, Resource::Runs);
    }

    #[test]
    fn arbitrary_predicates_never_panic(
        key in prop_oneof![
            Just("name".to_owned()), Just("created_at".to_owned()),
            Just("storage_state".to_owned()), Just("state".to_owned()), ".{0,8}"
        ],
        op in prop_oneof![
            (0i64..12).prop_map(|n| n.to_string()),
            Just("\"IN\"".to_owned()), Just("\"IS_SUBSTRING\"".to_owned()), Just("null".to_owned())
        ],
        value_key in prop_oneof![
            Just("string_value"), Just("intValue"), Just("long_value"), Just("timestamp_value"),
            Just("string_values"), Just("longValues"), Just("int_values"), Just("bogus")
        ],
        value in prop_oneof![
            Just("\"x\"".to_owned()), Just("1".to_owned()), Just("\"2024-01-01T00:00:00Z\"".to_owned()),
            Just("{\"values\":[\"a\",1]}".to_owned()), Just("{\"values\":[1,2]}".to_owned()),
            Just("null".to_owned()), Just("[]".to_owned()), Just("1e400".to_owned()),
            Just("-9223372036854775809".to_owned())
        ],
    ) {
        let key = serde_json::to_string(&key).expect("string");
        let filter = format!(r#"{{"predicates":[{{"key":{key},"op":{op},"{value_key}":{value}}}]}}"#);
        for resource in [Resource::Runs, Resource::Experiments, Resource::Jobs] {
            let _ = parse_filter(&filter, resource);
        }
    }
}
