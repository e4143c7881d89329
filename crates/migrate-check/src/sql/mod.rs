//! SQL text: statement splitting, names, types, and parsing one statement at a time.

pub mod depth;
pub mod locks;
pub mod names;
pub mod split;
pub mod types;
