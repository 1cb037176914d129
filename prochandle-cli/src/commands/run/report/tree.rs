//! The order of an indented tree: each member after its parent, roots
//! first (a member whose parent is not a member is a root, such as a
//! daemon re-parented away, or on Windows a child whose creator has
//! exited).

use std::collections::BTreeMap;
use std::time::Duration;

/// `(index, depth)` for each member of `members` (`(pid, parent pid)`),
/// in the order the tree is printed.
pub fn order(members: &[(u32, Option<u32>)]) -> Vec<(usize, usize)> {
    let pids: Vec<u32> = members.iter().map(|&(pid, _)| pid).collect();
    let mut children: BTreeMap<Option<u32>, Vec<usize>> = BTreeMap::new();
    for (index, &(_, parent)) in members.iter().enumerate() {
        let parent = parent.filter(|p| pids.contains(p));
        children.entry(parent).or_default().push(index);
    }
    let mut out = Vec::with_capacity(members.len());
    let mut stack: Vec<(usize, usize)> = children
        .get(&None)
        .map(|roots| roots.iter().rev().map(|&i| (i, 0)).collect())
        .unwrap_or_default();
    while let Some((index, depth)) = stack.pop() {
        out.push((index, depth));
        if let Some(kids) = children.get(&Some(pids[index])) {
            stack.extend(kids.iter().rev().map(|&i| (i, depth + 1)));
        }
    }
    out
}

/// A duration in a text line, `1.23s`, or `?` where the system did not
/// give it.
pub fn seconds(d: Option<Duration>) -> String {
    d.map_or("?".to_owned(), |d| format!("{:.2}s", d.as_secs_f64()))
}

/// Resident memory in a text line, `123KiB`, or `?`.
pub fn kib(k: Option<u64>) -> String {
    k.map_or("?".to_owned(), |k| format!("{k}KiB"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_follow_their_parents_and_orphans_are_roots() {
        let members = [
            (10, Some(1)),
            (12, Some(11)),
            (11, Some(10)),
            (20, Some(99)),
        ];
        assert_eq!(order(&members), [(0, 0), (2, 1), (1, 2), (3, 0)]);
    }
}
