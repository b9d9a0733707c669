//! A plan as people and machines read it: text (coloured on a terminal),
//! markdown for a pull-request comment, JSON.

use std::fmt::Write;

use terrane_provider::FieldDiff;

use super::plan::{Change, Plan, Removal, Step};
use crate::reconciler::Planned;

/// How a plan is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text { colour: bool },
    Markdown,
    Json,
}

/// `(sign, word, ANSI colour)` of a step.
fn label(step: &Step) -> (&'static str, &'static str, &'static str) {
    match &step.change {
        Change::Apply(Planned::Create { .. }) => ("+", "create", "32"),
        Change::Apply(Planned::Update { .. } | Planned::UpdateAfter { .. }) => ("~", "update", "33"),
        Change::Apply(Planned::NoChange { .. }) => ("=", "no change", "2"),
        Change::Apply(Planned::Import { .. }) => ("<", "import", "36"),
        Change::Apply(Planned::Adopt { .. }) => ("<", "adopt", "36"),
        Change::Apply(Planned::Refused { .. }) => ("!", "refused", "1;31"),
        Change::Remove(Removal::Delete { .. }) => ("-", "delete", "31"),
        Change::Remove(Removal::Orphan { .. }) => ("-", "forget (the cloud object stays)", "35"),
    }
}

fn id(step: &Step) -> Option<&str> {
    match &step.change {
        Change::Apply(p) => p.id(),
        Change::Remove(Removal::Delete { id } | Removal::Orphan { id }) => id.as_deref(),
    }
}

fn fields(step: &Step) -> &[FieldDiff] {
    match &step.change {
        Change::Apply(
            Planned::Update { fields, .. } | Planned::Import { fields, .. } | Planned::Adopt { fields, .. },
        ) => fields,
        _ => &[],
    }
}

/// Extra lines of a step: a note, a refusal, what it waits on.
fn notes(step: &Step) -> Vec<String> {
    match &step.change {
        Change::Apply(Planned::Create { note: Some(n) }) => vec![n.clone()],
        Change::Apply(Planned::Refused { message }) => vec![message.clone()],
        Change::Apply(Planned::UpdateAfter { waiting, .. }) => {
            vec![format!("after {} (values from them are known after apply)", waiting.join(", "))]
        }
        Change::Apply(Planned::Adopt { .. }) => {
            vec!["found in the cloud as this object's (by its ownership marker; a router interface by its router and subnet)".into()]
        }
        Change::Remove(Removal::Delete { id: None }) => vec!["nothing of it is in the cloud".into()],
        _ => Vec::new(),
    }
}

pub fn render(plan: &Plan, format: Format) -> String {
    match format {
        Format::Json => serde_json::to_string_pretty(plan).unwrap_or_default() + "\n",
        Format::Text { colour } => text(plan, colour),
        Format::Markdown => markdown(plan),
    }
}

fn text(plan: &Plan, colour: bool) -> String {
    let paint = |code: &str, s: &str| if colour { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_string() };
    let mut out = String::new();
    let _ = writeln!(out, "{}", heading(plan));
    for step in &plan.steps {
        let (sign, word, code) = label(step);
        let id = id(step).map(|i| format!(" ({i})")).unwrap_or_default();
        let _ = writeln!(out, "{} {}{id}: {}", paint(code, sign), step.object, paint(code, word));
        for f in fields(step) {
            let _ = writeln!(out, "      {}: {} → {}", f.field, paint("31", &f.cloud), paint("32", &f.desired));
        }
        for f in &step.spec {
            let _ = writeln!(out, "      {} = {}", f.field, f.value);
        }
        for n in notes(step) {
            let _ = writeln!(out, "      {n}");
        }
    }
    let _ = writeln!(out, "\n{}", paint("1", &plan.summary.line()));
    out
}

fn heading(plan: &Plan) -> String {
    let at = plan.commit.as_ref().map(|c| format!(" at commit {c}")).unwrap_or_default();
    match &plan.base {
        Some(base) => format!("Plan of {}{at}, against {base}", plan.source),
        None => format!("Plan of {}{at}", plan.source),
    }
}

