//! Integration tests of approve-gate: the binary against the Prism-checked GitHub stand-in.

mod environment;
mod issue;
mod support;
