//! PEP 440 versions, as docker/metadata-action's `type=pep440` reads them (`@renovate/pep440`): the
//! canonical pattern (case-insensitive, optional `v`), normalized spellings (`alpha`→`a`, `c`/`pre`/
//! `preview`→`rc`, `rev`/`r`→`post`, `1.0-1`→`1.0.post1`), and `major`/`minor`/`patch` with missing
//! parts as `0`.

/// A parsed PEP 440 version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pep440 {
    /// The input as given.
    pub raw: String,
    epoch: u64,
    release: Vec<u64>,
    pre: Option<(String, u64)>,
    post: Option<u64>,
    dev: Option<u64>,
    local: Option<Vec<String>>,
}

impl Pep440 {
    /// A pre-, post- or development release (these get `{{version}}` or `{{raw}}` only).
    pub fn is_special(&self) -> bool {
        self.pre.is_some() || self.post.is_some() || self.dev.is_some()
    }

    /// The normalized form (`pep440.clean`).
    pub fn clean(&self) -> String {
        let mut out = String::new();
        if self.epoch != 0 {
            out.push_str(&format!("{}!", self.epoch));
        }
        out.push_str(
            &self
                .release
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join("."),
        );
        if let Some((letter, n)) = &self.pre {
            out.push_str(&format!("{letter}{n}"));
        }
        if let Some(n) = self.post {
            out.push_str(&format!(".post{n}"));
        }
        if let Some(n) = self.dev {
            out.push_str(&format!(".dev{n}"));
        }
        if let Some(local) = &self.local {
            // `@renovate/pep440` joins the local parts with `,` (an array printed by JavaScript), which
            // then becomes `-` in a tag; PEP 440 normalizes the separators to `.`
            out.push('+');
            out.push_str(&local.join("."));
        }
        out
    }

    fn part(&self, index: usize) -> u64 {
        self.release.get(index).copied().unwrap_or(0)
    }

    /// The names a `pattern` can use.
    pub fn var(&self, name: &str) -> Option<String> {
        Some(match name {
            "raw" => self.raw.clone(),
            "version" => self.clean(),
            "major" => self.part(0).to_string(),
            "minor" => self.part(1).to_string(),
            "patch" => self.part(2).to_string(),
            _ => return None,
        })
    }
}

