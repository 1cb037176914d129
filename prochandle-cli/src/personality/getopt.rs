//! The option grammar of the C tools the personalities stand in for:
//! POSIX short options (`-v`, clustered `-fx`, a value attached `-sKILL`
//! or in the next word `-s KILL`, an optional value only attached
//! `-l9`), GNU long options (`--signal=KILL`, `--signal KILL`, any
//! unambiguous prefix `--sig`), `--` ending the options, `-` an operand.
//! Options and operands may mix (the GNU default) unless the tool stops
//! at its first operand (timeout(1): what follows is the command's).
//!
//! clap cannot take these grammars (`-sKILL` next to `-9` and `-l 9`), so
//! each personality writes its table and reads the [`Item`]s.

use std::ffi::OsString;

/// Whether an option takes a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    None,
    /// Attached or in the next word.
    Required,
    /// Only attached (`-l9`, `--list=9`).
    Optional,
}

/// One long option: its name, its value, the key it reports as (its
/// short letter where it has one).
pub type Long = (&'static str, Value, char);

/// A tool's options.
pub struct Spec {
    /// getopt(3)'s string: a letter per option, `:` after one that takes a
    /// value, `::` for an optional one.
    pub shorts: &'static str,
    pub longs: &'static [Long],
    /// Stop at the first operand: the rest are operands (`+` in getopt).
    pub stop_at_operand: bool,
    /// A word `-` then one digit is an operand (kill's `-1` and
    /// one-digit process groups, which procps signals as typed), not an
    /// option; `-` then more after a digit stays an option getopt refuses
    /// (procps would signal the first digit's group).
    pub negative_numbers: bool,
}

/// A command line getopt(3) refuses: its message (without the program
/// name), the word it stopped at, and the letter it reports (`optopt`:
/// the option's letter, `'\0'` for an unknown or ambiguous long option),
/// which a tool that silences getopt's messages (procps kill) prints
/// itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    pub message: String,
    pub letter: char,
    pub word: String,
}

impl Refused {
    fn new(message: String, letter: char, word: &str) -> Refused {
        Refused {
            message,
            letter,
            word: word.to_owned(),
        }
    }
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// What the command line holds, in order (operands last when mixed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    Opt(char, Option<String>),
    Operand(OsString),
}

impl Spec {
    fn short(&self, letter: char) -> Option<Value> {
        let bytes = self.shorts.as_bytes();
        let at = self.shorts.find(letter).filter(|_| letter != ':')?;
        let colon = |i: usize| bytes.get(i) == Some(&b':');
        Some(match (colon(at + 1), colon(at + 2)) {
            (true, true) => Value::Optional,
            (true, false) => Value::Required,
            _ => Value::None,
        })
    }

    /// The long option `name` stands for: an exact name, or the one name
    /// it is a prefix of (or several names for one key).
    fn long(&self, name: &str) -> Result<Long, Refused> {
        if let Some(exact) = self.longs.iter().find(|l| l.0 == name) {
            return Ok(*exact);
        }
        let candidates: Vec<&Long> = self
            .longs
            .iter()
            .filter(|l| l.0.starts_with(name))
            .collect();
        match candidates.as_slice() {
            [] => Err(Refused::new(
                format!("unrecognized option '--{name}'"),
                '\0',
                &format!("--{name}"),
            )),
            [one, rest @ ..] if rest.iter().all(|l| l.2 == one.2 && l.1 == one.1) => Ok(**one),
            many => {
                let names: Vec<String> = many.iter().map(|l| format!("'--{}'", l.0)).collect();
                Err(Refused::new(
                    format!(
                        "option '--{name}' is ambiguous; possibilities: {}",
                        names.join(" ")
                    ),
                    '\0',
                    &format!("--{name}"),
                ))
            }
        }
    }
}

/// Reads `args` (without the program name) by `spec`. The error is
/// getopt's message, without the program name.
pub fn parse(spec: &Spec, args: &[OsString]) -> Result<Vec<Item>, Refused> {
    let mut items = Vec::new();
    let mut operands = Vec::new();
    let mut words = args.iter();
    while let Some(word) = words.next() {
        let text = word.to_string_lossy();
        if text == "--" {
            operands.extend(words.by_ref().cloned());
            break;
        }
        let negative =
            spec.negative_numbers && text.len() == 2 && text.as_bytes()[1].is_ascii_digit();
        if !text.starts_with('-') || text == "-" || negative {
            operands.push(word.clone());
            if spec.stop_at_operand {
                operands.extend(words.by_ref().cloned());
                break;
            }
            continue;
        }
        if let Some(long) = text.strip_prefix("--") {
            items.push(parse_long(spec, long, &mut words)?);
        } else {
            parse_cluster(spec, &text[1..], &mut words, &mut items)
                .map_err(|(message, letter)| Refused::new(message, letter, &text))?;
        }
    }
    items.extend(operands.into_iter().map(Item::Operand));
    Ok(items)
}

fn parse_long<'a>(
    spec: &Spec,
    word: &str,
    rest: &mut impl Iterator<Item = &'a OsString>,
) -> Result<Item, Refused> {
    let (name, attached) = match word.split_once('=') {
        Some((name, value)) => (name, Some(value.to_owned())),
        None => (word, None),
    };
    let (full, value, key) = spec.long(name)?;
    let refused = |message: String| Refused::new(message, key, &format!("--{word}"));
    match (value, attached) {
        (Value::None, Some(_)) => Err(refused(format!(
            "option '--{full}' doesn't allow an argument"
        ))),
        (Value::None, None) | (Value::Optional, None) => Ok(Item::Opt(key, None)),
        (_, Some(value)) => Ok(Item::Opt(key, Some(value))),
        (Value::Required, None) => match rest.next() {
            Some(next) => Ok(Item::Opt(key, Some(next.to_string_lossy().into_owned()))),
            None => Err(refused(format!("option '--{full}' requires an argument"))),
        },
    }
}

