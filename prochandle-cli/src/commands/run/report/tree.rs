//! The report's lines, one per member, shared by the platforms: the
//! order of an indented tree (each member after its parent, roots first:
//! a member whose parent is not a member is a root, such as a daemon
//! re-parented away, or on Windows a child whose creator has exited), and
//! the fields every platform gives, around what only one platform says.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Map, Value};

/// What every platform says of a member; a value the system did not give
/// is `None` (`?` in text, JSON `null`), never 0.
pub struct Basics {
    pub pid: u32,
    pub ppid: Option<u32>,
    pub identity: String,
    pub age: Option<Duration>,
    pub cpu: Option<Duration>,
    pub rss_kib: Option<u64>,
    pub command: String,
}

/// A member as one platform describes it: the [`Basics`], and what only
/// this platform says, shown after the identity.
pub trait Described {
    fn basics(&self) -> &Basics;
    /// This platform's own words for the text line, each after a space.
    fn own_text(&self) -> String {
        String::new()
    }
    /// This platform's own JSON fields, in the order they are shown.
    fn own_json(&self, _object: &mut Map<String, Value>) {}
}

/// The members as an indented tree, or JSON lines.
pub fn render<M: Described>(members: &[M], json: bool) -> Vec<String> {
    let links: Vec<(u32, Option<u32>)> = members
        .iter()
        .map(|m| (m.basics().pid, m.basics().ppid))
        .collect();
    order(&links)
        .into_iter()
        .map(|(index, depth)| line(&members[index], depth, json))
        .collect()
}

fn line<M: Described>(member: &M, depth: usize, json: bool) -> String {
    let m = member.basics();
    if json {
        let mut object = Map::new();
        object.insert("pid".into(), json!(m.pid));
        object.insert("ppid".into(), json!(m.ppid));
        object.insert("depth".into(), json!(depth));
        object.insert("identity".into(), json!(m.identity));
        member.own_json(&mut object);
        object.insert("age_seconds".into(), json!(m.age.map(|d| d.as_secs_f64())));
        object.insert("cpu_seconds".into(), json!(m.cpu.map(|d| d.as_secs_f64())));
        object.insert("rss_kib".into(), json!(m.rss_kib));
        object.insert("command".into(), json!(m.command));
        return Value::Object(object).to_string();
    }
    let indent = 2 + 2 * depth;
    format!(
        "{:indent$}{} {}{} age={} cpu={} rss={} {}",
        "",
        m.pid,
        m.identity,
        member.own_text(),
        seconds(m.age),
        seconds(m.cpu),
        kib(m.rss_kib),
        m.command,
    )
}

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
fn seconds(d: Option<Duration>) -> String {
    d.map_or("?".to_owned(), |d| format!("{:.2}s", d.as_secs_f64()))
}

/// Resident memory in a text line, `123KiB`, or `?`.
fn kib(k: Option<u64>) -> String {
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

    /// A platform's own field, shown between the identity and the times.
    struct WithState(Basics);

    impl Described for WithState {
        fn basics(&self) -> &Basics {
            &self.0
        }
        fn own_text(&self) -> String {
            " sleeping".to_owned()
        }
        fn own_json(&self, object: &mut Map<String, Value>) {
            object.insert("state".into(), json!("sleeping"));
        }
    }

    #[test]
    fn own_fields_sit_between_the_identity_and_the_times() {
        let member = |pid, ppid, rss_kib| {
            WithState(Basics {
                pid,
                ppid,
                identity: format!("{pid}@7"),
                age: Some(Duration::from_millis(1500)),
                cpu: None,
                rss_kib,
                command: "sleep 60".to_owned(),
            })
        };
        let members = [member(10, Some(1), Some(640)), member(11, Some(10), None)];
        assert_eq!(
            render(&members, false),
            [
                "  10 10@7 sleeping age=1.50s cpu=? rss=640KiB sleep 60",
                "    11 11@7 sleeping age=1.50s cpu=? rss=? sleep 60",
            ]
        );
        assert_eq!(
            render(&members[..1], true),
            [concat!(
                r#"{"pid":10,"ppid":1,"depth":0,"identity":"10@7","state":"sleeping","#,
                r#""age_seconds":1.5,"cpu_seconds":null,"rss_kib":640,"command":"sleep 60"}"#
            )]
        );
    }
}
