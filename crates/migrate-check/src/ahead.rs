//! Parsing ahead of the rules, on every core, in order, in bounded memory.
//!
//! Parsing is most of the work (the rules, the schema model and the reports are the rest), and the
//! rules must see statements in order because the schema model and the transaction state run forward.
//! So one reader thread cuts the scripts of a run into statements, in the order the engine will lint
//! them, and deals batches of statements round-robin to worker threads that parse them; the engine
//! takes the parsed batches back in the same round-robin order. The order is kept without any
//! reassembly, and every channel is bounded, so what is in memory is a few batches of a few kilobytes
//! of SQL each, however large the file or however many files.
//!
//! The reader also counts the statements of scripts whose transaction mode depends on the count (the
//! "prepass"), so the engine gets the count when the script starts, as it did when it counted itself.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};

use squawk_syntax::SourceFile;

use crate::error::Error;
use crate::framework::Script;
use crate::rules;
use crate::sql::split::Segment;

/// A packet is sent once it holds this much SQL text…
const BATCH_BYTES: usize = 16 * 1024;
/// …or this many statements. Small scripts share a packet: a thread hand-off per script would cost
/// more than parsing a short file.
const BATCH_PIECES: usize = 64;
/// Packets waiting in each worker's inbox and outbox.
const QUEUE: usize = 2;
/// At most this many parsing threads.
const MAX_WORKERS: usize = 4;

/// A statement (or a run of comments), with its parse and syntax errors.
pub(crate) struct Parsed {
    pub segment: Segment,
    pub parse: Option<(
        squawk_syntax::Parse<SourceFile>,
        Vec<squawk_syntax::syntax_error::SyntaxError>,
    )>,
}

/// Parses one piece; comment-only pieces are not parsed.
pub(crate) fn parse_segment(segment: Segment) -> Parsed {
    if segment.is_trivia() {
        return Parsed { segment, parse: None };
    }
    let parse = SourceFile::parse(&segment.text);
    // Validation (part of `errors`) runs here, on the parsing thread, with the rest of the parse.
    let errors = parse.errors();
    Parsed {
        parse: Some((parse, errors)),
        segment,
    }
}

/// A script the engine will read, in the order it will read it.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    /// The file.
    pub path: PathBuf,
    /// The script in it.
    pub script: Script,
    /// Whether the engine needs the statement count before the first statement (see
    /// [`Counts`]); `Some(pg_version)` when it does.
    pub count: Option<u32>,
}

/// Statements in a script, and those that cannot run inside a transaction.
pub(crate) type Counts = (usize, usize);

enum Input {
    Start(Option<Counts>),
    Segments(Vec<Segment>),
    Failed(Error),
    End,
}

enum Output {
    Start(Option<Counts>),
    Pieces(Vec<Parsed>),
    Failed(Error),
    End,
}

/// The parsing threads of a run and the engine's end of them.
pub(crate) struct Ahead {
    expected: VecDeque<(PathBuf, Script)>,
    outputs: Vec<Receiver<Vec<Output>>>,
    recycle: Vec<Sender<Vec<Parsed>>>,
    next: usize,
    /// The packet being read, and the worker it came from.
    packet: std::vec::IntoIter<Output>,
    packet_worker: usize,
    /// Statements of that packet the engine is done with.
    used: Vec<Parsed>,
}

impl std::fmt::Debug for Ahead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ahead")
            .field("workers", &self.outputs.len())
            .field("scripts_left", &self.expected.len())
            .finish_non_exhaustive()
    }
}

/// Starts a thread with a stack for the deepest statement [`crate::sql::depth`] lets through;
/// `false` when the system refused it.
fn spawn(f: impl FnOnce() + Send + 'static) -> bool {
    std::thread::Builder::new()
        .name("migrate-check-parse".to_owned())
        .stack_size(crate::sql::depth::STACK_SIZE)
        .spawn(f)
        .is_ok()
}

/// How many parsing threads: one per core, at least one, at most [`MAX_WORKERS`].
fn workers() -> usize {
    std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, MAX_WORKERS)
}