/// Parses a version; `None` when `pep440.valid()` would return null (no surrounding blanks allowed).
pub fn parse(raw: &str) -> Option<Pep440> {
    let lower = raw.to_ascii_lowercase();
    let mut p = Parser {
        s: lower.as_bytes(),
        i: 0,
    };
    p.eat(b'v');
    // epoch
    let save = p.i;
    let mut epoch = 0;
    if let Some(n) = p.number() {
        if p.eat(b'!') {
            epoch = n;
        } else {
            p.i = save;
        }
    }
    let mut release = vec![p.number()?];
    loop {
        let save = p.i;
        if p.eat(b'.')
            && let Some(n) = p.number()
        {
            release.push(n);
            continue;
        }
        p.i = save;
        break;
    }
    let pre = p
        .letter_part(&["alpha", "beta", "preview", "pre", "rc", "a", "b", "c"])
        .map(|(letter, n)| {
            let letter = match letter.as_str() {
                "alpha" => "a",
                "beta" => "b",
                "c" | "pre" | "preview" => "rc",
                other => other,
            };
            (letter.to_owned(), n)
        });
    let post = {
        let save = p.i;
        if p.eat(b'-') && p.peek_digit() {
            p.number()
        } else {
            p.i = save;
            p.letter_part(&["post", "rev", "r"]).map(|(_, n)| n)
        }
    };
    let dev = p.letter_part(&["dev"]).map(|(_, n)| n);
    let local = if p.eat(b'+') {
        let start = p.i;
        let rest = &lower[start..];
        let parts: Vec<String> = rest.split(['.', '_', '-']).map(str::to_owned).collect();
        let valid = !parts.is_empty()
            && parts
                .iter()
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric()));
        if !valid {
            return None;
        }
        p.i = p.s.len();
        Some(
            parts
                .into_iter()
                .map(|part| {
                    if part.bytes().all(|b| b.is_ascii_digit()) {
                        match part.trim_start_matches('0') {
                            "" => "0".to_owned(),
                            digits => digits.to_owned(),
                        }
                    } else {
                        part
                    }
                })
                .collect(),
        )
    } else {
        None
    };
    if p.i != p.s.len() {
        return None;
    }
    Some(Pep440 {
        raw: raw.to_owned(),
        epoch,
        release,
        pre,
        post,
        dev,
        local,
    })
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn eat(&mut self, b: u8) -> bool {
        if self.s.get(self.i) == Some(&b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn peek_digit(&self) -> bool {
        self.s.get(self.i).is_some_and(u8::is_ascii_digit)
    }

    /// Digits as a number (leading zeros allowed and dropped; huge numbers saturate).
    fn number(&mut self) -> Option<u64> {
        let start = self.i;
        while self.peek_digit() {
            self.i += 1;
        }
        if start == self.i {
            return None;
        }
        let digits = std::str::from_utf8(&self.s[start..self.i]).ok()?;
        Some(digits.parse::<u64>().unwrap_or(u64::MAX))
    }

    /// `[-_.]?(letter)[-_.]?(number)?`, trying the letters in order; the number defaults to 0.
    fn letter_part(&mut self, letters: &[&str]) -> Option<(String, u64)> {
        let save = self.i;
        if matches!(self.s.get(self.i), Some(b'-' | b'_' | b'.')) {
            self.i += 1;
        }
        let rest = &self.s[self.i..];
        let Some(letter) = letters.iter().find(|l| rest.starts_with(l.as_bytes())) else {
            self.i = save;
            return None;
        };
        self.i += letter.len();
        let after_letter = self.i;
        if matches!(self.s.get(self.i), Some(b'-' | b'_' | b'.')) {
            self.i += 1;
        }
        let n = match self.number() {
            Some(n) => n,
            None => {
                self.i = after_letter;
                0
            }
        };
        Some(((*letter).to_owned(), n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected values from `@renovate/pep440` 1.0 (`valid`, `clean`, `explain`), except the local part,
    /// which PEP 440 joins with `.`.
    #[test]
    fn parses_and_normalizes() {
        for (input, clean, special) in [
            ("1.2.3", "1.2.3", false),
            ("v1.2.3", "1.2.3", false),
            ("1.2", "1.2", false),
            ("1.2.3rc2", "1.2.3rc2", true),
            ("v1.2.3rc2", "1.2.3rc2", true),
            ("1.2.3beta2", "1.2.3b2", true),
            ("1.1beta2", "1.1b2", true),
            ("1.2post1", "1.2.post1", true),
            ("1.2.3post1", "1.2.3.post1", true),
            ("1.0dev4", "1.0.dev4", true),
            ("1.0-1", "1.0.post1", true),
            ("1.0.REV-3", "1.0.post3", true),
            ("1!2.0", "1!2.0", false),
            ("2.0a", "2.0a0", true),
            ("1.0.preview.1", "1.0rc1", true),
            ("1.0+Ubuntu-1", "1.0+ubuntu.1", false),
            ("01.002.3", "1.2.3", false),
            ("1.0.post1.dev2", "1.0.post1.dev2", true),
            ("20200110-RC2", "20200110rc2", true),
            ("1.0+007", "1.0+7", false),
        ] {
            let v = parse(input).unwrap_or_else(|| panic!("{input} should parse"));
            assert_eq!(v.clean(), clean, "{input}");
            assert_eq!(v.is_special(), special, "{input}");
        }
    }

    #[test]
    fn rejects_what_pep440_rejects() {
        for input in [
            "",
            "v",
            "1.2.3-beta.1.2",
            "release1",
            "1.2.3+",
            "1.2.3+a..b",
            " 1.2.3",
            "1.2.x",
            "p1/v1.2.3",
            "1.0-",
        ] {
            assert!(parse(input).is_none(), "{input} should be rejected");
        }
    }

    #[test]
    fn pattern_names() {
        let v = parse("1.2").unwrap();
        assert_eq!(v.var("major").as_deref(), Some("1"));
        assert_eq!(v.var("minor").as_deref(), Some("2"));
        assert_eq!(v.var("patch").as_deref(), Some("0"));
        assert_eq!(v.var("raw").as_deref(), Some("1.2"));
        assert_eq!(v.var("version").as_deref(), Some("1.2"));
    }
}
