//! How deeply a statement can nest, measured on its text before anything parses it.
//!
//! squawk's parser descends recursively into parentheses, brackets, `CASE` and prefix operators, and
//! the tree it builds nests one node per operator of a chain (`a + b + c …`, `UNION`, `JOIN`, `::`);
//! freeing and walking that tree recurse too. A statement of 1,000 nested parentheses overflowed a
//! parsing thread's stack and aborted the process. Stack use is bounded by a measure read from the
//! text alone: the tokens of the list item being read at each open level (an item ends at a `,`, a
//! `;`, or a `WHEN`/`THEN`/`ELSE` of its `CASE`) plus one per open level, where `UNION`, `INTERSECT`
//! and `EXCEPT` carry the count of the query before them into the next one. Every way the parser
//! or the tree can nest adds at least one to it, and lists (`VALUES` rows, columns, arguments), which
//! do not nest, add nothing. Statements over [`MAX_NESTING`] are refused before they are parsed, and
//! the threads that parse and lint run with stacks sized for statements at the limit
//! ([`STACK_SIZE`]).
//!
//! The decoded text of a string or dollar-quoted literal is measured too: squawk parses the body of
//! a `LANGUAGE sql` function when it checks a statement (one level deep: a body's own literals are
//! not parsed again).

/// The most nesting a statement may have (see the module documentation). Real migrations stay far
/// below it: the deepest statement of the shared corpus (1,355 files) measures 124, and a `WHERE` of
/// 1,000 `OR`ed comparisons about 4,000.
pub const MAX_NESTING: u32 = 20_000;

/// Stack of the threads that parse and lint. At the limit, a debug build (the most stack-hungry)
/// used at most about 35 MiB (20,000 `NOT`s; 10,000 nested parentheses about 30 MiB); this leaves
/// more than three times that. Only the pages a deep statement touches are ever used.
pub const STACK_SIZE: usize = 128 * 1024 * 1024;

/// Text this short cannot pass the limit.
const SHORT: usize = MAX_NESTING as usize / 2;

/// Where a statement first nests deeper than [`MAX_NESTING`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooDeep {
    /// Byte offset in the statement's text.
    pub at: usize,
}

/// Checks a statement's text, its literals' decoded text included.
pub fn check(text: &str) -> Result<(), TooDeep> {
    // No byte adds more than two to the measure, so short text needs no scan.
    if text.len() <= SHORT {
        return Ok(());
    }
    let mut literals = Vec::new();
    measure(text, MAX_NESTING, Some(&mut literals)).map_err(|at| TooDeep { at })?;
    for (start, body) in literals {
        // A body's offsets are its decoded text's; the literal's start is close enough to point at.
        measure(&body, MAX_NESTING, None).map_err(|_| TooDeep { at: start })?;
    }
    Ok(())
}

/// The measure of a statement's text (its literals' bodies not included), whatever its size.
pub fn nesting(text: &str) -> u32 {
    measure(text, u32::MAX, None).unwrap_or(u32::MAX)
}

/// One open level: tokens carried over from before a set operation, tokens of the current item, and
/// whether it is a `CASE`.
#[derive(Debug, Clone, Copy)]
struct Level {
    carry: u32,
    item: u32,
    case: bool,
}

