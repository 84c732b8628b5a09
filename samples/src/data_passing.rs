//! Passing data between tasks: files (artifacts) and values (parameters).
//!
//! - `make-csv` writes a CSV file, an artifact output of type `CSV`;
//! - `scale-csv` reads it (artifact in) and writes a scaled copy (artifact out), taking its
//!   settings from a JSON constant that it reads **as a file** (a value passed to an
//!   `inputPath`: the compiler ships it as a raw artifact);
//! - `count-rows` summarizes the scaled file into a value output (`Integer`);
//! - `report` takes that count as a parameter, and the pipeline's `title` parameter as a
//!   file (again a value into an `inputPath`).
//!
//! The DAG edges are not written anywhere: they follow from the data flow.

use kfp::prelude::*;

/// Writes `rows` rows of `id,value` (value = id squared) to the `table` CSV artifact.
pub fn make_csv() -> Component {
    Component::container("make-csv", "python:3.12-alpine")
        .description("Generate a CSV table of squares")
        .input(InputSpec::integer("rows"))
        .output(OutputSpec::artifact("table", "CSV"))
        .command([
            "python3",
            "-c",
            r#"import csv, os, sys
rows, out = int(sys.argv[1]), sys.argv[2]
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "value"])
    for i in range(1, rows + 1):
        w.writerow([i, i * i])
print(f"wrote {rows} rows to {out}")
"#,
        ])
        .args([input_value("rows"), output_path("table")])
}

/// Multiplies one column of a CSV file by a factor; both come from a JSON config file
/// such as `{"column": "value", "factor": 10}`.
pub fn scale_csv() -> Component {
    Component::container("scale-csv", "python:3.12-alpine")
        .description("Scale one column of a CSV table")
        .input(InputSpec::artifact("table", "CSV"))
        .input(InputSpec::json_object("config"))
        .output(OutputSpec::artifact("scaled", "CSV"))
        .command([
            "python3",
            "-c",
            r#"import csv, json, os, sys
src, config_path, out = sys.argv[1:4]
with open(config_path) as f:
    config = json.load(f)
column, factor = config["column"], float(config["factor"])
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(src, newline="") as fin, open(out, "w", newline="") as fout:
    reader = csv.DictReader(fin)
    writer = csv.DictWriter(fout, fieldnames=reader.fieldnames)
    writer.writeheader()
    for row in reader:
        row[column] = float(row[column]) * factor
        writer.writerow(row)
"#,
        ])
        .args([
            input_path("table"),
            input_path("config"),
            output_path("scaled"),
        ])
}

/// Counts the data rows of a CSV file (header excluded) into the `row_count` value.
pub fn count_rows() -> Component {
    Component::container("count-rows", "alpine:3.20")
        .description("Count the data rows of a CSV table")
        .input(InputSpec::artifact("table", "CSV"))
        .output(OutputSpec::integer("row_count"))
        .command([
            "sh",
            "-ec",
            r#"mkdir -p "$(dirname "$2")"
n=$(tail -n +2 "$1" | wc -l | tr -d ' ')
echo "$n rows"
printf '%s' "$n" > "$2""#,
            "count-rows",
        ])
        .args([input_path("table"), output_path("row_count")])
}

/// Prints a one-line report: a title read from a file, and a row count.
pub fn report() -> Component {
    Component::container("report", "alpine:3.20")
        .description("Print the title and the number of rows")
        .input(InputSpec::string("title"))
        .input(InputSpec::integer("rows"))
        .command(["sh", "-ec", r#"echo "$(cat "$1"): $2 rows""#, "report"])
        .args([input_path("title"), input_value("rows")])
}

/// `data-passing(rows = 10, title = "Squares")`: make → scale → count → report.
pub fn pipeline() -> Pipeline {
    let mut p = Pipeline::new("data-passing")
        .description("Pass files and values between tasks: CSV in, CSV out, a count out");
    let rows = p.param_with_default::<i64>("rows", 10);
    let title = p.param_with_default::<String>("title", "Squares".into());

    let make = p.task(make_csv().task().arg("rows", &rows));
    let scale = p.task(
        scale_csv()
            .task()
            .arg("table", make.output("table"))
            // A constant passed to a file input: it becomes the file's content.
            .arg("config", r#"{"column": "value", "factor": 10}"#),
    );
    let count = p.task(count_rows().task().arg("table", scale.output("scaled")));
    p.task(
        report()
            .task()
            // A pipeline parameter passed to a file input.
            .arg("title", &title)
            .arg("rows", count.output("row_count")),
    );
    p
}
