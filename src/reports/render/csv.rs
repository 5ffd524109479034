//! One section table as CSV, guarded against spreadsheet formula injection.

use super::common::{cell, column_count};
use crate::reports::document::Table;

fn csv_field(out: &mut String, v: &str) {
    let guarded;
    let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        guarded = format!("'{v}");
        guarded.as_str()
    } else {
        v
    };
    if v.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&v.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(v);
    }
}

/// The table as RFC 4180 CSV (header row, CRLF line ends, quoted where needed), with cells that
/// a spreadsheet would read as a formula (leading `=`, `+`, `-`, `@`, tab, CR) prefixed by `'`.
/// Rows shorter than the header are padded with empty cells.
pub fn section_csv(table: &Table) -> String {
    let n = column_count(table).max(table.rows.iter().map(Vec::len).max().unwrap_or(0));
    let mut out = String::with_capacity(64 * (table.rows.len() + 1));
    let mut line = |cells: &[String]| {
        for i in 0..n {
            if i > 0 {
                out.push(',');
            }
            csv_field(&mut out, cell(cells, i));
        }
        out.push_str("\r\n");
    };
    if n > 0 {
        line(&table.columns);
    }
    for row in &table.rows {
        line(row);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::tests::{strs, NASTY};
    use super::*;

    #[test]
    fn csv_quoting_and_injection() {
        let table = Table {
            title: "t".into(),
            columns: strs(&["Asset", "Note", "Count"]),
            rows: vec![
                strs(&[NASTY, "a,b", "3"]),
                strs(&["multi\nline", "cr\rhere", "-5"]),
                strs(&["=1+2", "+SUM(A1)", "@cmd"]),
                strs(&["\tTabbed", "\rCR", "plain"]),
                strs(&["=HYPERLINK(\"http://evil\",\"x\")", "", "a-b"]),
                strs(&["short"]),
            ],
        };
        let csv = section_csv(&table);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], "Asset,Note,Count");
        assert_eq!(lines[1], "\"Zürich-db <01> & \"\"x\"\"\",\"a,b\",3");
        assert_eq!(lines[2], "\"multi\nline\",\"cr\rhere\",'-5");
        assert_eq!(lines[3], "'=1+2,'+SUM(A1),'@cmd");
        assert_eq!(lines[4], "'\tTabbed,\"'\rCR\",plain");
        assert_eq!(lines[5], "\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\",,a-b");
        assert_eq!(lines[6], "short,,");
        assert_eq!(lines[7], "");
        assert!(csv.ends_with("\r\n"));
        assert_eq!(lines.len(), 8);
        assert_eq!(section_csv(&Table { title: String::new(), columns: vec![], rows: vec![] }), "");
    }
}