/// Scans `text`: its largest measure, or `Err(offset)` where the measure first passes `limit`.
/// Literal bodies are collected into `literals` when given.
fn measure(text: &str, limit: u32, mut literals: Option<&mut Vec<(usize, String)>>) -> Result<u32, usize> {
    let bytes = text.as_bytes();
    let mut levels = vec![Level {
        carry: 0,
        item: 0,
        case: false,
    }];
    // The measure: every level's carry and item, plus one per level above the first.
    let mut total: u32 = 0;
    let mut max: u32 = 0;
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let b = bytes[i];
        let mut token = true;
        match b {
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                token = false;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let mut depth = 0u32;
                while i < bytes.len() {
                    if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                token = false;
            }
            b'\'' => {
                let escapes =
                    i > 0 && matches!(bytes[i - 1], b'e' | b'E') && (i < 2 || !is_ident_byte(bytes[i - 2]));
                let (end, body) = quoted(text, i, escapes);
                if let (Some(out), Some(body)) = (literals.as_deref_mut(), body) {
                    out.push((start, body));
                }
                i = end;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() {
                    if bytes[i] == b'"' {
                        if bytes.get(i + 1) == Some(&b'"') {
                            i += 2;
                            continue;
                        }
                        i += 1;
                        break;
                    }
                    i += 1;
                }
            }
            b'$' if dollar_tag(&text[i..]).is_some() && (i == 0 || !is_ident_byte(bytes[i - 1])) => {
                let tag = dollar_tag(&text[i..]).unwrap_or_default();
                let body_start = i + tag.len();
                let body_end = text[body_start..]
                    .find(tag.as_str())
                    .map_or(bytes.len(), |at| body_start + at);
                if let Some(out) = literals.as_deref_mut().filter(|_| body_end - body_start > SHORT) {
                    out.push((start, text[body_start..body_end].to_owned()));
                }
                i = (body_end + tag.len()).min(bytes.len());
            }
            b'(' | b'[' => {
                i += 1;
                bump(&mut levels, &mut total);
                levels.push(Level {
                    carry: 0,
                    item: 0,
                    case: false,
                });
                total = total.saturating_add(1);
                if total > limit {
                    return Err(start);
                }
                max = max.max(total);
                continue;
            }
            b')' | b']' => {
                i += 1;
                // Closes the innermost bracket, and any `CASE` left open inside it.
                while levels.len() > 1 {
                    let level = levels.pop().unwrap_or(Level {
                        carry: 0,
                        item: 0,
                        case: false,
                    });
                    total = total.saturating_sub(level.carry + level.item + 1);
                    if !level.case {
                        break;
                    }
                }
                bump(&mut levels, &mut total);
                continue;
            }
            b',' | b';' => {
                i += 1;
                if let Some(level) = levels.last_mut() {
                    total = total.saturating_sub(level.item);
                    level.item = 0;
                }
                continue;
            }
            _ if is_ident_start(b) => {
                while i < bytes.len() && is_ident_byte(bytes[i]) {
                    i += 1;
                }
                let word = &text[start..i];
                if word.eq_ignore_ascii_case("case") {
                    bump(&mut levels, &mut total);
                    levels.push(Level {
                        carry: 0,
                        item: 0,
                        case: true,
                    });
                    total = total.saturating_add(1);
                    if total > limit {
                        return Err(start);
                    }
                    max = max.max(total);
                    continue;
                }
                let top_is_case = levels.last().is_some_and(|l| l.case);
                if top_is_case && word.eq_ignore_ascii_case("end") {
                    if let Some(level) = levels.pop() {
                        total = total.saturating_sub(level.carry + level.item + 1);
                    }
                    bump(&mut levels, &mut total);
                    continue;
                }
                if top_is_case
                    && ["when", "then", "else"]
                        .iter()
                        .any(|w| word.eq_ignore_ascii_case(w))
                {
                    if let Some(level) = levels.last_mut() {
                        total = total.saturating_sub(level.item);
                        level.item = 0;
                    }
                    continue;
                }
                if ["union", "intersect", "except"]
                    .iter()
                    .any(|w| word.eq_ignore_ascii_case(w))
                {
                    if let Some(level) = levels.last_mut() {
                        level.carry = level.carry.saturating_add(level.item + 1);
                        total = total.saturating_add(1);
                        level.item = 0;
                    }
                    if total > limit {
                        return Err(start);
                    }
                    max = max.max(total);
                    continue;
                }
            }
            _ if b.is_ascii_digit() => {
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.' || bytes[i] == b'_')
                {
                    i += 1;
                }
            }
            _ if b.is_ascii_whitespace() => {
                i += 1;
                token = false;
            }
            _ if is_operator_byte(b) => {
                while i < bytes.len() && is_operator_byte(bytes[i]) {
                    if (bytes[i] == b'-' && bytes.get(i + 1) == Some(&b'-'))
                        || (bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*'))
                    {
                        break;
                    }
                    i += 1;
                }
                if i == start {
                    i += 1;
                }
            }
            _ => {
                // `.`, `:`, `$1` and anything else: one token per character.
                i += text[i..].chars().next().map_or(1, char::len_utf8);
            }
        }
        if token {
            bump(&mut levels, &mut total);
            if total > limit {
                return Err(start);
            }
            max = max.max(total);
        }
    }
    Ok(max)
}

/// Counts one token in the innermost level's current item.
fn bump(levels: &mut [Level], total: &mut u32) {
    if let Some(level) = levels.last_mut() {
        level.item = level.item.saturating_add(1);
        *total = total.saturating_add(1);
    }
}

