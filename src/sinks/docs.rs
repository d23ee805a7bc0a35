//! The files rendered from the table definition (`sinks/schema.rs`) and committed:
//! Terraform's `schema/*.json` and the README's column tables. The code never reads
//! them; the tests below fail when one drifts from the definition and say how to
//! regenerate it (`WIKITOP_BLESS=1 cargo test --lib sinks::docs`).

use super::bigquery::schema::{mode_name, type_name};
use super::duckdb::sql::column_type as duckdb_type;
use super::schema::{TABLES, Table, VIEWS, ViewKind};

/// Where Terraform reads a table's schema (`deploy/terraform/main.tf`).
pub(crate) fn terraform_path(table: &Table) -> String {
    format!("schema/{}.json", table.name)
}

/// A table's columns as a BigQuery JSON schema file, one column a line.
pub(crate) fn terraform_schema(table: &Table) -> String {
    let json = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let lines = table
        .columns
        .iter()
        .map(|c| {
            format!(
                "  {{\"name\": {}, \"type\": {}, \"mode\": {}, \"description\": {}}}",
                json(c.name),
                json(type_name(c.ty)),
                json(mode_name(c.mode)),
                json(c.description)
            )
        })
        .collect::<Vec<_>>()
        .join(",\n");
    format!("[\n{lines}\n]\n")
}

const README_BEGIN: &str = "<!-- Generated from src/sinks/schema.rs by `WIKITOP_BLESS=1 cargo test --lib sinks::docs`: do not edit. -->\n";
const README_END: &str = "<!-- End of generated tables. -->\n";

/// The README's tables of every table and view, between the two markers.
pub(crate) fn readme_tables() -> String {
    let cell = |s: &str| s.replace('|', "\\|");
    let mut out = String::from(README_BEGIN);
    for table in TABLES {
        out.push_str(&format!("\nTable `{}`: {}", table.name, table.description));
        if let Some(p) = table.partition_by {
            out.push_str(&format!(" In BigQuery partitioned by `{p}`"));
            if !table.cluster_by.is_empty() {
                let cols: Vec<String> = table.cluster_by.iter().map(|c| format!("`{c}`")).collect();
                out.push_str(&format!(", clustered by {}", cols.join(", ")));
            }
            out.push('.');
        }
        out.push_str("\n\n| column | DuckDB | BigQuery | meaning |\n|---|---|---|---|\n");
        for c in table.columns {
            let meaning = if c.note.is_empty() {
                c.description.to_owned()
            } else {
                format!("{} {}", c.description, c.note)
            };
            out.push_str(&format!(
                "| {} | {} | {} {} | {} |\n",
                c.name,
                duckdb_type(c),
                type_name(c.ty),
                mode_name(c.mode),
                cell(&meaning)
            ));
        }
    }
    for view in VIEWS {
        let columns = ticked(view.columns);
        let shape = match view.kind {
            ViewKind::Unnest { unnest, element } => {
                format!("Columns {columns}, and `{element}` (one element of `{unnest}`).")
            }
            ViewKind::PerPage {
                condition,
                aggregates,
                order_by,
            } => format!(
                "One row per {columns} of the rows where `{condition}`, with {}; ordered by {}.",
                code_list(aggregates),
                ticked(order_by)
            ),
            ViewKind::AcrossWikis {
                condition,
                per_wiki,
                aggregates,
                order_by,
            } => format!(
                "One row per {columns} over every project: the rows where `{condition}`, grouped \
                 per wiki into {}, then per {columns} into {}; ordered by {}.",
                code_list(per_wiki),
                code_list(aggregates),
                ticked(order_by)
            ),
        };
        out.push_str(&format!(
            "\nView `{}`: {} {shape}\n",
            view.name, view.description
        ));
    }
    out.push('\n');
    out.push_str(README_END);
    out
}

