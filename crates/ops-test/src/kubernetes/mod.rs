//! A stand-in for the Kubernetes API: the official description its exchanges are held to.

pub mod contract;
