//! The dependency graph of a set of Terrane objects: the order they are
//! applied in (every object after what it refers to, otherwise in the order
//! given), and the errors that stop a plan before anything is observed: a
//! reference to nothing, and a cycle.

use std::collections::{BTreeMap, BTreeSet};

use terrane_api::Reference;

/// `Kind/name`.
pub type Key = String;

pub fn key(kind: &str, name: &str) -> Key {
    format!("{kind}/{name}")
}

/// Why a set of objects has no order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    #[error("{object}: {field} names {target}, which is not in the source")]
    MissingReference { object: Key, field: String, target: Key },
    #[error("a reference cycle: {}", .path.join(" -> "))]
    Cycle { path: Vec<Key> },
}

/// One object as the graph sees it.
#[derive(Debug, Clone)]
pub struct Node {
    pub key: Key,
    pub references: Vec<Reference>,
}

/// The keys of `nodes` in apply order. `external` holds keys that exist
/// without being in `nodes` (a reference to one is not an error).
pub fn order(nodes: &[Node], external: &BTreeSet<Key>) -> Result<Vec<Key>, GraphError> {
    let index: BTreeMap<&str, usize> = nodes.iter().enumerate().map(|(i, n)| (n.key.as_str(), i)).collect();
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (i, n) in nodes.iter().enumerate() {
        for r in &n.references {
            let target = key(r.kind, &r.name);
            match index.get(target.as_str()) {
                Some(&j) if j != i => edges[i].push(j),
                Some(_) => {}
                None if external.contains(&target) => {}
                None => {
                    return Err(GraphError::MissingReference { object: n.key.clone(), field: r.field.clone(), target });
                }
            }
        }
    }
    // Depth-first, dependencies first; a node met again while on the stack is a cycle.
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut marks = vec![Mark::New; nodes.len()];
    let mut out = Vec::with_capacity(nodes.len());
    let mut stack: Vec<usize> = Vec::new();
    fn visit(
        i: usize,
        edges: &[Vec<usize>],
        marks: &mut [Mark],
        stack: &mut Vec<usize>,
        out: &mut Vec<usize>,
    ) -> Result<(), Vec<usize>> {
        match marks[i] {
            Mark::Done => return Ok(()),
            Mark::Open => {
                let from = stack.iter().position(|&s| s == i).unwrap_or(0);
                let mut cycle = stack[from..].to_vec();
                cycle.push(i);
                return Err(cycle);
            }
            Mark::New => {}
        }
        marks[i] = Mark::Open;
        stack.push(i);
        for &j in &edges[i] {
            visit(j, edges, marks, stack, out)?;
        }
        stack.pop();
        marks[i] = Mark::Done;
        out.push(i);
        Ok(())
    }
    for i in 0..nodes.len() {
        visit(i, &edges, &mut marks, &mut stack, &mut out)
            .map_err(|cycle| GraphError::Cycle { path: cycle.into_iter().map(|c| nodes[c].key.clone()).collect() })?;
    }
    Ok(out.into_iter().map(|i| nodes[i].key.clone()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(key: &str, refs: &[(&'static str, &str)]) -> Node {
        Node {
            key: key.into(),
            references: refs
                .iter()
                .map(|(kind, name)| Reference { field: "resource.ref".into(), kind, name: name.to_string() })
                .collect(),
        }
    }

    #[test]
    fn what_is_referred_to_comes_first_and_the_rest_keeps_its_order() {
        let nodes = [
            node("Server/web", &[("Port", "web"), ("Flavor", "small")]),
            node("Flavor/small", &[]),
            node("Port/web", &[("Subnet", "web")]),
            node("Subnet/web", &[("Network", "web")]),
            node("Network/web", &[]),
            node("Zone/z", &[]),
        ];
        let order = order(&nodes, &BTreeSet::new()).unwrap();
        assert_eq!(order, ["Network/web", "Subnet/web", "Port/web", "Flavor/small", "Server/web", "Zone/z"]);
    }

    #[test]
    fn a_reference_to_nothing_is_named_unless_it_exists_outside() {
        let nodes = [node("Subnet/a", &[("Network", "b")])];
        let e = order(&nodes, &BTreeSet::new()).unwrap_err();
        assert_eq!(e.to_string(), "Subnet/a: resource.ref names Network/b, which is not in the source");
        assert!(order(&nodes, &BTreeSet::from(["Network/b".to_string()])).is_ok());
    }

    #[test]
    fn a_cycle_is_named_along_its_path() {
        let nodes = [
            node("SecurityGroup/a", &[("SecurityGroup", "b")]),
            node("SecurityGroup/b", &[("SecurityGroup", "c")]),
            node("SecurityGroup/c", &[("SecurityGroup", "a")]),
        ];
        let e = order(&nodes, &BTreeSet::new()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "a reference cycle: SecurityGroup/a -> SecurityGroup/b -> SecurityGroup/c -> SecurityGroup/a"
        );
    }

    #[test]
    fn a_reference_to_itself_is_no_cycle() {
        assert!(order(&[node("SecurityGroup/a", &[("SecurityGroup", "a")])], &BTreeSet::new()).is_ok());
    }
}