/// Markdown table cells cannot hold `|` or new lines.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn markdown(plan: &Plan) -> String {
    let mut out = String::new();
    let short = |c: &String| c.chars().take(12).collect::<String>();
    let _ = writeln!(out, "### Terrane plan: {}", plan.summary.line());
    let _ = writeln!(
        out,
        "\n`{}`{}{}\n",
        plan.source,
        plan.commit.as_ref().map(|c| format!(" at `{}`", short(c))).unwrap_or_default(),
        plan.base.as_ref().map(|b| format!(", against `{b}`")).unwrap_or_default()
    );
    let _ = writeln!(out, "| | Object | Action | Cloud ID |\n|---|---|---|---|");
    for step in plan.steps.iter().filter(|s| s.is_change()) {
        let (sign, word, _) = label(step);
        let sign = match sign {
            "+" => "🟢",
            "~" => "🟡",
            "-" => "🔴",
            "<" => "🔵",
            _ => "⛔",
        };
        let _ = writeln!(out, "| {sign} | `{}` | {word} | {} |", step.object, cell(id(step).unwrap_or("")));
    }
    let unchanged = plan.steps.iter().filter(|s| !s.is_change()).count();
    if unchanged > 0 {
        let _ = writeln!(out, "\n{unchanged} objects unchanged.");
    }
    for step in plan.steps.iter().filter(|s| s.is_change()) {
        let (_, word, _) = label(step);
        let (fields, spec, notes) = (fields(step), &step.spec, notes(step));
        if fields.is_empty() && spec.is_empty() && notes.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n<details><summary><code>{}</code>: {word}</summary>\n", step.object);
        for n in &notes {
            let _ = writeln!(out, "{}\n", cell(n));
        }
        if !fields.is_empty() {
            let _ = writeln!(out, "| Field | Cloud | Spec |\n|---|---|---|");
            for f in fields {
                let _ = writeln!(out, "| `{}` | `{}` | `{}` |", f.field, cell(&f.cloud), cell(&f.desired));
            }
        }
        if !spec.is_empty() {
            let _ = writeln!(out, "| Field | Value |\n|---|---|");
            for f in spec {
                let _ = writeln!(out, "| `{}` | `{}` |", f.field, cell(&f.value));
            }
        }
        let _ = writeln!(out, "\n</details>");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::plan::{SpecField, finish};

    fn sample() -> Plan {
        let step = |object: &str, change| Step { object: object.into(), change, spec: Vec::new() };
        let mut create = step("Network/web", Change::Apply(Planned::Create { note: None }));
        create.spec = vec![SpecField { field: "mtu".into(), value: "1450".into() }];
        finish(
            "repo@main:prod".into(),
            Some("0123456789abcdef".into()),
            None,
            vec![
                create,
                step(
                    "Subnet/web",
                    Change::Apply(Planned::Update {
                        id: "s-1".into(),
                        fields: vec![FieldDiff {
                            field: "description".into(),
                            cloud: "\"a|b\"".into(),
                            desired: "\"c\"".into(),
                        }],
                    }),
                ),
                step("Port/web", Change::Apply(Planned::NoChange { id: "p-1".into() })),
                step("Server/old", Change::Remove(Removal::Delete { id: Some("v-1".into()) })),
            ],
        )
    }

    #[test]
    fn text_shows_each_object_its_fields_old_to_new_and_the_summary() {
        let out = render(&sample(), Format::Text { colour: false });
        assert!(out.contains("+ Network/web: create\n      mtu = 1450\n"), "{out}");
        assert!(out.contains("~ Subnet/web (s-1): update\n      description: \"a|b\" → \"c\"\n"), "{out}");
        assert!(out.contains("- Server/old (v-1): delete"), "{out}");
        assert!(out.ends_with("1 to create, 1 to update, 1 to delete, 1 unchanged\n"), "{out}");
        assert!(!out.contains('\x1b'), "plain when not on a terminal");
        assert!(render(&sample(), Format::Text { colour: true }).contains("\x1b[32m+\x1b[0m"));
    }

    #[test]
    fn markdown_has_a_summary_table_and_details_per_changed_object() {
        let out = render(&sample(), Format::Markdown);
        assert!(out.starts_with("### Terrane plan: 1 to create, 1 to update, 1 to delete, 1 unchanged\n"), "{out}");
        assert!(out.contains("| 🟡 | `Subnet/web` | update | s-1 |"), "{out}");
        assert!(!out.contains("`Port/web`"), "unchanged objects are only counted: {out}");
        assert!(out.contains("<details><summary><code>Subnet/web</code>: update</summary>"), "{out}");
        assert!(out.contains("| `description` | `\"a\\|b\"` | `\"c\"` |"), "pipes escaped: {out}");
        let json: serde_json::Value = serde_json::from_str(&render(&sample(), Format::Json)).unwrap();
        assert_eq!(json["summary"]["create"], 1);
        assert_eq!(json["steps"][1]["action"], "update");
        assert_eq!(json["steps"][1]["fields"][0]["desired"], "\"c\"");
        assert_eq!(json["steps"][3]["action"], "delete");
    }
}