impl Ahead {
    /// Starts reading and parsing `jobs`, in order.
    pub(crate) fn start(jobs: Vec<Job>) -> Self {
        let expected = jobs.iter().map(|j| (j.path.clone(), j.script.clone())).collect();
        let n = workers();
        let mut inputs = Vec::with_capacity(n);
        let mut outputs = Vec::with_capacity(n);
        let mut recycle = Vec::with_capacity(n);
        let mut started = true;
        for _ in 0..n {
            let (to_worker, inbox) = sync_channel::<Vec<Input>>(QUEUE);
            let (outbox, from_worker) = sync_channel::<Vec<Output>>(QUEUE);
            let (give_back, returned) = channel::<Vec<Parsed>>();
            started &= spawn(move || work(&inbox, &outbox, &returned));
            inputs.push(to_worker);
            outputs.push(from_worker);
            recycle.push(give_back);
        }
        // The reader parses too (the statement counts).
        started = started && spawn(move || read(jobs, &inputs));
        Self {
            // Without every thread there is no plan: the engine parses each script in place.
            expected: if started { expected } else { VecDeque::new() },
            outputs,
            recycle,
            next: 0,
            packet: Vec::new().into_iter(),
            packet_worker: 0,
            used: Vec::new(),
        }
    }

    /// The next script's parsed statements, when it is `script` of `path`; `None` (and the threads are
    /// of no further use) when the engine reads something else than was planned.
    pub(crate) fn script(&mut self, path: &std::path::Path, script: &Script) -> Option<ScriptStream<'_>> {
        let (next_path, next_script) = self.expected.front()?;
        if next_path != path || next_script != script {
            self.expected.clear();
            return None;
        }
        self.expected.pop_front();
        Some(ScriptStream {
            path: path.to_path_buf(),
            ahead: self,
            batch: Vec::new().into_iter(),
            ended: false,
        })
    }

    /// Whether scripts announced are still to be read.
    pub(crate) fn has_more(&self) -> bool {
        !self.expected.is_empty()
    }

    fn recv(&mut self) -> Option<Output> {
        loop {
            if let Some(output) = self.packet.next() {
                return Some(output);
            }
            if !self.used.is_empty() {
                // A worker that is gone already freed what it had; this then is freed here.
                let _ = self.recycle[self.packet_worker].send(std::mem::take(&mut self.used));
            }
            let worker = self.next % self.outputs.len();
            self.packet = self.outputs[worker].recv().ok()?.into_iter();
            self.packet_worker = worker;
            self.next += 1;
        }
    }
}

/// One script's statements as they come back from the workers.
pub(crate) struct ScriptStream<'a> {
    path: PathBuf,
    ahead: &'a mut Ahead,
    batch: std::vec::IntoIter<Parsed>,
    ended: bool,
}

impl ScriptStream<'_> {
    /// The statement counts, when the job asked for them (or the error that stopped the reader).
    pub(crate) fn start(&mut self) -> Result<Option<Counts>, Error> {
        match self.ahead.recv() {
            Some(Output::Start(counts)) => Ok(counts),
            Some(Output::Failed(error)) => {
                self.drain();
                Err(error)
            }
            Some(Output::End) => {
                self.ended = true;
                Ok(None)
            }
            Some(Output::Pieces(_)) | None => {
                self.ended = true;
                Err(lost(&self.path))
            }
        }
    }

    /// Hands a statement back once the rules are done with it: it is freed on the thread that built
    /// it (freeing where memory was allocated keeps the threads off each other's allocator locks).
    pub(crate) fn give_back(&mut self, parsed: Parsed) {
        self.ahead.used.push(parsed);
    }

    fn drain(&mut self) {
        while !self.ended {
            match self.ahead.recv() {
                Some(Output::End) | None => self.ended = true,
                Some(_) => {}
            }
        }
    }
}

impl Iterator for ScriptStream<'_> {
    type Item = Result<Parsed, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(parsed) = self.batch.next() {
                return Some(Ok(parsed));
            }
            if self.ended {
                return None;
            }
            match self.ahead.recv() {
                Some(Output::Pieces(pieces)) => self.batch = pieces.into_iter(),
                Some(Output::End) => {
                    self.ended = true;
                    return None;
                }
                Some(Output::Failed(error)) => {
                    self.drain();
                    return Some(Err(error));
                }
                Some(Output::Start(_)) | None => {
                    self.ended = true;
                    return Some(Err(lost(&self.path)));
                }
            }
        }
    }
}

impl Drop for ScriptStream<'_> {
    fn drop(&mut self) {
        // Keeps the stream in step when the engine stops reading a script early.
        self.drain();
    }
}

fn lost(path: &std::path::Path) -> Error {
    Error::io(
        path,
        std::io::Error::other("the parsing threads stopped before the end of the script"),
    )
}

