//! Output for people: aligned columns, `Key: value` blocks, local times and durations.

use chrono::{DateTime, Local, Utc};

/// Rows under a header line, each column as wide as its widest cell.
#[derive(Debug)]
pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&'static str]) -> Self {
        Table {
            headers: headers.to_vec(),
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    /// The text, two spaces between columns, no trailing blanks; `empty` when there are
    /// no rows.
    pub fn render(&self, empty: &str) -> String {
        if self.rows.is_empty() {
            return format!("{empty}\n");
        }
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if let Some(width) = widths.get_mut(i) {
                    *width = (*width).max(cell.chars().count());
                }
            }
        }
        let line = |cells: &mut dyn Iterator<Item = &str>| {
            let mut text = String::new();
            for (cell, width) in cells.zip(&widths) {
                text.push_str(cell);
                let pad = width.saturating_sub(cell.chars().count());
                text.push_str(&" ".repeat(pad + 2));
            }
            text.trim_end().to_owned() + "\n"
        };
        let mut out = line(&mut self.headers.iter().copied());
        for row in &self.rows {
            out.push_str(&line(&mut row.iter().map(String::as_str)));
        }
        out
    }
}

/// `Key:  value` lines with the values aligned; empty values are left out.
pub fn details(pairs: &[(&str, String)]) -> String {
    let width = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, _)| k.chars().count() + 1)
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (key, value) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        let label = format!("{key}:");
        out.push_str(&format!("{label:<width$}  {value}\n"));
    }
    out
}

/// A server time in local time (`2026-01-02 15:04:05`); `-` when unset or the epoch
/// (what KFP sends for "never").
pub fn local_time(time: Option<DateTime<Utc>>) -> String {
    match time.filter(|t| t.timestamp() > 0) {
        Some(t) => t
            .with_timezone(&Local)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string(),
        None => "-".to_owned(),
    }
}

/// From `start` to `end`, or to now while it goes on; empty without a start.
pub fn duration(start: Option<DateTime<Utc>>, end: Option<DateTime<Utc>>) -> String {
    let Some(start) = start.filter(|t| t.timestamp() > 0) else {
        return String::new();
    };
    let end = end.filter(|t| t.timestamp() > 0).unwrap_or_else(Utc::now);
    super::super::tree::format_duration((end - start).max(chrono::Duration::zero()))
}

/// `every 1h30m` for an interval in seconds.
pub fn every(seconds: i64) -> String {
    let (d, h, m, s) = (
        seconds / 86_400,
        (seconds % 86_400) / 3600,
        (seconds % 3600) / 60,
        seconds % 60,
    );
    let mut text = String::new();
    for (n, unit) in [(d, "d"), (h, "h"), (m, "m"), (s, "s")] {
        if n > 0 {
            text.push_str(&format!("{n}{unit}"));
        }
    }
    if text.is_empty() {
        text.push_str("0s");
    }
    format!("every {text}")
}

/// At most `max` characters, with `…` when cut.
pub fn clip(text: &str, max: usize) -> String {
    let line = text.lines().next().unwrap_or_default();
    if line.chars().count() <= max && line.len() == text.trim_end().len() {
        return line.to_owned();
    }
    let kept: String = line.chars().take(max.saturating_sub(1)).collect();
    format!("{kept}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up() {
        let mut table = Table::new(&["ID", "NAME"]);
        table.push(vec!["1".into(), "first".into()]);
        table.push(vec!["22222".into(), "x".into()]);
        assert_eq!(
            table.render("none"),
            "ID     NAME\n1      first\n22222  x\n"
        );
        assert_eq!(Table::new(&["ID"]).render("none"), "none\n");
    }

    #[test]
    fn details_align_and_skip_empty_values() {
        let text = details(&[
            ("ID", "1".into()),
            ("Description", String::new()),
            ("Name", "n".into()),
        ]);
        assert_eq!(text, "ID:    1\nName:  n\n");
    }

    #[test]
    fn intervals_and_clipping_read_well() {
        assert_eq!(every(3600), "every 1h");
        assert_eq!(every(90), "every 1m30s");
        assert_eq!(every(86_400 + 1), "every 1d1s");
        assert_eq!(clip("short", 10), "short");
        assert_eq!(clip("a long description", 7), "a long…");
        assert_eq!(clip("two\nlines", 10), "two…");
        assert_eq!(local_time(None), "-");
        assert_eq!(local_time(DateTime::from_timestamp(0, 0)), "-");
    }
}
