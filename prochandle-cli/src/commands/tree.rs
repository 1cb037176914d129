//! `prochandle tree TARGET`: the live descendants of TARGET, each pinned
//! by a handle before it is described, as an indented tree of PID,
//! identity and command line; `--json` gives one object per process.

use std::collections::BTreeMap;
use std::io::Write;

use prochandle::linux::{ProcessExt, ProcessInfo};
use prochandle::Process;
use serde_json::json;

use crate::exit_codes;
use crate::output::{self, Action};
use crate::target::Target;

/// One process of the tree, described.
struct Node {
    pid: u32,
    ppid: Option<u32>,
    identity: Option<String>,
    command: String,
    argv: Option<Vec<String>>,
}

pub fn run(json: bool, target: &Target) -> u8 {
    let root = match target.open(Action::Tree) {
        Ok(root) => root,
        Err(message) => {
            output::error(message);
            return exit_codes::FAILURE;
        }
    };
    let descendants = match root.descendants() {
        Ok(all) => all,
        Err(err) => {
            output::error(output::describe(target, Action::Tree, &err));
            return exit_codes::FAILURE;
        }
    };
    let root_node = describe(&root);
    let nodes: Vec<Node> = descendants.iter().map(describe).collect();
    let mut out = std::io::stdout().lock();
    for (depth, node) in ordered(&root_node, &nodes) {
        let line = if json {
            json!({
                "pid": node.pid,
                "ppid": node.ppid,
                "depth": depth,
                "identity": node.identity,
                "cmdline": node.argv,
                "command": node.command,
            })
            .to_string()
        } else {
            let identity = node.identity.as_deref().unwrap_or("?");
            let indent = 2 * depth;
            format!("{:indent$}{} {identity} {}", "", node.pid, node.command)
        };
        // A reader that went away ends the listing quietly, as in other
        // Unix tools.
        if writeln!(out, "{line}").is_err() {
            break;
        }
    }
    exit_codes::SUCCESS
}

/// What is known of `process`; a process that exits meanwhile keeps its
/// PID and is shown as gone.
fn describe(process: &Process) -> Node {
    let identity = process.identity().ok().map(|id| id.to_string());
    let info = process.info().ok();
    let argv = info
        .as_ref()
        .and_then(|info| info.cmdline.as_ref())
        .map(|words| {
            words
                .iter()
                .map(|w| w.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
        });
    Node {
        pid: process.pid(),
        ppid: info.as_ref().and_then(|info| info.ppid),
        identity,
        command: command_text(info.as_ref(), argv.as_deref()),
        argv,
    }
}

fn command_text(info: Option<&ProcessInfo>, argv: Option<&[String]>) -> String {
    match (info, argv) {
        (None, _) => "(gone)".to_owned(),
        (Some(info), _) if info.state == Some('Z') => "(zombie)".to_owned(),
        (_, Some(words)) if !words.is_empty() => words.join(" "),
        (Some(info), _) => info
            .exe
            .as_ref()
            .map_or_else(|| "?".to_owned(), |exe| format!("[{}]", exe.display())),
    }
}

/// The root, then each process under its parent, depth first, with its
/// depth. A process whose parent is not in the list (re-parented while it
/// was listed) is shown under the root.
fn ordered<'a>(root: &'a Node, nodes: &'a [Node]) -> Vec<(usize, &'a Node)> {
    let known: std::collections::HashSet<u32> =
        nodes.iter().map(|n| n.pid).chain([root.pid]).collect();
    let mut children: BTreeMap<u32, Vec<&Node>> = BTreeMap::new();
    for node in nodes {
        let parent = node.ppid.filter(|p| known.contains(p) && *p != node.pid);
        children
            .entry(parent.unwrap_or(root.pid))
            .or_default()
            .push(node);
    }
    let mut out = Vec::with_capacity(nodes.len() + 1);
    let mut stack = vec![(0, root)];
    while let Some((depth, node)) = stack.pop() {
        out.push((depth, node));
        if let Some(kids) = children.remove(&node.pid) {
            stack.extend(kids.into_iter().rev().map(|kid| (depth + 1, kid)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(pid: u32, ppid: u32) -> Node {
        Node {
            pid,
            ppid: Some(ppid),
            identity: None,
            command: String::new(),
            argv: None,
        }
    }

    #[test]
    fn children_follow_their_parent() {
        let root = node(1, 0);
        let nodes = [node(2, 1), node(3, 1), node(4, 2), node(5, 99)];
        let order: Vec<(usize, u32)> = ordered(&root, &nodes)
            .into_iter()
            .map(|(d, n)| (d, n.pid))
            .collect();
        assert_eq!(order, [(0, 1), (1, 2), (2, 4), (1, 3), (1, 5)]);
    }
}
