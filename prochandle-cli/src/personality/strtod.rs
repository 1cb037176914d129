//! Numbers as the C library's `strtod` reads them, for timeout(1)'s
//! DURATION: leading white space, a sign, decimal or hexadecimal
//! (`0x1p-2`) digits with an exponent, `inf`, `infinity`, `nan`; the
//! longest prefix that is a number, and where it ends. A value beyond
//! `f64` is infinite, as `strtod` saturates to `HUGE_VAL`.

/// A number read from the front of a text.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Number {
    pub value: f64,
    /// Bytes of the text it took.
    pub len: usize,
    /// A non-zero number too small for `f64`, read as 0 (`1e-10000`).
    pub underflowed: bool,
}

/// The number at the front of `text`, or `None` if there is none (what
/// `strtod` reports by leaving its end pointer at the start).
pub fn read(text: &str) -> Option<Number> {
    let bytes = text.as_bytes();
    let mut at = bytes
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
        .count();
    let start = at;
    let negative = bytes.get(at) == Some(&b'-');
    if matches!(bytes.get(at), Some(b'+' | b'-')) {
        at += 1;
    }
    let rest = &text[at..];
    let sign = if negative { -1.0 } else { 1.0 };
    if let Some((value, len)) = special(rest) {
        return Some(Number {
            value: sign * value,
            len: at + len,
            underflowed: false,
        });
    }
    let lower = rest.to_ascii_lowercase();
    if lower.starts_with("0x") {
        if let Some((value, len, nonzero)) = hexadecimal(&rest[2..]) {
            let value = sign * value;
            return Some(Number {
                value,
                len: at + 2 + len,
                underflowed: nonzero && value == 0.0,
            });
        }
    }
    let (len, nonzero) = decimal(rest)?;
    let value: f64 = text[start..at + len].trim_start_matches('+').parse().ok()?;
    Some(Number {
        value,
        len: at + len,
        underflowed: nonzero && value == 0.0,
    })
}

/// `inf`, `infinity`, `nan` and `nan(...)`, in any case.
fn special(text: &str) -> Option<(f64, usize)> {
    let lower = text.get(..text.len().min(8))?.to_ascii_lowercase();
    if lower.starts_with("infinity") {
        return Some((f64::INFINITY, 8));
    }
    if lower.starts_with("inf") {
        return Some((f64::INFINITY, 3));
    }
    if !lower.starts_with("nan") {
        return None;
    }
    let after = &text[3..];
    let group = after.strip_prefix('(').and_then(|inner| {
        let end = inner.find(')')?;
        inner[..end]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            .then_some(end + 2)
    });
    Some((f64::NAN, 3 + group.unwrap_or(0)))
}

/// The length of `digits[.digits][e[sign]digits]` (at least one digit),
/// and whether a mantissa digit is non-zero.
fn decimal(text: &str) -> Option<(usize, bool)> {
    let bytes = text.as_bytes();
    let digits = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let whole = digits(0);
    let mut len = whole;
    let mut fraction = 0;
    if bytes.get(len) == Some(&b'.') {
        fraction = digits(len + 1);
        len += 1 + fraction;
    }
    if whole + fraction == 0 {
        return None;
    }
    let nonzero = text[..len].bytes().any(|b| (b'1'..=b'9').contains(&b));
    if matches!(bytes.get(len), Some(b'e' | b'E')) {
        let mut exp = len + 1;
        if matches!(bytes.get(exp), Some(b'+' | b'-')) {
            exp += 1;
        }
        let exp_digits = digits(exp);
        if exp_digits > 0 {
            len = exp + exp_digits;
        }
    }
    Some((len, nonzero))
}

/// `h[.h][p[sign]d]` after `0x`: the value, its length, whether a digit
/// is non-zero; `None` without a hexadecimal digit (then `strtod` reads
/// the `0` alone).
fn hexadecimal(text: &str) -> Option<(f64, usize, bool)> {
    let bytes = text.as_bytes();
    let mut mantissa = 0.0f64;
    let mut scale = 0i64;
    let mut len = 0;
    let mut seen = 0;
    let mut in_fraction = false;
    while let Some(&b) = bytes.get(len) {
        if b == b'.' && !in_fraction {
            in_fraction = true;
        } else if let Some(digit) = (b as char).to_digit(16) {
            mantissa = mantissa * 16.0 + f64::from(digit);
            seen += 1;
            if in_fraction {
                scale -= 4;
            }
        } else {
            break;
        }
        len += 1;
    }
    if seen == 0 {
        return None;
    }
    let nonzero = mantissa != 0.0;
    if matches!(bytes.get(len), Some(b'p' | b'P')) {
        let mut exp = len + 1;
        let negative = bytes.get(exp) == Some(&b'-');
        if matches!(bytes.get(exp), Some(b'+' | b'-')) {
            exp += 1;
        }
        let count = bytes[exp..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if count > 0 {
            let power: i64 = text[exp..exp + count].parse().unwrap_or(i64::MAX / 2);
            scale = scale.saturating_add(if negative { -power } else { power });
            len = exp + count;
        }
    }
    let power = scale.clamp(-2000, 2000) as i32;
    Some((mantissa * 2f64.powi(power), len, nonzero))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> (f64, usize) {
        let n = read(text).unwrap();
        (n.value, n.len)
    }

    #[test]
    fn decimal_forms() {
        assert_eq!(value("10.34"), (10.34, 5));
        assert_eq!(value("2.34e+5d"), (234000.0, 7));
        assert_eq!(value(" -0.1"), (-0.1, 5));
        assert_eq!(value("1."), (1.0, 2));
        assert_eq!(value(".5s"), (0.5, 2));
        assert_eq!(value("1e"), (1.0, 1));
        assert_eq!(value("9223372036854775808d").1, 19);
        assert!(value("1e400").0.is_infinite());
        assert!(read("x").is_none());
        assert!(read(".").is_none());
        assert!(read("").is_none());
    }

    #[test]
    fn hexadecimal_and_special_forms() {
        assert_eq!(value("0x1p-2"), (0.25, 6));
        assert_eq!(value("0x10"), (16.0, 4));
        assert_eq!(value("0x"), (0.0, 1));
        assert_eq!(value("inf"), (f64::INFINITY, 3));
        assert_eq!(value("Infinity"), (f64::INFINITY, 8));
        assert!(value("nan").0.is_nan());
    }

    #[test]
    fn underflow_is_told_from_zero() {
        assert!(read("1e-10000").unwrap().underflowed);
        assert!(!read("0e-10000").unwrap().underflowed);
        assert!(read("-1e-10000").unwrap().underflowed);
    }
}