/// Deals packets round-robin to the workers, a packet once it holds enough statements.
struct Dealer<'a> {
    inputs: &'a [SyncSender<Vec<Input>>],
    next: usize,
    packet: Vec<Input>,
    bytes: usize,
    pieces: usize,
}

impl Dealer<'_> {
    /// Adds to the packet; `false` when the engine is gone.
    fn push(&mut self, input: Input) -> bool {
        if let Input::Segments(segments) = &input {
            self.bytes += segments.iter().map(|s| s.text.len()).sum::<usize>();
            self.pieces += segments.len();
        }
        self.packet.push(input);
        if self.bytes >= BATCH_BYTES || self.pieces >= BATCH_PIECES {
            return self.send();
        }
        true
    }

    fn send(&mut self) -> bool {
        if self.packet.is_empty() {
            return true;
        }
        let packet = std::mem::take(&mut self.packet);
        (self.bytes, self.pieces) = (0, 0);
        let ok = self.inputs[self.next % self.inputs.len()].send(packet).is_ok();
        self.next += 1;
        ok
    }
}

/// The reader: cuts each script into statements, in order.
fn read(jobs: Vec<Job>, inputs: &[SyncSender<Vec<Input>>]) {
    let mut dealer = Dealer {
        inputs,
        next: 0,
        packet: Vec::new(),
        bytes: 0,
        pieces: 0,
    };
    for job in jobs {
        if !read_job(&job, &mut dealer) {
            return;
        }
    }
    dealer.send();
}

/// Reads one script; `false` when the engine is gone.
fn read_job(job: &Job, dealer: &mut Dealer<'_>) -> bool {
    let counts = match job.count.map(|pg| count(job, pg)).transpose() {
        Ok(counts) => counts,
        Err(error) => return dealer.push(Input::Failed(error)) && dealer.push(Input::End),
    };
    if !dealer.push(Input::Start(counts)) {
        return false;
    }
    let pieces = match crate::lint::segments_at(&job.path, &job.script) {
        Ok(pieces) => pieces,
        Err(error) => return dealer.push(Input::Failed(error)) && dealer.push(Input::End),
    };
    let mut batch = Vec::new();
    let mut bytes = 0;
    for piece in pieces {
        match piece {
            Ok(segment) => {
                bytes += segment.text.len();
                batch.push(segment);
                if bytes + dealer.bytes >= BATCH_BYTES || batch.len() + dealer.pieces >= BATCH_PIECES {
                    if !dealer.push(Input::Segments(std::mem::take(&mut batch))) {
                        return false;
                    }
                    bytes = 0;
                }
            }
            Err(error) => {
                if !batch.is_empty() && !dealer.push(Input::Segments(std::mem::take(&mut batch))) {
                    return false;
                }
                return dealer.push(Input::Failed(Error::io(&job.path, error))) && dealer.push(Input::End);
            }
        }
    }
    if !batch.is_empty() && !dealer.push(Input::Segments(batch)) {
        return false;
    }
    dealer.push(Input::End)
}

/// A worker: parses batches, passes everything else through, frees what comes back.
fn work(inbox: &Receiver<Vec<Input>>, outbox: &SyncSender<Vec<Output>>, returned: &Receiver<Vec<Parsed>>) {
    for packet in inbox {
        while let Ok(done) = returned.try_recv() {
            drop(done);
        }
        let output = packet
            .into_iter()
            .map(|input| match input {
                Input::Start(counts) => Output::Start(counts),
                Input::Segments(segments) => {
                    Output::Pieces(segments.into_iter().map(parse_segment).collect())
                }
                Input::Failed(error) => Output::Failed(error),
                Input::End => Output::End,
            })
            .collect();
        // A closed outbox means the engine stopped early: stop too.
        if outbox.send(output).is_err() {
            return;
        }
    }
}