/// `a`, `b`, … for the README.
fn ticked(names: &[&str]) -> String {
    names
        .iter()
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `name` = `expression`, …, for the README.
fn code_list(list: &[(&str, &str)]) -> String {
    list.iter()
        .map(|(name, expr)| format!("`{name}` = `{expr}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `readme` with its generated part replaced by `tables`; `None` without the markers.
pub(crate) fn splice_readme(readme: &str, tables: &str) -> Option<String> {
    let begin = readme.find(README_BEGIN)?;
    let end = readme[begin..].find(README_END)? + begin + README_END.len();
    Some(format!("{}{tables}{}", &readme[..begin], &readme[end..]))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// Compares a committed file with what the definition renders; with
    /// `WIKITOP_BLESS=1` rewrites it instead.
    fn check_file(path: &str, wanted: &str) {
        let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
        let found = std::fs::read_to_string(&full).unwrap_or_default();
        if found == wanted {
            return;
        }
        if std::env::var_os("WIKITOP_BLESS").is_some() {
            std::fs::write(&full, wanted).unwrap();
            return;
        }
        panic!(
            "{path} differs from the table definition in src/sinks/schema.rs; regenerate it \
             with `WIKITOP_BLESS=1 cargo test --lib sinks::docs` and review the diff.\n\
             --- expected ---\n{wanted}\n--- found ---\n{found}"
        );
    }

    #[test]
    fn terraform_schema_files_follow_the_definition() {
        for table in TABLES {
            check_file(&terraform_path(table), &terraform_schema(table));
            // Terraform's file must parse as BigQuery's schema JSON.
            let parsed: serde_json::Value = serde_json::from_str(&terraform_schema(table)).unwrap();
            assert_eq!(parsed.as_array().unwrap().len(), table.columns.len());
        }
    }

    /// Terraform stamps `top_pages` with the version this build writes, read from this
    /// file, so a dataset it creates needs no migration on the first run.
    #[test]
    fn terraform_stamps_the_current_schema_version() {
        let wanted = format!(
            "{{\n  \"label\": \"{}\",\n  \"version\": {}\n}}\n",
            crate::sinks::bigquery::VERSION_LABEL,
            crate::sinks::schema::SCHEMA_VERSION
        );
        check_file("schema/schema_version.json", &wanted);
        let main = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/terraform/main.tf"),
        )
        .unwrap();
        assert!(
            main.contains("../../schema/schema_version.json"),
            "main.tf reads it"
        );
    }

    /// The alerts count the line every run ends with: Terraform names it as the binary
    /// logs it.
    #[test]
    fn terraform_counts_the_line_runs_end_with() {
        let monitoring = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/terraform/monitoring.tf"),
        )
        .unwrap();
        let wanted = format!("run_finished_message = \"{}\"", crate::RUN_FINISHED);
        assert!(monitoring.contains(&wanted), "{wanted}");
    }

    #[test]
    fn readme_tables_follow_the_definition() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
        let readme = std::fs::read_to_string(&path).unwrap();
        let wanted = splice_readme(&readme, &readme_tables()).unwrap_or_else(|| {
            panic!(
                "README.md lacks the markers of the generated tables:\n{README_BEGIN}{README_END}"
            )
        });
        check_file("README.md", &wanted);
    }

    #[test]
    fn terraform_partitions_and_clusters_as_the_definition() {
        let main = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/terraform/main.tf"),
        )
        .unwrap();
        for table in TABLES {
            assert!(
                main.contains(&format!(
                    "\"${{path.module}}/../../{}\"",
                    terraform_path(table)
                )),
                "main.tf does not read {}",
                terraform_path(table)
            );
            if let Some(p) = table.partition_by {
                assert!(main.contains(&format!("field = \"{p}\"")), "partitioning");
            }
            if !table.cluster_by.is_empty() {
                let cols: Vec<String> = table
                    .cluster_by
                    .iter()
                    .map(|c| format!("\"{c}\""))
                    .collect();
                assert!(
                    main.contains(&format!("clustering = [{}]", cols.join(", "))),
                    "clustering"
                );
            }
            assert!(
                main.contains(table.description),
                "description of {}",
                table.name
            );
        }
    }
}
