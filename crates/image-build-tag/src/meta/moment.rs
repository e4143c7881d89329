//! moment.js `format()` tokens with the `en` locale, as docker/metadata-action renders `{{date 'FORMAT'}}`.
//!
//! The token grammar is moment's own (longest match first, `[literal]` text, `\` escapes, the `L`/`l`
//! localized formats expanded first); every token has a row in the tests, checked against
//! moment-timezone 0.6. Time zones come from the IANA database bundled into the binary, so the result
//! does not depend on the machine's tzdata.

use jiff::Zoned;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// A time zone by IANA name (case-insensitive, as moment-timezone treats them).
pub fn zone(name: &str) -> Option<TimeZone> {
    if name.eq_ignore_ascii_case("utc") {
        return Some(TimeZone::UTC);
    }
    jiff::tz::db().get(name).ok()
}

/// Formats `at` like `moment(at).tz(zone).format(format)`; `None` is moment's default format.
pub fn format(at: &Zoned, format: Option<&str>) -> String {
    let format = match format {
        Some(f) if !f.is_empty() => expand_local(f),
        // moment: `defaultFormatUtc` when the offset is zero, else `defaultFormat`
        _ if at.offset().seconds() == 0 => "YYYY-MM-DDTHH:mm:ss[Z]".to_owned(),
        _ => "YYYY-MM-DDTHH:mm:ssZ".to_owned(),
    };
    let mut out = String::new();
    for token in tokenize(&format) {
        match value(at, &token) {
            Some(v) => out.push_str(&v),
            None => out.push_str(&literal(&token)),
        }
    }
    out
}

/// Splits a format the way moment's `formattingTokens` regex does (leftmost-first alternation), by
/// hand: compiling that regex costs more than the rest of a metadata run. A test checks this against
/// the regex itself.
pub fn tokenize(format: &str) -> Vec<String> {
    let chars: Vec<char> = format.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let n = token_len(&chars, i);
        if n == 0 {
            // `.` does not match a line break: moment drops it
            i += 1;
            continue;
        }
        tokens.push(chars[i..i + n].iter().collect());
        i += n;
    }
    tokens
}

/// `\[[^\[]*\]`: up to the last `]` before the next `[`.
fn bracket_len(chars: &[char], i: usize) -> Option<usize> {
    let next_open = (i + 1..chars.len())
        .find(|&k| chars[k] == '[')
        .unwrap_or(chars.len());
    (i + 1..next_open)
        .rev()
        .find(|&k| chars[k] == ']')
        .map(|close| close - i + 1)
}

fn run_of(chars: &[char], i: usize, c: char, max: usize) -> usize {
    chars[i..].iter().take(max).take_while(|&&x| x == c).count()
}

fn token_len(chars: &[char], i: usize) -> usize {
    if chars[i] == '['
        && let Some(n) = bracket_len(chars, i)
    {
        return n;
    }
    if chars[i] == '\\' && i + 1 < chars.len() {
        let n = alternative_len(chars, i + 1);
        if n > 0 {
            return n + 1;
        }
    }
    alternative_len(chars, i)
}