/// Counts a script's statements and those that cannot run in a transaction, without linting.
pub(crate) fn count(job: &Job, pg_version: u32) -> Result<Counts, Error> {
    let (mut statements, mut non_tx) = (0, 0);
    for segment in crate::lint::segments_at(&job.path, &job.script)? {
        let segment = segment.map_err(|e| Error::io(&job.path, e))?;
        if segment.is_trivia() {
            continue;
        }
        for stmt in SourceFile::parse(&segment.text).tree().stmts() {
            statements += 1;
            if rules::non_transactional(&stmt, pg_version).is_some() {
                non_tx += 1;
            }
        }
    }
    Ok((statements, non_tx))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::{Direction, TxMode};

    fn job(dir: &std::path::Path, name: &str, count: Option<u32>) -> Job {
        Job {
            path: dir.join(name),
            script: Script::file(name, TxMode::Implicit, Direction::Up),
            count,
        }
    }

    fn texts(stream: ScriptStream<'_>) -> Vec<String> {
        stream
            .map(|p| p.map(|p| p.segment.text).expect("parsed"))
            .collect()
    }

    #[test]
    fn statements_come_back_in_order_across_scripts_and_packets() {
        let dir = tempfile::tempdir().unwrap();
        let big: String = (0..3000)
            .map(|i| format!("create table t{i} (id int);\n"))
            .collect();
        std::fs::write(dir.path().join("a.sql"), "select 1;\n-- only a comment\n").unwrap();
        std::fs::write(dir.path().join("b.sql"), &big).unwrap();
        std::fs::write(
            dir.path().join("c.sql"),
            "create index concurrently i on t (a);\nselect 2;",
        )
        .unwrap();
        let jobs = vec![
            job(dir.path(), "a.sql", None),
            job(dir.path(), "b.sql", None),
            job(dir.path(), "c.sql", Some(16)),
        ];
        let mut ahead = Ahead::start(jobs.clone());
        for job in &jobs {
            let mut stream = ahead.script(&job.path, &job.script).expect("planned");
            let counts = stream.start().unwrap();
            assert_eq!(counts, job.count.map(|pg| count(job, pg).unwrap()));
            let expected: Vec<String> = crate::lint::segments_at(&job.path, &job.script)
                .unwrap()
                .map(|s| s.unwrap().text)
                .collect();
            assert_eq!(texts(stream), expected, "{}", job.path.display());
        }
        assert!(!ahead.has_more());
        assert_eq!(count(&jobs[2], 16).unwrap(), (2, 1));
    }

    #[test]
    fn a_missing_file_is_an_error_for_its_script_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.sql"), "select 1;").unwrap();
        let jobs = vec![
            job(dir.path(), "missing.sql", None),
            job(dir.path(), "b.sql", None),
        ];
        let mut ahead = Ahead::start(jobs.clone());
        let error = {
            let mut stream = ahead.script(&jobs[0].path, &jobs[0].script).unwrap();
            match stream.start() {
                Err(error) => error.to_string(),
                Ok(_) => stream
                    .find_map(Result::err)
                    .map(|e| e.to_string())
                    .unwrap_or_default(),
            }
        };
        assert!(error.contains("missing.sql"), "{error}");
        let mut stream = ahead.script(&jobs[1].path, &jobs[1].script).unwrap();
        assert_eq!(stream.start().unwrap(), None);
        assert_eq!(texts(stream), vec!["select 1;".to_owned()]);
    }

    #[test]
    fn reading_another_script_than_planned_abandons_the_plan() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.sql"), "select 1;").unwrap();
        std::fs::write(dir.path().join("b.sql"), "select 2;").unwrap();
        let jobs = vec![job(dir.path(), "a.sql", None), job(dir.path(), "b.sql", None)];
        let mut ahead = Ahead::start(jobs.clone());
        assert!(ahead.script(&jobs[1].path, &jobs[1].script).is_none());
        assert!(!ahead.has_more());
        assert!(ahead.script(&jobs[0].path, &jobs[0].script).is_none());
    }

    #[test]
    fn a_script_left_early_keeps_the_next_one_in_step() {
        let dir = tempfile::tempdir().unwrap();
        let many: String = (0..500).map(|i| format!("select {i};\n")).collect();
        std::fs::write(dir.path().join("a.sql"), many).unwrap();
        std::fs::write(dir.path().join("b.sql"), "select 'b';").unwrap();
        let jobs = vec![job(dir.path(), "a.sql", None), job(dir.path(), "b.sql", None)];
        let mut ahead = Ahead::start(jobs.clone());
        {
            let mut stream = ahead.script(&jobs[0].path, &jobs[0].script).unwrap();
            stream.start().unwrap();
            assert!(stream.next().is_some());
        }
        let mut stream = ahead.script(&jobs[1].path, &jobs[1].script).unwrap();
        stream.start().unwrap();
        assert_eq!(texts(stream), vec!["select 'b';".to_owned()]);
    }
}