fn parse_cluster<'a>(
    spec: &Spec,
    letters: &str,
    rest: &mut impl Iterator<Item = &'a OsString>,
    items: &mut Vec<Item>,
) -> Result<(), (String, char)> {
    for (at, letter) in letters.char_indices() {
        let after = &letters[at + letter.len_utf8()..];
        match spec.short(letter) {
            None => return Err((format!("invalid option -- '{letter}'"), letter)),
            Some(Value::None) => items.push(Item::Opt(letter, None)),
            Some(Value::Optional) => {
                let value = (!after.is_empty()).then(|| after.to_owned());
                items.push(Item::Opt(letter, value));
                return Ok(());
            }
            Some(Value::Required) if !after.is_empty() => {
                items.push(Item::Opt(letter, Some(after.to_owned())));
                return Ok(());
            }
            Some(Value::Required) => {
                let Some(next) = rest.next() else {
                    return Err((format!("option requires an argument -- '{letter}'"), letter));
                };
                items.push(Item::Opt(letter, Some(next.to_string_lossy().into_owned())));
                return Ok(());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: Spec = Spec {
        shorts: "k:s:vl::",
        longs: &[
            ("kill-after", Value::Required, 'k'),
            ("signal", Value::Required, 's'),
            ("verbose", Value::None, 'v'),
            ("list", Value::Optional, 'l'),
            ("foreground", Value::None, 'F'),
            ("foo", Value::None, 'o'),
        ],
        stop_at_operand: true,
        negative_numbers: false,
    };

    fn items(line: &str) -> Result<Vec<Item>, String> {
        let args: Vec<OsString> = line.split_whitespace().map(OsString::from).collect();
        parse(&SPEC, &args).map_err(|refused| refused.message)
    }

    fn opt(key: char, value: Option<&str>) -> Item {
        Item::Opt(key, value.map(str::to_owned))
    }

    #[test]
    fn attached_and_separate_values() {
        assert_eq!(items("-sKILL").unwrap(), vec![opt('s', Some("KILL"))]);
        assert_eq!(items("-s KILL").unwrap(), vec![opt('s', Some("KILL"))]);
        assert_eq!(
            items("-vs0").unwrap(),
            vec![opt('v', None), opt('s', Some("0"))]
        );
        assert_eq!(items("--signal=HUP").unwrap(), vec![opt('s', Some("HUP"))]);
        assert_eq!(items("--sig HUP").unwrap(), vec![opt('s', Some("HUP"))]);
        assert_eq!(items("-l").unwrap(), vec![opt('l', None)]);
        assert_eq!(items("-l9").unwrap(), vec![opt('l', Some("9"))]);
    }

    #[test]
    fn operands_stop_the_options_when_asked() {
        let got = items("-v 5 sleep -s 1").unwrap();
        assert_eq!(got[0], opt('v', None));
        assert_eq!(got.len(), 5);
        assert_eq!(got[2], Item::Operand("sleep".into()));
        assert_eq!(items("-- -v").unwrap(), vec![Item::Operand("-v".into())]);
    }

    #[test]
    fn mixed_when_not() {
        let spec = Spec {
            stop_at_operand: false,
            ..SPEC
        };
        let args: Vec<OsString> = ["x", "-v"].iter().map(OsString::from).collect();
        assert_eq!(
            parse(&spec, &args).unwrap(),
            vec![opt('v', None), Item::Operand("x".into())]
        );
    }

    #[test]
    fn getopt_errors() {
        assert_eq!(items("-x").unwrap_err(), "invalid option -- 'x'");
        assert_eq!(
            items("-s").unwrap_err(),
            "option requires an argument -- 's'"
        );
        assert_eq!(
            items("--bogus").unwrap_err(),
            "unrecognized option '--bogus'"
        );
        assert!(items("--f").unwrap_err().contains("ambiguous"));
        assert_eq!(
            items("--verbose=1").unwrap_err(),
            "option '--verbose' doesn't allow an argument"
        );
        assert_eq!(
            items("--signal").unwrap_err(),
            "option '--signal' requires an argument"
        );
    }

    #[test]
    fn the_letter_getopt_reports() {
        let refused = |line: &str| {
            let args: Vec<OsString> = line.split_whitespace().map(OsString::from).collect();
            let refused = parse(&SPEC, &args).unwrap_err();
            (refused.letter, refused.word)
        };
        assert_eq!(refused("-vx"), ('x', "-vx".to_owned()));
        assert_eq!(refused("-s"), ('s', "-s".to_owned()));
        assert_eq!(refused("--bogus=1"), ('\0', "--bogus".to_owned()));
        assert_eq!(refused("--f"), ('\0', "--f".to_owned()));
        assert_eq!(refused("--verbose=1"), ('v', "--verbose=1".to_owned()));
    }

    #[test]
    fn only_a_one_digit_negative_number_is_an_operand() {
        let spec = Spec {
            negative_numbers: true,
            ..SPEC
        };
        let args =
            |line: &str| -> Vec<OsString> { line.split_whitespace().map(OsString::from).collect() };
        assert_eq!(
            parse(&spec, &args("-1")).unwrap(),
            vec![Item::Operand("-1".into())]
        );
        let refused = parse(&spec, &args("-123")).unwrap_err();
        assert_eq!((refused.letter, refused.word.as_str()), ('1', "-123"));
    }
}