/// The first alternative of `[Hh]mm(ss)?|Mo|MM?M?M?|Do|DDDo|DD?D?D?|ddd?d?|do?|w[o|w]?|W[o|W]?|Qo?|
/// N{1,5}|YYYYYY|YYYYY|YYYY|YY|y{2,4}|yo?|gg(ggg?)?|GG(GGG?)?|e|E|a|A|hh?|HH?|kk?|mm?|ss?|S{1,9}|x|X|
/// zz?|ZZ?|.` that matches at `i`; 0 for a line break.
fn alternative_len(chars: &[char], i: usize) -> usize {
    let at = |k: usize| chars.get(i + k).copied();
    let run = |c: char, max: usize| run_of(chars, i, c, max);
    match chars[i] {
        'H' | 'h' if at(1) == Some('m') && at(2) == Some('m') => {
            if at(3) == Some('s') && at(4) == Some('s') {
                5
            } else {
                3
            }
        }
        'M' if at(1) == Some('o') => 2,
        'M' => run('M', 4),
        'D' if at(1) == Some('o') => 2,
        'D' if at(1) == Some('D') && at(2) == Some('D') && at(3) == Some('o') => 4,
        'D' => run('D', 4),
        'd' if at(1) == Some('d') => run('d', 4),
        'd' | 'Q' => 1 + usize::from(at(1) == Some('o')),
        'w' => 1 + usize::from(matches!(at(1), Some('o' | '|' | 'w'))),
        'W' => 1 + usize::from(matches!(at(1), Some('o' | '|' | 'W'))),
        'N' => run('N', 5),
        'Y' => match run('Y', 6) {
            n @ 4..=6 => n,
            2 | 3 => 2,
            _ => 1,
        },
        'y' => match run('y', 4) {
            n @ 2..=4 => n,
            _ => 1 + usize::from(at(1) == Some('o')),
        },
        c @ ('g' | 'G') => match run(c, 5) {
            n @ 4..=5 => n,
            2 | 3 => 2,
            _ => 1,
        },
        c @ ('h' | 'H' | 'k' | 'm' | 's' | 'z' | 'Z') => run(c, 2),
        'S' => run('S', 9),
        '\n' => 0,
        _ => 1,
    }
}

/// moment's `expandFormat`: the `en` long date formats (`L`, `LT`, `ll`…), up to six rounds.
fn expand_local(format: &str) -> String {
    let mut format = format.to_owned();
    for _ in 0..6 {
        if !format.contains(['L', 'l']) {
            break;
        }
        let expanded = expand_once(&format);
        if expanded == format {
            break;
        }
        format = expanded;
    }
    format
}

