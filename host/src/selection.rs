//! Step selection, Dagster's syntax: `name`; `*name` (with every ancestor); `+name`,
//! `++name` (ancestors one or two levels up); `name*`, `name+`, `name++` (descendants);
//! both sides at once (`+name+`); and comma-separated lists of these.

use std::collections::BTreeSet;

/// Resolves `expression` against a DAG given by each step's name and upstream indices.
///
/// # Errors
/// A message naming the clause that is malformed or names no step.
pub fn select(expression: &str, names: &[&str], upstream: &[Vec<usize>]) -> Result<BTreeSet<usize>, String> {
    let mut downstream = vec![Vec::new(); names.len()];
    for (step, ups) in upstream.iter().enumerate() {
        for &u in ups {
            downstream[u].push(step);
        }
    }
    let mut selected = BTreeSet::new();
    for clause in expression.split(',').map(str::trim) {
        if clause.is_empty() {
            return Err(format!("`{expression}` has an empty clause"));
        }
        let (up, rest) = depth(clause, |s| s.strip_prefix('*'), |s| s.strip_prefix('+'));
        let (down, name) = depth(rest, |s| s.strip_suffix('*'), |s| s.strip_suffix('+'));
        let Some(start) = names.iter().position(|n| *n == name) else {
            return Err(format!("`{clause}` names no step (steps: {})", names.join(", ")));
        };
        selected.insert(start);
        walk(start, up, upstream, &mut selected);
        walk(start, down, &downstream, &mut selected);
    }
    Ok(selected)
}

/// How far a clause reaches on one side: `*` is unlimited, each `+` one level.
fn depth<'a>(
    clause: &'a str,
    star: impl Fn(&'a str) -> Option<&'a str>,
    plus: impl Fn(&'a str) -> Option<&'a str>,
) -> (usize, &'a str) {
    if let Some(rest) = star(clause) {
        return (usize::MAX, rest);
    }
    let mut levels = 0;
    let mut rest = clause;
    while let Some(next) = plus(rest) {
        levels += 1;
        rest = next;
    }
    (levels, rest)
}

fn walk(start: usize, levels: usize, edges: &[Vec<usize>], selected: &mut BTreeSet<usize>) {
    let mut frontier = vec![start];
    let mut level = 0;
    while level < levels && !frontier.is_empty() {
        frontier = frontier.iter().flat_map(|&s| edges[s].iter().copied()).filter(|s| selected.insert(*s)).collect();
        level += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // a -> b -> c -> d, and e -> c
    const NAMES: &[&str] = &["a", "b", "c", "d", "e"];

    fn upstream() -> Vec<Vec<usize>> {
        vec![vec![], vec![0], vec![1, 4], vec![2], vec![]]
    }

    fn names(expression: &str) -> Vec<&'static str> {
        select(expression, NAMES, &upstream()).unwrap().into_iter().map(|i| NAMES[i]).collect()
    }

    #[test]
    fn each_form_of_clause_selects_what_dagster_would() {
        assert_eq!(names("c"), ["c"]);
        assert_eq!(names("*c"), ["a", "b", "c", "e"]);
        assert_eq!(names("+c"), ["b", "c", "e"]);
        assert_eq!(names("++c"), ["a", "b", "c", "e"]);
        assert_eq!(names("a+"), ["a", "b"]);
        assert_eq!(names("a++"), ["a", "b", "c"]);
        assert_eq!(names("a*"), ["a", "b", "c", "d"]);
        assert_eq!(names("+c+"), ["b", "c", "d", "e"]);
        assert_eq!(names("a, d"), ["a", "d"]);
    }

    #[test]
    fn a_clause_naming_no_step_is_an_error() {
        let err = select("b,zz+", NAMES, &upstream()).unwrap_err();
        assert!(err.contains("`zz+` names no step"), "{err}");
        assert!(select("a,,b", NAMES, &upstream()).is_err());
    }
}
