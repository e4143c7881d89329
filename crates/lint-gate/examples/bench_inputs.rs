//! Inputs and reference timings for `scripts/bench-lint-gate` (not part of the tool).
//!
//! - `sarif PATH FILES PER_FILE BYTES [FIRST]`: a SARIF log with `FILES × PER_FILE` results (lines
//!   FIRST…FIRST+PER_FILE-1 of `src/fNNNN.rs`, FIRST defaults to 1), messages padded so the file is
//!   about `BYTES` long;
//! - `checkstyle PATH FILES PER_FILE BYTES`: the same as checkstyle XML;
//! - `parse-json PATH`: seconds to merely parse the file with serde_json, streaming from a buffered
//!   reader (`from_reader`) and from memory (`from_slice`, after reading the whole file);
//! - `parse-xml PATH`: seconds to read every event with quick-xml from a buffered reader;
//! - `parse-xml-attributes PATH`: the same, also iterating every attribute of every element as
//!   quick-xml offers them (`attributes()`, with its duplicate check) without unescaping values: the
//!   least a reader of checkstyle XML, whose findings are all attributes, has to do.

#![expect(clippy::print_stdout, reason = "a benchmark helper prints its figures")]

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize| -> Result<usize, Box<dyn std::error::Error>> {
        Ok(args.get(i).ok_or("missing argument")?.parse()?)
    };
    match args.first().map(String::as_str) {
        Some("sarif") => sarif(
            &args[1],
            number(2)?,
            number(3)?,
            number(4)?,
            number(5).unwrap_or(1),
        ),
        Some("checkstyle") => checkstyle(&args[1], number(2)?, number(3)?, number(4)?),
        Some("parse-json") => parse_json(&args[1]),
        Some("parse-xml") => parse_xml(&args[1]),
        Some("parse-xml-attributes") => parse_xml_attributes(&args[1]),
        _ => Err("usage: bench_inputs sarif|checkstyle PATH FILES PER_FILE BYTES | parse-json PATH | parse-xml PATH | parse-xml-attributes PATH".into()),
    }
}

fn sarif(
    path: &str,
    files: usize,
    per_file: usize,
    bytes: usize,
    first: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let result = |file: usize, line: usize, pad: &str| {
        format!(
            r#"{{"ruleId":"R{}","level":"{}","message":{{"text":"finding {line}{pad}"}},"locations":[{{"physicalLocation":{{"artifactLocation":{{"uri":"src/f{file:04}.rs","uriBaseId":"%SRCROOT%"}},"region":{{"startLine":{line},"startColumn":5}}}}}}]}}"#,
            line % 7,
            ["error", "warning", "note"][line % 3]
        )
    };
    let first_line = first.max(1);
    let total = files * per_file;
    let plain = result(500, 250, "").len() + 1;
    let pad = " ".repeat((bytes / total).saturating_sub(plain));
    let mut out = BufWriter::new(File::create(path)?);
    write!(
        out,
        r#"{{"$schema":"https://json.schemastore.org/sarif-2.1.0.json","version":"2.1.0","runs":[{{"tool":{{"driver":{{"name":"bench","rules":["#
    )?;
    for r in 0..7 {
        if r > 0 {
            write!(out, ",")?;
        }
        write!(out, r#"{{"id":"R{r}","shortDescription":{{"text":"rule {r}"}}}}"#)?;
    }
    write!(out, r#"]}}}},"results":["#)?;
    let mut first = true;
    for file in 0..files {
        for line in first_line..first_line + per_file {
            if !first {
                writeln!(out, ",")?;
            }
            first = false;
            out.write_all(result(file, line, &pad).as_bytes())?;
        }
    }
    writeln!(out, "]}}]}}")?;
    out.flush()?;
    println!("{total} results, {} bytes", std::fs::metadata(path)?.len());
    Ok(())
}

fn checkstyle(
    path: &str,
    files: usize,
    per_file: usize,
    bytes: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let error = |line: usize, pad: &str| {
        format!(
            r#"<error line="{line}" column="5" severity="{}" message="finding {line}{pad}" source="R{}"/>"#,
            ["error", "warning", "info"][line % 3],
            line % 7
        )
    };
    let total = files * per_file;
    let plain = error(250, "").len() + 3 + 40 / per_file.max(1);
    let pad = " ".repeat((bytes / total).saturating_sub(plain));
    let mut out = BufWriter::new(File::create(path)?);
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(out, r#"<checkstyle version="8.0">"#)?;
    for file in 0..files {
        writeln!(out, r#"<file name="src/f{file:04}.rs">"#)?;
        for line in 1..=per_file {
            writeln!(out, "  {}", error(line, &pad))?;
        }
        writeln!(out, "</file>")?;
    }
    writeln!(out, "</checkstyle>")?;
    out.flush()?;
    println!("{total} errors, {} bytes", std::fs::metadata(path)?.len());
    Ok(())
}

fn parse_json(path: &str) -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let reader = BufReader::with_capacity(64 * 1024, File::open(path)?);
    let _: serde::de::IgnoredAny = serde_json::from_reader(reader)?;
    let streaming = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let bytes = std::fs::read(path)?;
    let _: serde::de::IgnoredAny = serde_json::from_slice(&bytes)?;
    let slice = start.elapsed().as_secs_f64();
    println!("serde_json from_reader {streaming:.3} s, from_slice (read + parse) {slice:.3} s");
    Ok(())
}

fn parse_xml(path: &str) -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let mut reader = quick_xml::Reader::from_reader(BufReader::with_capacity(64 * 1024, File::open(path)?));
    let mut buf = Vec::new();
    let mut events = 0u64;
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf)? {
            quick_xml::events::Event::Eof => break,
            _ => events += 1,
        }
    }
    println!(
        "quick-xml events {:.3} s ({events} events)",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn parse_xml_attributes(path: &str) -> Result<(), Box<dyn std::error::Error>> {
    use quick_xml::events::Event;
    let start = Instant::now();
    let mut reader = quick_xml::Reader::from_reader(BufReader::with_capacity(64 * 1024, File::open(path)?));
    let mut buf = Vec::new();
    let (mut events, mut attributes, mut value_bytes) = (0u64, 0u64, 0usize);
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf)? {
            Event::Eof => break,
            Event::Start(element) | Event::Empty(element) => {
                events += 1;
                for attribute in element.attributes() {
                    // the value is used, so the loop cannot be optimised away
                    value_bytes += attribute?.value.len();
                    attributes += 1;
                }
            }
            _ => events += 1,
        }
    }
    println!(
        "quick-xml events and attributes {:.3} s ({events} events, {attributes} attributes, {value_bytes} value bytes)",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