/// The end of the quoted string starting at `start` and, when it is long enough to matter, its
/// decoded text (`''` and, in `E''`, backslash escapes).
fn quoted(text: &str, start: usize, escapes: bool) -> (usize, Option<String>) {
    let bytes = text.as_bytes();
    let mut i = start + 1;
    let end = loop {
        match bytes.get(i) {
            None => break bytes.len(),
            Some(b'\\') if escapes => i += 2,
            Some(b'\'') if bytes.get(i + 1) == Some(&b'\'') => i += 2,
            Some(b'\'') => break i + 1,
            Some(_) => i += 1,
        }
    };
    let end = end.min(bytes.len());
    if end - start <= SHORT {
        return (end, None);
    }
    let mut out = Vec::with_capacity(end - start);
    let mut i = start + 1;
    while i < end {
        match bytes[i] {
            b'\\' if escapes && i + 1 < end => {
                out.push(bytes[i + 1]);
                i += 2;
            }
            b'\'' if i + 1 < end && bytes[i + 1] == b'\'' => {
                out.push(b'\'');
                i += 2;
            }
            b'\'' => break,
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    (end, Some(String::from_utf8_lossy(&out).into_owned()))
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// PostgreSQL's operator characters.
fn is_operator_byte(b: u8) -> bool {
    matches!(
        b,
        b'+' | b'-'
            | b'*'
            | b'/'
            | b'<'
            | b'>'
            | b'='
            | b'~'
            | b'!'
            | b'@'
            | b'#'
            | b'%'
            | b'^'
            | b'&'
            | b'|'
            | b'`'
            | b'?'
    )
}

/// `$tag$` or `$$` at the start of `text`.
fn dollar_tag(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    if bytes.get(1).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let mut end = 1;
    while end < bytes.len()
        && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_' || bytes[end] >= 0x80)
    {
        end += 1;
    }
    (bytes.get(end) == Some(&b'$')).then(|| text[..=end].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused_at(n: usize, make: fn(usize) -> String) -> bool {
        check(&make(n)).is_err()
    }

    #[test]
    fn lists_do_not_nest_and_chains_do() {
        let limit = MAX_NESTING as usize;
        type Make = fn(usize) -> String;
        let cases: &[(&str, Make, bool)] = &[
            (
                "values rows",
                |n| format!("insert into t values {}", vec!["(1, 'a', now())"; n].join(", ")),
                false,
            ),
            (
                "columns",
                |n| {
                    format!(
                        "create table t ({})",
                        (0..n).map(|i| format!("c{i} int")).collect::<Vec<_>>().join(", ")
                    )
                },
                false,
            ),
            (
                "in list",
                |n| format!("select 1 where a in ({})", vec!["1"; n].join(", ")),
                false,
            ),
            (
                "flat case",
                |n| format!("select case {} end", vec!["when a = 1 then 2"; n].join(" ")),
                false,
            ),
            (
                "parentheses",
                |n| format!("select {}1{}", "(".repeat(n), ")".repeat(n)),
                true,
            ),
            (
                "brackets",
                |n| format!("select {}1{}", "array[".repeat(n), "]".repeat(n)),
                true,
            ),
            ("prefix not", |n| format!("select {}true", "not ".repeat(n)), true),
            ("prefix minus", |n| format!("select {}1", "- ".repeat(n)), true),
            ("plus chain", |n| format!("select 1{}", " + 1".repeat(n)), true),
            (
                "nested case",
                |n| format!("select {}1{}", "case when true then ".repeat(n), " end".repeat(n)),
                true,
            ),
            (
                "union with lists",
                |n| format!("select 1, 2{}", " union select 1, 2".repeat(n)),
                true,
            ),
            ("cast chain", |n| format!("select 1{}", "::int".repeat(n)), true),
            (
                "sql body",
                |n| {
                    format!(
                        "create function f() returns int language sql as $$ select {}1{} $$",
                        "(".repeat(n),
                        ")".repeat(n)
                    )
                },
                true,
            ),
            (
                "quoted sql body",
                |n| {
                    format!(
                        "create function f() returns int language sql as ' select {}''a''{} '",
                        "(".repeat(n),
                        ")".repeat(n)
                    )
                },
                true,
            ),
        ];
        let or_chain = format!("delete from t where {}", vec!["a = 1"; 1000].join(" or "));
        assert!(
            (4000..4100).contains(&nesting(&or_chain)),
            "{}",
            nesting(&or_chain)
        );
        assert_eq!(nesting("select f(a, (b + c)), 2"), 9);
        for (name, make, nests) in cases {
            assert!(!refused_at(100, *make), "{name}: 100 is fine");
            assert_eq!(refused_at(limit, *make), *nests, "{name} at the limit");
            assert_eq!(refused_at(100_000, *make), *nests, "{name} at 100,000");
        }
    }

    #[test]
    fn the_offset_points_where_the_limit_is_passed() {
        let n = MAX_NESTING as usize;
        let text = format!("select 1;\nselect {}1{}", "(".repeat(n), ")".repeat(n));
        let at = check(&text).unwrap_err().at;
        assert_eq!(&text[at..at + 1], "(");
        assert!(at > 10);
        // Comments and quoted text do not count.
        let quiet = format!(
            "select 1 -- {}\n /* {} */, '{}'",
            "(".repeat(n * 2),
            "(".repeat(n * 2),
            "-".repeat(n * 2)
        );
        assert_eq!(check(&quiet), Ok(()));
    }
}