/// One pass of `format.replace(/(\[[^\[]*\])|(\\)?(LTS|LT|LL?L?L?|l{1,4})/g, longDateFormat)`.
fn expand_once(format: &str) -> String {
    let chars: Vec<char> = format.chars().collect();
    let local_len = |i: usize| -> usize {
        match chars.get(i) {
            Some('L') if chars.get(i + 1) == Some(&'T') => {
                if chars.get(i + 2) == Some(&'S') {
                    3
                } else {
                    2
                }
            }
            Some('L') => run_of(&chars, i, 'L', 4),
            Some('l') => run_of(&chars, i, 'l', 4),
            _ => 0,
        }
    };
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '['
            && let Some(n) = bracket_len(&chars, i)
        {
            out.extend(&chars[i..i + n]);
            i += n;
            continue;
        }
        if chars[i] == '\\' && local_len(i + 1) > 0 {
            // an escaped token is not a long date format: kept as it is
            let n = 1 + local_len(i + 1);
            out.extend(&chars[i..i + n]);
            i += n;
            continue;
        }
        let n = local_len(i);
        if n > 0 {
            let token: String = chars[i..i + n].iter().collect();
            out.push_str(long_date_format(&token).unwrap_or(&token));
            i += n;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

fn long_date_format(token: &str) -> Option<&'static str> {
    Some(match token {
        "LTS" => "h:mm:ss A",
        "LT" => "h:mm A",
        "L" => "MM/DD/YYYY",
        "LL" => "MMMM D, YYYY",
        "LLL" => "MMMM D, YYYY h:mm A",
        "LLLL" => "dddd, MMMM D, YYYY h:mm A",
        "l" => "M/D/YYYY",
        "ll" => "MMM D, YYYY",
        "lll" => "MMM D, YYYY h:mm A",
        "llll" => "ddd, MMM D, YYYY h:mm A",
        _ => return None,
    })
}

/// moment's `removeFormattingTokens`: `[text]` loses its brackets, otherwise backslashes go.
fn literal(token: &str) -> String {
    if token.len() > 1 && token.starts_with('[') {
        let inner = token.strip_prefix('[').unwrap_or(token);
        inner.strip_suffix(']').unwrap_or(inner).to_owned()
    } else {
        token.replace('\\', "")
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// moment's `zeroFill`.
fn zero_fill(number: i64, width: usize, force_sign: bool) -> String {
    let sign = if number < 0 {
        "-"
    } else if force_sign {
        "+"
    } else {
        ""
    };
    format!("{sign}{:0width$}", number.unsigned_abs())
}

/// The `en` ordinal: 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st….
fn ordinal(n: i64) -> String {
    let suffix = if (n % 100) / 10 == 1 {
        "th"
    } else {
        match n % 10 {
            1 => "st",
            2 => "nd",
            3 => "rd",
            _ => "th",
        }
    };
    format!("{n}{suffix}")
}

/// moment's week numbering for a locale: `dow` is the first day of the week (0 = Sunday), `doy` makes
/// the week containing January `7 + dow - doy` the first. `en` is (0, 6), ISO 8601 is (1, 4).
fn week_of_year(date: Date, dow: i64, doy: i64) -> (i64, i64) {
    let year = i64::from(date.year());
    let day_of_year = i64::from(date.day_of_year());
    let week = (day_of_year - first_week_offset(year, dow, doy) - 1).div_euclid(7) + 1;
    if week < 1 {
        (week + weeks_in_year(year - 1, dow, doy), year - 1)
    } else if week > weeks_in_year(year, dow, doy) {
        (week - weeks_in_year(year, dow, doy), year + 1)
    } else {
        (week, year)
    }
}

fn first_week_offset(year: i64, dow: i64, doy: i64) -> i64 {
    let fwd = 7 + dow - doy;
    let weekday = i16::try_from(year)
        .ok()
        .and_then(|y| Date::new(y, 1, i8::try_from(fwd).ok()?).ok())
        .map_or(0, |d| i64::from(d.weekday().to_sunday_zero_offset()));
    let fwdlw = (7 + weekday - dow) % 7;
    -fwdlw + fwd - 1
}

fn weeks_in_year(year: i64, dow: i64, doy: i64) -> i64 {
    let days = if is_leap(year) { 366 } else { 365 };
    (days - first_week_offset(year, dow, doy) + first_week_offset(year + 1, dow, doy)) / 7
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// The text of one token, or `None` when it is not a token (then it is literal text).
fn value(at: &Zoned, token: &str) -> Option<String> {
    let date = at.date();
    let year = i64::from(at.year());
    let month = i64::from(at.month());
    let day = i64::from(at.day());
    let weekday = i64::from(at.weekday().to_sunday_zero_offset());
    let hour = i64::from(at.hour());
    let minute = i64::from(at.minute());
    let second = i64::from(at.second());
    let millis = i64::from(at.millisecond());
    let h12 = if hour % 12 == 0 { 12 } else { hour % 12 };
    let k24 = if hour == 0 { 24 } else { hour };
    let offset_minutes = i64::from(at.offset().seconds()) / 60;
    let offset = |sep: &str| {
        let sign = if offset_minutes < 0 { '-' } else { '+' };
        let abs = offset_minutes.abs();
        format!(
            "{sign}{}{sep}{}",
            zero_fill(abs / 60, 2, false),
            zero_fill(abs % 60, 2, false)
        )
    };
    let month_name = MONTHS[usize::try_from(month - 1).unwrap_or(0) % 12];
    let weekday_name = WEEKDAYS[usize::try_from(weekday).unwrap_or(0) % 7];
    let (week, week_year) = week_of_year(date, 0, 6);
    let (iso_week, iso_week_year) = week_of_year(date, 1, 4);
    Some(match token {
        "M" => month.to_string(),
        "Mo" => ordinal(month),
        "MM" => zero_fill(month, 2, false),
        "MMM" => month_name[..3].to_owned(),
        "MMMM" => month_name.to_owned(),
        "Q" => ((month + 2) / 3).to_string(),
        "Qo" => ordinal((month + 2) / 3),
        "D" => day.to_string(),
        "Do" => ordinal(day),
        "DD" => zero_fill(day, 2, false),
        "DDD" => date.day_of_year().to_string(),
        "DDDo" => ordinal(i64::from(date.day_of_year())),
        "DDDD" => zero_fill(i64::from(date.day_of_year()), 3, false),
        "d" | "e" => weekday.to_string(),
        "do" => ordinal(weekday),
        "dd" => weekday_name[..2].to_owned(),
        "ddd" => weekday_name[..3].to_owned(),
        "dddd" => weekday_name.to_owned(),
        "E" => (if weekday == 0 { 7 } else { weekday }).to_string(),
        "w" => week.to_string(),
        "wo" => ordinal(week),
        "ww" => zero_fill(week, 2, false),
        "W" => iso_week.to_string(),
        "Wo" => ordinal(iso_week),
        "WW" => zero_fill(iso_week, 2, false),
        "Y" if year <= 9999 => zero_fill(year, 4, false),
        "Y" => format!("+{year}"),
        "YY" => zero_fill(year % 100, 2, false),
        "YYYY" => zero_fill(year, 4, false),
        "YYYYY" => zero_fill(year, 5, false),
        "YYYYYY" => zero_fill(year, 6, true),
        "y" => year.to_string(),
        "yy" => zero_fill(year, 2, false),
        "yyy" => zero_fill(year, 3, false),
        "yyyy" => zero_fill(year, 4, false),
        "yo" => ordinal(year),
        "N" | "NN" | "NNN" | "NNNNN" => "AD".to_owned(),
        "NNNN" => "Anno Domini".to_owned(),
        "gg" => zero_fill(week_year % 100, 2, false),
        "gggg" => zero_fill(week_year, 4, false),
        "ggggg" => zero_fill(week_year, 5, false),
        "GG" => zero_fill(iso_week_year % 100, 2, false),
        "GGGG" => zero_fill(iso_week_year, 4, false),
        "GGGGG" => zero_fill(iso_week_year, 5, false),
        "a" => (if hour > 11 { "pm" } else { "am" }).to_owned(),
        "A" => (if hour > 11 { "PM" } else { "AM" }).to_owned(),
        "H" => hour.to_string(),
        "HH" => zero_fill(hour, 2, false),
        "h" => h12.to_string(),
        "hh" => zero_fill(h12, 2, false),
        "k" => k24.to_string(),
        "kk" => zero_fill(k24, 2, false),
        "m" => minute.to_string(),
        "mm" => zero_fill(minute, 2, false),
        "s" => second.to_string(),
        "ss" => zero_fill(second, 2, false),
        "Hmm" => format!("{hour}{}", zero_fill(minute, 2, false)),
        "Hmmss" => format!(
            "{hour}{}{}",
            zero_fill(minute, 2, false),
            zero_fill(second, 2, false)
        ),
        "hmm" => format!("{h12}{}", zero_fill(minute, 2, false)),
        "hmmss" => format!(
            "{h12}{}{}",
            zero_fill(minute, 2, false),
            zero_fill(second, 2, false)
        ),
        "S" => (millis / 100).to_string(),
        "SS" => zero_fill(millis / 10, 2, false),
        s if s.len() >= 3 && s.bytes().all(|b| b == b'S') => {
            let width = s.len();
            let scale = 10_i64.pow(u32::try_from(width - 3).unwrap_or(0));
            zero_fill(millis * scale, width, false)
        }
        "x" => at.timestamp().as_millisecond().to_string(),
        "X" => at.timestamp().as_second().to_string(),
        "z" | "zz" => abbreviation(at),
        "Z" => offset(":"),
        "ZZ" => offset(""),
        _ => return None,
    })
}

fn abbreviation(at: &Zoned) -> String {
    at.time_zone()
        .to_offset_info(at.timestamp())
        .abbreviation()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(instant: &str, zone_name: &str) -> Zoned {
        let ts: jiff::Timestamp = instant.parse().unwrap();
        ts.to_zoned(zone(zone_name).unwrap())
    }

    /// Expected values produced by moment-timezone 0.6.2 (`moment(d).tz(tz).format(f)`).
    #[test]
    fn tokens_match_moment() {
        let d = "2020-01-10T00:30:00.000Z";
        for (zone_name, fmt, expected) in [
            ("UTC", "YYYYMMDD", "20200110"),
            (
                "UTC",
                "dddd, MMMM Do YYYY, h:mm:ss a",
                "Friday, January 10th 2020, 12:30:00 am",
            ),
            ("Asia/Tokyo", "YYYYMMDD-HHmmss", "20200110-093000"),
            (
                "UTC",
                "Q Qo DDD DDDo DDDD d do dd ddd e E w wo ww W Wo WW gg gggg GG GGGG",
                "1 1st 10 10th 010 5 5th Fr Fri 5 5 2 2nd 02 2 2nd 02 20 2020 20 2020",
            ),
            (
                "Asia/Tokyo",
                "z zz Z ZZ X x",
                "JST JST +09:00 +0900 1578616200 1578616200000",
            ),
            (
                "UTC",
                "YY Y YYYYY YYYYYY y yy yyy yyyy yo N NN NNNN NNNNN",
                "20 2020 02020 +002020 2020 2020 2020 2020 2020th AD AD Anno Domini AD",
            ),
            (
                "UTC",
                "A a H HH h hh k kk m mm s ss S SS SSS SSSS SSSSSSSSS",
                "AM am 0 00 12 12 24 24 30 30 0 00 0 00 000 0000 000000000",
            ),
            (
                "UTC",
                "LT LTS L l LL ll LLL lll LLLL llll",
                "12:30 AM 12:30:00 AM 01/10/2020 1/10/2020 January 10, 2020 Jan 10, 2020 January 10, 2020 12:30 AM Jan 10, 2020 12:30 AM Friday, January 10, 2020 12:30 AM Fri, Jan 10, 2020 12:30 AM",
            ),
            (
                "UTC",
                r"[today] \\Y Hmm Hmmss hmm hmmss",
                "today 2020 030 03000 1230 123000",
            ),
            (
                "Europe/Paris",
                "M Mo MM MMM MMMM D Do DD",
                "1 1st 01 Jan January 10 10th 10",
            ),
            ("UTC", "z", "UTC"),
            ("America/New_York", "z", "EST"),
            ("Asia/Dubai", "z", "+04"),
            ("UTC", r"[week] w|", "week w|"),
            ("UTC", r"\YYYY-[YYYY]-YYYY", "YYYY-YYYY-2020"),
            ("Asia/Kolkata", "ZZ", "+0530"),
            ("America/St_Johns", "Z", "-03:30"),
        ] {
            assert_eq!(
                format(&at(d, zone_name), Some(fmt)),
                expected,
                "{zone_name} {fmt}"
            );
        }
    }

    /// moment-timezone 0.6.2 again, in summer time with milliseconds.
    #[test]
    fn tokens_match_moment_in_summer_time() {
        let d = "2021-07-04T15:06:07.089Z";
        for (fmt, expected) in [
            (
                "dddd DDDo [of] YYYY, hh:mm:ss.SSS A z ZZ",
                "Sunday 185th of 2021, 08:06:07.089 AM PDT -0700",
            ),
            ("LLLL", "Sunday, July 4, 2021 8:06 AM"),
            ("llll", "Sun, Jul 4, 2021 8:06 AM"),
            ("X x", "1625411167 1625411167089"),
            ("Wo wo Qo Mo Do do", "26th 28th 3rd 7th 4th 0th"),
            ("gggg GGGG ww WW", "2021 2021 28 26"),
            ("YYYYYY N NNNN y yo", "+002021 AD Anno Domini 2021 2021st"),
            ("kk:mm Hmmss hmmss", "08:06 80607 80607"),
            (r"[week w] \W", "week w W"),
        ] {
            assert_eq!(
                format(&at(d, "America/Los_Angeles"), Some(fmt)),
                expected,
                "{fmt}"
            );
        }
    }

    #[test]
    fn default_format_depends_on_the_offset() {
        assert_eq!(
            format(&at("2020-01-10T00:30:00Z", "UTC"), None),
            "2020-01-10T00:30:00Z"
        );
        assert_eq!(
            format(&at("2020-01-10T00:30:00Z", "Asia/Tokyo"), None),
            "2020-01-10T09:30:00+09:00"
        );
    }

    #[test]
    fn week_numbers_at_year_boundaries() {
        // (instant, en week, en week-year, ISO week, ISO week-year), from moment
        for (d, expected) in [
            ("2021-01-01T12:00:00Z", "1 2021 53 2020"),
            ("2020-12-31T12:00:00Z", "1 2021 53 2020"),
            ("2019-12-30T12:00:00Z", "1 2020 1 2020"),
            ("2024-12-29T12:00:00Z", "1 2025 52 2024"),
            ("2027-01-01T12:00:00Z", "1 2027 53 2026"),
        ] {
            assert_eq!(format(&at(d, "UTC"), Some("w gggg W GGGG")), expected, "{d}");
        }
    }

    /// The hand-written tokenizer splits exactly like moment's own regex.
    #[test]
    fn tokenizer_matches_the_moment_regex() {
        let re = regex::Regex::new(concat!(
            r"\[[^\[]*\]|\\?(?:[Hh]mm(?:ss)?|Mo|MM?M?M?|Do|DDDo|DD?D?D?|ddd?d?|do?|w[o|w]?|W[o|W]?|Qo?|",
            r"N{1,5}|YYYYYY|YYYYY|YYYY|YY|y{2,4}|yo?|gg(?:ggg?)?|GG(?:GGG?)?|e|E|a|A|hh?|HH?|kk?|mm?|ss?|",
            r"S{1,9}|x|X|zz?|ZZ?|.)"
        ))
        .unwrap();
        let samples = [
            "YYYYMMDD-HHmmss",
            "dddd, MMMM Do YYYY, h:mm:ss a",
            "YYYYYYY YYY Y yyyyy yo yy",
            "ggg gggg ggggg GGGGGG",
            "DDDDo DDDo DDo Do D",
            "ddddd dd do d",
            "w| wo ww W| Wo WW Qo Q",
            "NNNNNN SSSSSSSSSSS hmmsss Hmm hm",
            "[a]b]c [x[y] [open",
            r"\Y \\ \[ \",
            "zzz ZZZ kkk x X e E a A",
            "é[ü]ß\nline",
            "MMo Mo MMMMM",
            "LLLL lll LTS",
        ];
        for sample in samples {
            let expected: Vec<&str> = re.find_iter(sample).map(|m| m.as_str()).collect();
            assert_eq!(tokenize(sample), expected, "{sample:?}");
        }
    }

    #[test]
    fn local_formats_expand_like_moment() {
        for (format, expected) in [
            ("LTS", "h:mm:ss A"),
            ("L LL", "MM/DD/YYYY MMMM D, YYYY"),
            ("[LT] \\LT l", "[LT] \\LT M/D/YYYY"),
            ("LLLLL", "dddd, MMMM D, YYYY h:mm AMM/DD/YYYY"),
        ] {
            assert_eq!(expand_local(format), expected, "{format}");
        }
    }

    #[test]
    fn ordinals() {
        for (n, expected) in [
            (1, "1st"),
            (2, "2nd"),
            (3, "3rd"),
            (4, "4th"),
            (11, "11th"),
            (12, "12th"),
            (13, "13th"),
            (21, "21st"),
            (22, "22nd"),
            (101, "101st"),
            (111, "111th"),
        ] {
            assert_eq!(ordinal(n), expected);
        }
    }

    #[test]
    fn zone_names_are_case_insensitive() {
        assert!(zone("asia/tokyo").is_some());
        assert!(zone("utc").is_some());
        assert!(zone("Mars/Olympus").is_none());
    }
}
